import type { DirectionResults, KindResults, PositionMap, StudyResults } from "../study/results-schema.js";
import { CORRECTION_LABELS, METRIC_LABELS, percent, TEST_LABELS } from "./labels.js";
import type { Cell, Column, ColumnKind, Table } from "./table-format.js";

/**
 * Every table of the report, built from results.json alone. The same tables are written as CSV
 * and Markdown beside the report (`tables/<id>.csv|md`), so a reader can take any number from the
 * report into their own analysis.
 */

import { baselineTables, stabilityTable } from "./robustness-tables.js";
import { sensitivityTables } from "./sensitivity-tables.js";

const col = (label: string, kind: ColumnKind = "num"): Column => ({ label, kind });

const KIND_TITLES: Record<KindResults["kind"], string> = {
  head: "heads",
  layer: "attention layers",
  mlp: "MLPs",
  head_position: "head × time step",
};

/**
 * Per-component statistics of one kind in one direction (head, layer, MLP).
 *
 * @example
 * const table = componentTable(results, results.directions[0], results.directions[0].kinds[0]);
 */
export function componentTable(results: StudyResults, direction: DirectionResults, kind: KindResults): Table {
  const { plan } = results;
  const level = percent(1 - plan.alpha);
  const cluster = kind.components.some((c) => c.cluster_ci !== null);
  const status = kind.components.some((c) => c.status !== undefined);
  const correction = CORRECTION_LABELS[plan.correction].short;
  const columns = [
    col("component", "text"),
    col("n", "int"),
    col(`mean ${METRIC_LABELS[plan.metric].name}`),
    col("sd"),
    col(`BCa ${level} CI low`),
    col(`BCa ${level} CI high`),
    ...(cluster ? [col(`cluster ${level} CI low`), col(`cluster ${level} CI high`)] : []),
    col("t"),
    col("df"),
    col("p (t)", "p"),
    col("p (Wilcoxon)", "p"),
    col("pseudo-median"),
    col("p (sign-flip)", "p"),
    col(`p adjusted (${correction})`, "p"),
    col("d_z"),
    col(`d_z ${level} CI low`),
    col(`d_z ${level} CI high`),
    col("g_z"),
    col("significance", "text"),
    ...(status ? [col("status", "text")] : []),
    col("notes", "text"),
  ];
  const rows = kind.components.map((c): Cell[] => [
    c.name,
    c.n,
    c.mean,
    c.sd,
    c.ci.low,
    c.ci.high,
    ...(cluster ? [c.cluster_ci?.low ?? null, c.cluster_ci?.high ?? null] : []),
    c.t,
    c.df,
    c.p_t,
    c.p_wilcoxon,
    c.pseudo_median,
    c.p_sign_flip,
    c.p_adj,
    c.d_z,
    c.d_z_ci.low,
    c.d_z_ci.high,
    c.g_z,
    c.significant_corrected ? "significant" : c.significant_naive ? "uncorrected only" : "not significant",
    ...(status ? [c.status ?? null] : []),
    c.notes.join("; "),
  ]);
  return {
    id: `${direction.direction}-${kind.kind}`,
    title: `${capitalise(direction.direction)}: ${KIND_TITLES[kind.kind]} (n = ${direction.n_units} units)`,
    columns,
    rows,
    notes: [
      `Significance: ${TEST_LABELS[plan.test]} p-values adjusted by ${CORRECTION_LABELS[plan.correction].name} across ${kind.family}; α = ${plan.alpha}. "uncorrected only" = p < α before correction only.`,
      `${kind.counts.corrected} of ${kind.counts.total} significant after correction, ${kind.counts.naive} without.`,
      ...(kind.counts.status === undefined || plan.sesoi === null
        ? []
        : [`Status (SESOI ±${plan.sesoi}): ${statusText(kind.counts.status)}.`]),
      ...(cluster
        ? ["Cluster CI: bootstrap over the repeated inputs (clusters), beside the ordinary BCa CI."]
        : []),
    ],
  };
}

