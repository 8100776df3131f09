import { datasetKey } from "../study/reproduction.js";
import type { AgreementStats, StudyResults } from "../study/results-schema.js";
import type { Cell, Column, ColumnKind, Table } from "./table-format.js";

const col = (label: string, kind: ColumnKind = "num"): Column => ({ label, kind });

/** The published values (reference checkpoints) this study's sections are compared with. */
export const PUBLISHED_ROBUSTNESS: Readonly<Record<string, { stability: number; ig: number }>> = {
  japanesevowels: { stability: 0.884, ig: 0.575 },
  pendigits: { stability: 0.894, ig: 0.372 },
  lsst: { stability: 0.484, ig: -0.122 },
};

/** The published attention-baseline ρ, a range over the three datasets. */
export const PUBLISHED_ATTENTION_RANGE = "0.17–0.48";

/** The published values for this study's dataset, when it re-runs the reference checkpoints. */
export function publishedRobustness(results: StudyResults): { stability: number; ig: number } | null {
  const reference = results.reproduction !== undefined || results.model.origin === "pth";
  return reference ? (PUBLISHED_ROBUSTNESS[datasetKey(results.data.name)] ?? null) : null;
}

const agreementCells = (a: AgreementStats | null): Cell[] => [
  a?.units ?? null,
  a?.spearman.estimate ?? null,
  a?.spearman.ci.low ?? null,
  a?.spearman.ci.high ?? null,
  a?.kendall.estimate ?? null,
  a?.top_k_jaccard["3"] ?? null,
  a?.top_k_jaccard["5"] ?? null,
];
const agreementColumns = [
  col("units", "int"),
  col("Spearman ρ"),
  col("ρ CI low"),
  col("ρ CI high"),
  col("Kendall τ"),
  col("top-3 Jaccard"),
  col("top-5 Jaccard"),
];

/**
 * The stability section's table: per perturbation and direction, the accuracy check and the
 * agreement with the unperturbed ranking.
 *
 * @example
 * const table = stabilityTable(results); // null without the stability stage
 */
export function stabilityTable(results: StudyResults): Table | null {
  const s = results.stability;
  if (s === undefined) return null;
  return {
    id: "stability",
    title: "Head-ranking agreement with the unperturbed ranking, per perturbation",
    columns: [
      col("perturbation", "text"),
      col("accuracy"),
      col("flagged", "bool"),
      col("pairs kept", "int"),
      col("direction", "text"),
      ...agreementColumns,
      col("significant kept"),
    ],
    rows: s.perturbations.flatMap((p) =>
      (p.directions.length === 0 ? [null] : p.directions).map((d): Cell[] => [
        p.label,
        p.accuracy,
        p.flagged,
        p.pairs_surviving,
        d?.direction ?? null,
        ...agreementCells(d?.agreement ?? null),
        d?.significant_retained ?? null,
      ]),
    ),
    notes: [
      `Unperturbed accuracy ${s.accuracy.toFixed(3)}; flagged: the perturbation costs more than ${(100 * s.max_accuracy_drop).toFixed(0)} points of accuracy. Pairs kept: both inputs classified right/wrong as before.`,
      ...s.perturbations.flatMap((p) => (p.message === null ? [] : [`${p.label}: ${p.message}`])),
    ],
  };
}

/**
 * The baselines section's tables: each baseline's agreement with exact patching, and the AtP check
 * per component kind.
 *
 * @example
 * const tables = baselineTables(results); // [] without the baselines stage
 */
export function baselineTables(results: StudyResults): Table[] {
  const b = results.baselines;
  if (b === undefined) return [];
  const ig = b.integrated_gradients;
  return [
    {
      id: "baselines-agreement",
      title: "Agreement of each baseline with exact patching (heads, per-unit means)",
      columns: [col("baseline", "text"), col("direction", "text"), ...agreementColumns],
      rows: b.agreement.map((a) => [a.baseline, a.direction, ...agreementCells(a)]),
      notes: [
        `Integrated gradients: up to ${ig.steps} nodes (${ig.method}); completeness worst relative error ${ig.worst_relative_error.toPrecision(3)} (absolute ${ig.worst_absolute_error.toPrecision(3)}).`,
      ],
    },
    {
      id: "baselines-atp-check",
      title: "Attribution patching against exact patching, per component kind",
      columns: [
        col("kind", "text"),
        col("ρ over all (pair, component)"),
        col("worst |exact − AtP|"),
        col("where", "text"),
        col("flagged", "int"),
      ],
      rows: b.atp_check.map((c) => [
        c.kind,
        c.pooled_spearman,
        c.worst_absolute_error.value,
        `${c.worst_absolute_error.component}, pair ${c.worst_absolute_error.pair}`,
        c.flagged.length,
      ]),
    },
  ];
}
