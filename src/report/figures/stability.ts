import type { TopLevelSpec } from "vega-lite";
import { DIRECTION_COLOURS, FIGURE_CONFIG } from "../figure-theme.js";
import { percent } from "../labels.js";

/** The agreement of one perturbed ranking with the unperturbed one, in one direction. */
export interface StabilityRow {
  readonly direction: string;
  /** Perturbation kind, e.g. "gaussian". */
  readonly kind: string;
  readonly strength: number;
  readonly rho: number;
  readonly low: number;
  readonly high: number;
  /** The perturbation costs more accuracy than allowed: its ranking is of a broken model. */
  readonly flagged: boolean;
}

/**
 * Figure 3: Spearman ρ between the perturbed and the unperturbed head ranking with its bootstrap
 * CI, per perturbation strength (x), one panel per kind, colour per direction; accuracy-flagged
 * perturbations are drawn as crosses.
 *
 * @example
 * const spec = stabilitySpec(rows, { level: 0.95 });
 */
export function stabilitySpec(
  rows: readonly StabilityRow[],
  options: { readonly level: number },
): TopLevelSpec {
  const directions = [...new Set(rows.map((r) => r.direction))];
  const ok = "accuracy kept";
  const broken = "accuracy dropped (flagged)";
  const values = rows.map((r) => ({
    ...r,
    validity: r.flagged ? broken : ok,
    strengthLabel: String(r.strength),
  }));
  const x = {
    field: "strengthLabel",
    type: "ordinal",
    title: "perturbation strength (σ × channel std, warp, or steps)",
    sort: null,
    axis: { labelAngle: 0 },
  } as const;
  const colour = {
    field: "direction",
    type: "nominal",
    title: "direction",
    scale: { domain: directions, range: DIRECTION_COLOURS },
    legend: { orient: "bottom", direction: "horizontal" },
  } as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "Stability of the head ranking under input perturbations",
      subtitle: `Spearman ρ with the unperturbed ranking, ${percent(options.level)} bootstrap CI over units`,
    },
    data: { values },
    facet: { column: { field: "kind", type: "nominal", title: null, sort: null } },
    // Each kind has its own strengths (σ, warp, steps): a shared axis leaves most of every panel empty.
    resolve: { scale: { x: "independent" } },
    spec: {
      width: { step: 48 },
      height: 220,
      layer: [
        {
          mark: { type: "rule", strokeWidth: 1.5 },
          encoding: {
            x,
            xOffset: { field: "direction", type: "nominal", sort: directions },
            y: {
              field: "low",
              type: "quantitative",
              title: "Spearman ρ (rank correlation)",
              scale: { domain: [-1, 1] },
            },
            y2: { field: "high" },
            color: colour,
          },
        },
        {
          mark: { type: "point", filled: true, size: 70, opacity: 1 },
          encoding: {
            x,
            xOffset: { field: "direction", type: "nominal", sort: directions },
            y: { field: "rho", type: "quantitative" },
            color: colour,
            shape: {
              field: "validity",
              type: "nominal",
              title: null,
              scale: { domain: [ok, broken], range: ["circle", "cross"] },
              legend: { orient: "bottom", direction: "horizontal", labelLimit: 300 },
            },
            tooltip: [
              { field: "kind" },
              { field: "strength" },
              { field: "direction" },
              { field: "rho", format: ".3f" },
              { field: "low", format: ".3f" },
              { field: "high", format: ".3f" },
              { field: "validity" },
            ],
          },
        },
      ],
    },
    config: FIGURE_CONFIG,
  };
}
