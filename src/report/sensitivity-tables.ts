import type { StudyResults } from "../study/results-schema.js";
import type { Cell, Column, ColumnKind, Table } from "./table-format.js";

const col = (label: string, kind: ColumnKind = "num"): Column => ({ label, kind });

/**
 * The sensitivity section's tables: per direction and variant (pair strategy × metric) the heads'
 * counts under the plan's test and correction with the top heads, and the rank agreement of every
 * two variants.
 *
 * @example
 * const tables = sensitivityTables(results); // [] without the sensitivity stage
 */
export function sensitivityTables(results: StudyResults): Table[] {
  const s = results.sensitivity;
  if (s === undefined) return [];
  return [
    {
      id: "sensitivity-variants",
      title: "The head analysis under each pair strategy and metric (the plan's variant marked)",
      columns: [
        col("direction", "text"),
        col("variant", "text"),
        col("plan", "bool"),
        col("pairs", "int"),
        col("units", "int"),
        col("SESOI"),
        col("significant", "int"),
        col("important", "int"),
        col("negligible", "int"),
        col("inconclusive", "int"),
        col("top heads (largest effect first)", "text"),
      ],
      rows: s.variants.map((v): Cell[] => [
        v.direction,
        v.name,
        v.plan,
        v.pairs,
        v.units,
        v.sesoi,
        v.counts?.significant ?? null,
        v.counts?.important ?? null,
        v.counts?.negligible ?? null,
        v.counts?.inconclusive ?? null,
        v.message ?? v.top.join(" "),
      ]),
      notes: [
        `Counts are of the ${s.variants.find((v) => v.counts !== null)?.counts?.total ?? 0} heads of each direction, with the plan's test and correction.`,
      ],
    },
    {
      id: "sensitivity-agreement",
      title: "Agreement of the head rankings (by |mean|; KL by the smallest mean) between every two variants",
      columns: [
        col("direction", "text"),
        col("variant a", "text"),
        col("variant b", "text"),
        col("heads", "int"),
        col("Spearman ρ"),
        col("ρ CI low"),
        col("ρ CI high"),
        col("resampling", "text"),
      ],
      rows: s.agreement.map((a): Cell[] => [
        a.direction,
        a.a,
        a.b,
        a.components,
        a.rho.estimate,
        a.rho.ci.low,
        a.rho.ci.high,
        a.resampling,
      ]),
      notes: [
        "joint: the two variants are the same pairs under two metrics, their units resampled together; independent: different pair strategies, resampled separately. Resampling adds noise to both rankings, so the CI sits below the point estimate: read its lower end as conservative.",
      ],
    },
  ];
}
