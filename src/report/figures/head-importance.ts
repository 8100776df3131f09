import type { TopLevelSpec } from "vega-lite";
import {
  DIVERGING_SCHEME,
  FIGURE_CONFIG,
  legendTitle,
  SIGNIFICANCE_SHAPES as SHAPES,
} from "../figure-theme.js";

/** One head's result in one direction. */
export interface HeadImportanceCell {
  readonly direction: string;
  readonly layer: number;
  readonly head: number;
  /** Mean effect over the units of analysis, in the metric's units. */
  readonly mean: number;
  /** Significant after the plan's correction. */
  readonly significant: boolean;
  /** Significant at alpha without correction. */
  readonly significantNaive: boolean;
}

export interface HeadImportanceOptions {
  /** The metric's label with its unit, e.g. "mean ΔP(true) (probability)". */
  readonly effectLabel: string;
  /** The correction's name for the legend, e.g. "Benjamini-Hochberg". */
  readonly correctionLabel: string;
}

/**
 * Figure 1: mean effect per head as a layer × head heatmap, one panel per direction, a filled
 * diamond on heads significant after correction and an open circle on heads significant only
 * without it.
 *
 * @example
 * const spec = headImportanceSpec(cells, { effectLabel: "mean ΔP(true)", correctionLabel: "BH" });
 */
export function headImportanceSpec(
  cells: readonly HeadImportanceCell[],
  options: HeadImportanceOptions,
): TopLevelSpec {
  const values = cells.map((c) => ({
    direction: c.direction,
    layer: c.layer,
    head: c.head,
    mean: c.mean,
    mark: c.significant
      ? `significant (${options.correctionLabel})`
      : c.significantNaive
        ? "significant uncorrected only"
        : null,
  }));
  const marks = [`significant (${options.correctionLabel})`, "significant uncorrected only"];
  const layer = { field: "layer", type: "ordinal", title: "layer" } as const;
  const head = { field: "head", type: "ordinal", title: "head", axis: { labelAngle: 0 } } as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "Head importance", subtitle: `${options.effectLabel} when the head is patched` },
    data: { values },
    facet: { column: { field: "direction", type: "nominal", title: null, sort: null } },
    spec: {
      width: 34 * Math.max(1, maxOf(cells, (c) => c.head) + 1),
      height: 34 * Math.max(1, maxOf(cells, (c) => c.layer) + 1),
      layer: [
        {
          mark: { type: "rect", stroke: "white", strokeWidth: 0.5 },
          encoding: {
            x: head,
            y: layer,
            color: {
              field: "mean",
              type: "quantitative",
              title: legendTitle(options.effectLabel),
              scale: { scheme: DIVERGING_SCHEME, domain: symmetricDomain(cells.map((c) => c.mean)) },
              legend: { orient: "right", gradientLength: 120 },
            },
            tooltip: [
              { field: "direction" },
              { field: "layer" },
              { field: "head" },
              { field: "mean", format: ".4f" },
            ],
          },
        },
        {
          transform: [{ filter: "datum.mark !== null" }],
          mark: { type: "point", stroke: "black", strokeWidth: 1.2, size: 90, opacity: 1 },
          encoding: {
            x: head,
            y: layer,
            shape: { field: "mark", type: "nominal", title: null, scale: { domain: marks, range: SHAPES } },
            fill: {
              field: "mark",
              type: "nominal",
              title: null,
              scale: { domain: marks, range: ["black", "white"] },
              legend: { orient: "bottom", direction: "horizontal", labelLimit: 400 },
            },
          },
        },
      ],
    },
    resolve: { scale: { color: "shared" } },
    config: FIGURE_CONFIG,
  };
}

/** A colour domain centred on zero, so equal colour intensity means equal magnitude either side. */
export function symmetricDomain(values: readonly number[]): [number, number] {
  const m = values.reduce((acc, v) => (Number.isFinite(v) ? Math.max(acc, Math.abs(v)) : acc), 0);
  return m > 0 ? [-m, m] : [-1, 1];
}

function maxOf<T>(items: readonly T[], pick: (item: T) => number): number {
  return items.reduce((m, item) => Math.max(m, pick(item)), 0);
}
