import type { TopLevelSpec } from "vega-lite";
import { DIRECTION_COLOURS, FIGURE_CONFIG } from "../figure-theme.js";
import { percent } from "../labels.js";

/** One head's mean effect by exact patching and by attribution patching, in one direction. */
export interface AtpScatterRow {
  readonly direction: string;
  readonly name: string;
  readonly exact: number;
  readonly atp: number;
}

/** One baseline's rank agreement with exact patching in one direction. */
export interface BaselineRhoRow {
  readonly direction: string;
  readonly baseline: string;
  readonly rho: number;
  readonly low: number;
  readonly high: number;
}

/**
 * Figure 2a: attribution patching against exact patching per head (mean over units), with the
 * identity line; points on the diagonal are heads AtP gets right. One panel per direction.
 *
 * @example
 * const spec = atpScatterSpec(rows, { effectLabel: "mean ΔP(true) (probability)" });
 */
export function atpScatterSpec(
  rows: readonly AtpScatterRow[],
  options: { readonly effectLabel: string },
): TopLevelSpec {
  const all = rows.flatMap((r) => [r.exact, r.atp]);
  const lo = Math.min(0, ...all);
  const hi = Math.max(0, ...all);
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "Attribution patching vs exact patching",
      subtitle: "one point per head; dashed: AtP = exact",
    },
    data: { values: rows.map((r) => ({ ...r })) },
    facet: { column: { field: "direction", type: "nominal", title: null, sort: null } },
    spec: {
      width: 240,
      height: 240,
      layer: [
        {
          data: {
            values: [
              { a: lo, b: lo },
              { a: hi, b: hi },
            ],
          },
          mark: { type: "line", color: "#777", strokeDash: [4, 3] },
          encoding: { x: { field: "a", type: "quantitative" }, y: { field: "b", type: "quantitative" } },
        },
        {
          mark: { type: "point", filled: true, size: 40, color: DIRECTION_COLOURS[0], opacity: 0.85 },
          encoding: {
            x: {
              field: "exact",
              type: "quantitative",
              title: `exact: ${options.effectLabel}`,
              scale: { domain: [lo, hi] },
            },
            y: {
              field: "atp",
              type: "quantitative",
              title: `AtP: ${options.effectLabel}`,
              scale: { domain: [lo, hi] },
            },
            tooltip: [{ field: "name" }, { field: "exact", format: ".4f" }, { field: "atp", format: ".4f" }],
          },
        },
      ],
    },
    config: FIGURE_CONFIG,
  };
}

/**
 * Figure 2b: each baseline's Spearman ρ with exact patching (per-head means over units) with its
 * bootstrap CI, one row per baseline, colour and shape per direction. A rule marks ρ = 0.
 *
 * @example
 * const spec = baselineRhoSpec(rows, { level: 0.95 });
 */
export function baselineRhoSpec(
  rows: readonly BaselineRhoRow[],
  options: { readonly level: number },
): TopLevelSpec {
  const directions = [...new Set(rows.map((r) => r.direction))];
  const y = {
    field: "baseline",
    type: "nominal",
    title: null,
    sort: [...new Set(rows.map((r) => r.baseline))],
  } as const;
  const yOffset = { field: "direction", type: "nominal", sort: directions } as const;
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
      text: "Agreement of each baseline with exact patching",
      subtitle: `Spearman ρ of per-head means over units, ${percent(options.level)} bootstrap CI`,
    },
    data: { values: rows.map((r) => ({ ...r })) },
    width: 360,
    height: { step: 24 },
    layer: [
      {
        data: { values: [{ zero: 0 }] },
        mark: { type: "rule", color: "#777", strokeDash: [4, 3] },
        encoding: { x: { field: "zero", type: "quantitative" } },
      },
      {
        mark: { type: "rule", strokeWidth: 1.5 },
        encoding: {
          y,
          yOffset,
          x: {
            field: "low",
            type: "quantitative",
            title: "Spearman ρ with exact patching (rank correlation)",
            scale: { domain: [-1, 1] },
          },
          x2: { field: "high" },
          color: colour,
        },
      },
      {
        mark: { type: "point", filled: true, size: 60, opacity: 1 },
        encoding: {
          y,
          yOffset,
          x: { field: "rho", type: "quantitative" },
          color: colour,
          shape: {
            field: "direction",
            type: "nominal",
            scale: { domain: directions, range: ["circle", "square"] },
          },
          tooltip: [
            { field: "baseline" },
            { field: "direction" },
            { field: "rho", format: ".3f" },
            { field: "low", format: ".3f" },
            { field: "high", format: ".3f" },
          ],
        },
      },
    ],
    config: FIGURE_CONFIG,
  };
}
