import type { DirectionResults } from "./results-schema.js";

const COLUMNS = [
  "direction",
  "kind",
  "component",
  "layer",
  "head",
  "position",
  "n",
  "mean",
  "sd",
  "ci_low",
  "ci_high",
  "cluster_ci_low",
  "cluster_ci_high",
  "t",
  "df",
  "p_t",
  "p_wilcoxon",
  "pseudo_median",
  "p_sign_flip",
  "p",
  "p_adj",
  "d_z",
  "d_z_ci_low",
  "d_z_ci_high",
  "g_z",
  "significant_naive",
  "significant_corrected",
  "status",
] as const;

/**
 * stats.csv: one line per direction × component (head × position cells with the map's fields);
 * an empty cell is an undefined value. `status` is the component's important / negligible /
 * inconclusive verdict under the plan's SESOI (stats/importance.ts); empty for the head × position
 * cells, which get a t-test per cell only.
 *
 * @example
 * writeFileAtomic("runs/jv/stats.csv", statsCsv(results.directions));
 */
export function statsCsv(directions: readonly DirectionResults[], alpha: number): string {
  const lines: string[] = [COLUMNS.join(",")];
  const cell = (v: number | string | boolean | null | undefined) =>
    v === null || v === undefined ? "" : String(v);
  for (const d of directions) {
    for (const k of d.kinds) {
      for (const c of k.components) {
        lines.push(
          [
            d.direction,
            k.kind,
            c.name,
            c.layer,
            c.head,
            null,
            c.n,
            c.mean,
            c.sd,
            c.ci.low,
            c.ci.high,
            c.cluster_ci?.low,
            c.cluster_ci?.high,
            c.t,
            c.df,
            c.p_t,
            c.p_wilcoxon,
            c.pseudo_median,
            c.p_sign_flip,
            c.p,
            c.p_adj,
            c.d_z,
            c.d_z_ci.low,
            c.d_z_ci.high,
            c.g_z,
            c.significant_naive,
            c.significant_corrected,
            c.status,
          ]
            .map(cell)
            .join(","),
        );
      }
      for (const m of k.map?.cells ?? []) {
        const row: Record<string, number | string | boolean | null> = {
          direction: d.direction,
          kind: k.kind,
          component: `L${m.layer}H${m.head}@t${m.position}`,
          layer: m.layer,
          head: m.head,
          position: m.position,
          n: m.n,
          mean: m.mean,
          sd: m.sd,
          p_t: m.p,
          p: m.p,
          p_adj: m.p_adj,
          significant_naive: m.p !== null && m.p < alpha,
          significant_corrected: m.significant_corrected,
        };
        lines.push(COLUMNS.map((c) => cell(row[c])).join(","));
      }
    }
  }
  return `${lines.join("\n")}\n`;
}
