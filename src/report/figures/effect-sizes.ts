import type { TopLevelSpec } from "vega-lite";
import { FIGURE_CONFIG, SIGNIFICANCE_SHAPES } from "../figure-theme.js";
import { percent } from "../labels.js";

/** One component's standardised effect in one direction. */
export interface EffectSizeRow {
  readonly direction: string;
  /** Display name, e.g. "L0H3". */
  readonly name: string;
  readonly dz: number;
  readonly low: number;
  readonly high: number;
  /** Significant after the plan's correction. */
  readonly significant: boolean;
}

export interface EffectSizeOptions {
  /** Confidence level of the intervals, e.g. 0.95. */
  readonly level: number;
  /** The correction's name for the legend, e.g. "Benjamini-Hochberg". */
  readonly correctionLabel: string;
}

/**
 * Figure 4: a forest plot of Cohen's d_z with its confidence interval per component, one panel per
 * direction, components in the given order (top to bottom); filled diamonds are significant after
 * correction, open circles are not. A vertical rule marks zero.
 *
 * @example
 * const spec = effectSizeSpec(rows, { level: 0.95, correctionLabel: "BH" });
 */
export function effectSizeSpec(rows: readonly EffectSizeRow[], options: EffectSizeOptions): TopLevelSpec {
  const yes = `significant (${options.correctionLabel})`;
  const no = "not significant";
  const values = rows.map((r) => ({ ...r, mark: r.significant ? yes : no }));
  const order = [...new Set(rows.map((r) => r.name))];
  const y = { field: "name", type: "nominal", title: null, sort: order } as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "Effect sizes",
      subtitle: `Cohen's d_z (mean effect / SD of the per-unit effects) with ${percent(options.level)} CI`,
    },
    data: { values },
    facet: { column: { field: "direction", type: "nominal", title: null, sort: null } },
    spec: {
      width: 260,
      height: { step: 14 },
      layer: [
        {
          data: { values: [{ zero: 0 }] },
          mark: { type: "rule", color: "#777", strokeDash: [4, 3] },
          encoding: { x: { field: "zero", type: "quantitative" } },
        },
        {
          mark: { type: "rule", color: "#333" },
          encoding: {
            y,
            x: { field: "low", type: "quantitative", title: "Cohen's d_z (standard deviations)" },
            x2: { field: "high" },
          },
        },
        {
          mark: { type: "point", stroke: "black", strokeWidth: 1.2, size: 50, opacity: 1 },
          encoding: {
            y,
            x: { field: "dz", type: "quantitative" },
            shape: {
              field: "mark",
              type: "nominal",
              title: null,
              scale: { domain: [yes, no], range: SIGNIFICANCE_SHAPES },
            },
            fill: {
              field: "mark",
              type: "nominal",
              title: null,
              scale: { domain: [yes, no], range: ["black", "white"] },
              legend: { orient: "bottom", direction: "horizontal", labelLimit: 400 },
            },
            tooltip: [
              { field: "name" },
              { field: "dz", format: ".3f" },
              { field: "low", format: ".3f" },
              { field: "high", format: ".3f" },
            ],
          },
        },
      ],
    },
    config: FIGURE_CONFIG,
  };
}
