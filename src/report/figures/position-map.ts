import type { TopLevelSpec } from "vega-lite";
import { DIVERGING_SCHEME, FIGURE_CONFIG, legendTitle } from "../figure-theme.js";
import { symmetricDomain } from "./head-importance.js";

/** One (head, time step) cell of the head × position sweep in one direction. */
export interface PositionMapCell {
  readonly direction: string;
  /** Display name, e.g. "L0H3". */
  readonly head: string;
  readonly position: number;
  /** Mean effect, or null where no unit has this step real in both inputs (padding: not applicable). */
  readonly mean: number | null;
  readonly significant: boolean;
}

export interface PositionMapOptions {
  readonly effectLabel: string;
  readonly correctionLabel: string;
}

/**
 * The timestep × head map: the mean effect of patching one head at one time step, one panel per
 * direction (stacked, time runs left to right). Cells never patchable (padding in every pair) are
 * grey; cells significant after correction carry a black dot.
 *
 * @example
 * const spec = positionMapSpec(cells, { effectLabel: "mean ΔP(true)", correctionLabel: "BH" });
 */
export function positionMapSpec(
  cells: readonly PositionMapCell[],
  options: PositionMapOptions,
): TopLevelSpec {
  const order = [...new Set(cells.map((c) => c.head))];
  const positions = cells.reduce((m, c) => Math.max(m, c.position + 1), 1);
  const x = {
    field: "position",
    type: "ordinal",
    title: "time step (model position, 0 = first step)",
  } as const;
  const y = { field: "head", type: "nominal", title: "head", sort: order } as const;
  const means = cells.flatMap((c) => (c.mean === null ? [] : [c.mean]));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "Where in time each head matters",
      subtitle: [
        `${options.effectLabel} when one head is patched at one time step`,
        `black dot = significant (${options.correctionLabel})${cells.some((c) => c.mean === null) ? "; grey = padding in every pair (not applicable)" : ""}`,
      ],
    },
    data: { values: cells.map((c) => ({ ...c })) },
    facet: { row: { field: "direction", type: "nominal", title: null, sort: null } },
    spec: {
      width: Math.max(240, Math.min(720, positions * 14)),
      height: { step: 10 },
      layer: [
        {
          transform: [{ filter: "datum.mean === null" }],
          mark: { type: "rect", color: "#bdbdbd" },
          encoding: { x, y },
        },
        {
          transform: [{ filter: "datum.mean !== null" }],
          mark: "rect",
          encoding: {
            x,
            y,
            color: {
              field: "mean",
              type: "quantitative",
              title: legendTitle(options.effectLabel),
              scale: { scheme: DIVERGING_SCHEME, domain: symmetricDomain(means) },
              legend: { orient: "right", gradientLength: 120 },
            },
            tooltip: [{ field: "head" }, { field: "position" }, { field: "mean", format: ".4f" }],
          },
        },
        {
          transform: [{ filter: "datum.significant" }],
          mark: {
            type: "point",
            shape: "circle",
            filled: true,
            fill: "black",
            stroke: "white",
            size: 14,
            opacity: 1,
          },
          encoding: { x, y },
        },
      ],
    },
    config: {
      ...FIGURE_CONFIG,
      axisX: { labelAngle: 0, labelExpr: `datum.value % 5 === 0 ? datum.label : ""`, ticks: true },
    },
  };
}