/** Hypotheses significant before and after correction, per direction and component kind. */
export function countsTable(results: StudyResults): Table {
  const withStatus = results.directions.some((d) => d.kinds.some((k) => k.counts.status !== undefined));
  return {
    id: "counts",
    title: "Significant components per direction and kind",
    columns: [
      col("direction", "text"),
      col("kind", "text"),
      col("n units", "int"),
      col("hypotheses", "int"),
      col("significant uncorrected", "int"),
      col(`significant (${CORRECTION_LABELS[results.plan.correction].short})`, "int"),
      ...(withStatus ? STATUS_NAMES.map((s) => col(s, "int")) : []),
      col("largest effects", "text"),
    ],
    rows: results.directions.flatMap((d) =>
      d.kinds.map((k): Cell[] => [
        d.direction,
        KIND_TITLES[k.kind],
        d.n_units,
        k.counts.total,
        k.counts.naive,
        k.counts.corrected,
        ...(withStatus ? STATUS_NAMES.map((s) => k.counts.status?.[s] ?? null) : []),
        k.top.join(", "),
      ]),
    ),
  };
}

/** The analysis plan, one row per choice. */
export function planTable(results: StudyResults): Table {
  const p = results.plan;
  const compat = Object.entries(p.compatibility)
    .filter(([, v]) => v !== false && v !== null)
    .map(([k, v]) => (v === true ? k : `${k} = ${v}`));
  const rows: [string, Cell][] = [
    ["metric", `${METRIC_LABELS[p.metric].name} (${METRIC_LABELS[p.metric].unit})`],
    ["test", TEST_LABELS[p.test]],
    ["correction", `${CORRECTION_LABELS[p.correction].name} (${CORRECTION_LABELS[p.correction].controls})`],
    ["alpha", p.alpha],
    ["family", p.family],
    ["family scope", p.family_scope],
    ["directions", p.directions.join(", ")],
    ...Object.entries(p.unit).map(([d, u]): [string, Cell] => [`unit of analysis (${d})`, u]),
    [
      "effects of one unit's pairs",
      p.unit_aggregation === "mean" ? "averaged before testing" : "not aggregated",
    ],
    ["alternative", p.alternative],
    ["bootstrap resamples", p.bootstrap_resamples],
    ["permutation resamples", p.permutation_resamples],
    ["smallest effect size of interest", p.sesoi],
    [
      "head mode",
      p.head_mode === "z"
        ? "z (true per-head patch of attn.hook_z)"
        : "slice (compatibility: slice of attn_out)",
    ],
    ["compatibility switches", compat.length === 0 ? "none" : compat.join(", ")],
    ...positionUnitsRows(p.head_position_units),
  ];
  return fieldTable("plan", "Analysis plan (fixed before any effect was computed)", "choice", rows);
}

/** The head × time-step sweep's units: how many of each direction's, drawn how and with which seed. */
function positionUnitsRows(units: StudyResults["plan"]["head_position_units"]): [string, Cell][] {
  if (units === undefined) return [];
  const counts = Object.entries(units.by_direction)
    .map(([d, u]) => `${d}: ${u.sampled} of ${u.units.length === u.of ? `${u.of} (all)` : u.of}`)
    .join("; ");
  return [
    [
      "head × time-step units",
      `${counts}. ${units.method}${units.max === null ? "" : `; seed ${units.seed}`}`,
    ],
  ];
}

/** The dataset as the study saw it. */
export function dataTable(results: StudyResults): Table {
  const d = results.data;
  const rows: [string, Cell][] = [
    ["dataset", d.name],
    ...Object.entries(d.splits).map(([s, n]): [string, Cell] => [`${s} rows`, n]),
    ["analysed split", d.analysis_split],
    ["classes", d.classes.length],
    ["channels", d.channels],
    ["series length (min–max)", `${d.lengths.min}–${d.lengths.max}`],
    ["model length (padded)", d.lengths.model],
    ["normalisation", d.normalisation],
  ];
  return fieldTable("data", "Data", "field", rows);
}

/**
 * Whether `data.classes` can name the model's outputs: with the reference checkpoints' label map
 * (class index = int(label)) the model has more outputs than the data has labels, and the labels
 * are listed densely, so output i is not necessarily `classes[i]`.
 */
function labelsNameOutputs(results: StudyResults): boolean {
  return results.data.classes.length === results.model.architecture.classes;
}

const OUTPUTS_NOTE = (results: StudyResults) =>
  `The model has ${results.model.architecture.classes} outputs for ${results.data.classes.length} labelled classes (a reference checkpoint's label map, see model/config.json); outputs are numbered, not named.`;

/** Rows per class of the analysed split. */
export function classTable(results: StudyResults): Table {
  const d = results.data;
  const indexed = labelsNameOutputs(results);
  return {
    id: "classes",
    title: `Rows per class (${d.analysis_split})`,
    columns: [...(indexed ? [col("class index", "int")] : []), col("label", "text"), col("rows", "int")],
    rows: d.classes.map((label, i): Cell[] => [...(indexed ? [i] : []), label, d.class_counts[i] ?? null]),
  };
}

/** The model card: origin, architecture, accuracy. */
export function modelTable(results: StudyResults): Table {
  const m = results.model;
  const a = m.architecture;
  const rows: [string, Cell][] = [
    ["origin", m.origin],
    ["layers × heads", `${a.layers} × ${a.heads}`],
    ["d_model / d_ff", `${a.d_model} / ${a.d_ff}`],
    ["sequence length × channels", `${a.seq_len} × ${a.channels}`],
    ["output classes", a.classes],
    [`accuracy (${results.data.analysis_split})`, m.accuracy],
    ["rows evaluated", m.n_evaluated],
    ["misclassified", m.n_misclassified],
    ["per-row predictions", m.predictions_file],
  ];
  return fieldTable("model", "Model", "field", rows);
}

/** Confusion matrix counts: rows = true class, columns = predicted class (model output order). */
export function confusionTable(results: StudyResults): Table {
  const named = labelsNameOutputs(results);
  const width = results.model.confusion.reduce((m, r) => Math.max(m, r.length), 0);
  const name = (i: number) => (named ? results.data.classes[i] : `output ${i}`);
  return {
    id: "confusion",
    title: "Confusion matrix (rows: true class, columns: predicted class)",
    columns: [
      col("true \\ predicted", "text"),
      ...Array.from({ length: width }, (_, j) => col(name(j), "int")),
    ],
    rows: results.model.confusion.map((r, i): Cell[] => [
      name(i),
      ...Array.from({ length: width }, (_, j) => r[j] ?? 0),
    ]),
    notes: named ? [] : [OUTPUTS_NOTE(results)],
  };
}

/** Pairs per direction and how often inputs repeat (effective n). */
export function pairsTable(results: StudyResults): Table {
  return {
    id: "pairs",
    title: `Pairs (${results.pairs.strategy} strategy)`,
    columns: [
      col("direction", "text"),
      col("pairs", "int"),
      col("distinct sources", "int"),
      col("distinct targets", "int"),
      col("effective n (units)", "int"),
      col("inputs repeat", "bool"),
      col("max pairs per source", "int"),
      col("max pairs per target", "int"),
    ],
    rows: results.pairs.by_direction.map((p): Cell[] => [
      p.direction,
      p.n_pairs,
      p.distinct_sources,
      p.distinct_targets,
      p.effective_n,
      p.repeats,
      p.max_pairs_per_source,
      p.max_pairs_per_target,
    ]),
  };
}

/** How inputs of different lengths were lined up, and how much of each pair was patched. */
export function alignmentTable(results: StudyResults): Table | null {
  const a = results.pairs.alignment;
  if (a === undefined) return null;
  const o = a.overlap;
  const rows: [string, Cell][] = [
    ["alignment", a.align],
    ["pairs (pair-directions)", a.pairs],
    [
      "overlap min / q1 / median / q3 / max",
      o === null ? null : [o.min, o.q1, o.median, o.q3, o.max].map((v) => v.toFixed(3)).join(" / "),
    ],
    ["pairs with part of the target unpatched (overlap < 1)", a.partial_pairs],
    ["pairs with no shared real step (effects 0, flagged)", a.no_overlap_pairs],
    ...Object.entries(a.not_applicable_rows).map(([kind, n]): [string, Cell] => [
      `${KIND_TITLES[kind as KindResults["kind"]] ?? kind}: rows not applicable (padding step, no metrics)`,
      n,
    ]),
  ];
  return {
    ...fieldTable("alignment", "Alignment of inputs of different lengths", "quantity", rows),
    notes: [
      "Overlap = share of the target's real time steps that are real in the aligned source, i.e. what a whole-sequence patch writes. Not-applicable rows are left out of every test (n counts only the units where the step is real).",
    ],
  };
}

/** The pre-flight diagnostics, one row per finding. */
export function diagnosticsTable(results: StudyResults): Table | null {
  const d = results.diagnostics;
  if (d === undefined) return null;
  return {
    id: "diagnostics",
    title: "Pre-flight diagnostics",
    columns: [col("stage", "text"), col("severity", "text"), col("code", "text"), col("finding", "text")],
    rows: d.findings.map((f): Cell[] => [f.stage, f.severity, f.code, f.message]),
  };
}

const STATUS_NAMES = ["important", "negligible", "inconclusive"] as const;

/** "3 important, 10 negligible, 11 inconclusive". */
export function statusText(counts: Record<(typeof STATUS_NAMES)[number], number>): string {
  return STATUS_NAMES.map((s) => `${counts[s]} ${s}`).join(", ");
}

/** The largest cells of the timestep × head map, by absolute mean effect. */
export function positionTopTable(
  results: StudyResults,
  direction: DirectionResults,
  map: PositionMap,
  top = 10,
): Table {
  const cells = map.cells
    .filter((c) => c.mean !== null)
    .sort(
      (a, b) =>
        Math.abs(b.mean!) - Math.abs(a.mean!) ||
        a.layer - b.layer ||
        a.head - b.head ||
        a.position - b.position,
    );
  return {
    id: `${direction.direction}-head-position-top`,
    title: `${capitalise(direction.direction)}: the ${Math.min(top, cells.length)} largest head × time-step effects (of ${map.cells.length} cells)`,
    columns: [
      col("head", "text"),
      col("time step", "int"),
      col("n", "int"),
      col(`mean ${METRIC_LABELS[results.plan.metric].name}`),
      col("sd"),
      col("p", "p"),
      col(`p adjusted (${CORRECTION_LABELS[results.plan.correction].short})`, "p"),
      col("significant", "bool"),
    ],
    rows: cells
      .slice(0, top)
      .map((c): Cell[] => [
        `L${c.layer}H${c.head}`,
        c.position,
        c.n,
        c.mean,
        c.sd,
        c.p,
        c.p_adj,
        c.significant_corrected,
      ]),
    notes: [
      `The map is its own family (${map.cells.length} hypotheses, ${map.test}); cells where the step is padding in every pair are not applicable and not tested.`,
    ],
  };
}

/** The published study's per-head table, re-computed with its own (compatibility) choices. */
export function reproductionTable(results: StudyResults): Table | null {
  const r = results.reproduction;
  if (r === undefined) return null;
  return {
    id: "reproduction-heads",
    title: `${r.dataset}: the published analysis re-computed (compatibility switches)`,
    columns: [
      col("head", "text"),
      col("n", "int"),
      col("mean ΔP"),
      col("t"),
      col("p", "p"),
      col("p adjusted (BH)", "p"),
      col("significant", "bool"),
    ],
    rows: r.heads.map((h): Cell[] => [h.name, h.n, h.mean, h.t, h.p, h.p_adj, h.significant]),
    notes: ["Per head, as the published table: n pair-direction units, mean ΔP, t, raw and BH-adjusted p."],
  };
}

/** The published study's headline numbers beside the same numbers re-computed with its choices. */
export function publishedNumbersTable(results: StudyResults): Table | null {
  const r = results.reproduction;
  if (r === undefined) return null;
  const rows: Cell[][] = [
    ["heads significant after BH", r.published.total, r.published.significant, r.counts.corrected],
    ["heads significant without correction", r.published.total, null, r.counts.raw],
  ];
  if (r.published.cohen_d !== null || r.cohen_d_denoise_vs_noise !== null) {
    rows.push([
      "Cohen's d, denoise vs noise per-head means (pooled sd)",
      null,
      r.published.cohen_d,
      r.cohen_d_denoise_vs_noise,
    ]);
  }
  return {
    id: "published-numbers",
    title: `${r.dataset}: the published numbers and the same analysis re-computed`,
    columns: [col("quantity", "text"), col("of", "int"), col("published"), col("re-computed")],
    rows,
    notes: [`Re-computed with: ${r.switches.join("; ")}.`],
  };
}

/** Each published claim with the verdict (holds / fails / artefact) and its reason, as results.json states them. */
export function claimsTable(results: StudyResults): Table | null {
  const r = results.reproduction;
  if (r === undefined) return null;
  return {
    id: "claims",
    title: "Published claims: do they hold under a proper analysis?",
    columns: [col("claim", "text"), col("verdict", "text"), col("reason", "text")],
    rows: r.claims.map((c): Cell[] => [c.claim, c.verdict, c.reason]),
    notes: [
      "holds: the claim survives a proper analysis; fails: it does not; artefact: the number is reproduced but comes from an analysis choice, not from the model.",
    ],
  };
}

/** Versions, threads and seeds of the run. */
export function versionsTable(results: StudyResults): Table {
  const m = results.manifest;
  const rows: [string, Cell][] = [
    ["tspatch", m.tspatch_version],
    ["onnxruntime-node", m.onnxruntime_version],
    ["Node.js", m.node_version],
    ["runtime threads", m.threads],
    ...Object.entries(m.seeds).map(([k, v]): [string, Cell] => [`seed (${k})`, v]),
    ["results schema", `${results.schema} v${results.schema_version}`],
  ];
  return fieldTable("versions", "Versions and seeds", "item", rows);
}

/** SHA-256 of the model weights and of every data file read. */
export function checksumsTable(results: StudyResults): Table {
  const m = results.manifest;
  return {
    id: "sha256",
    title: "SHA-256 of the inputs",
    columns: [col("file", "text"), col("SHA-256", "text")],
    rows: [
      ["model weights", m.model_sha256],
      ...Object.entries(m.data_sha256).map(([f, h]): Cell[] => [f, h]),
    ],
  };
}

/**
 * Every table of the report, in report order.
 *
 * @example
 * for (const t of reportTables(results)) writeFileAtomic(`tables/${t.id}.csv`, tableToCsv(t));
 */
export function reportTables(results: StudyResults): Table[] {
  const perDirection = results.directions.flatMap((d) =>
    d.kinds.flatMap((k) =>
      k.map === undefined ? [componentTable(results, d, k)] : [positionTopTable(results, d, k.map)],
    ),
  );
  return [
    countsTable(results),
    dataTable(results),
    classTable(results),
    modelTable(results),
    confusionTable(results),
    pairsTable(results),
    ...[alignmentTable(results), diagnosticsTable(results)].filter((t): t is Table => t !== null),
    planTable(results),
    ...perDirection,
    ...sensitivityTables(results),
    ...[stabilityTable(results)].filter((t): t is Table => t !== null),
    ...baselineTables(results),
    ...[publishedNumbersTable(results), claimsTable(results), reproductionTable(results)].filter(
      (t): t is Table => t !== null,
    ),
    versionsTable(results),
    checksumsTable(results),
  ];
}

/** A two-column table of named values (the plan, the data card, versions). */
function fieldTable(id: string, title: string, key: string, rows: [string, Cell][]): Table {
  return { id, title, columns: [col(key, "text"), col("value", "text")], rows };
}

export function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
