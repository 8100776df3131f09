/**
 * From the long effects table of `tspatch sweep` (one line per pair × direction × component) to
 * a unit table (one row per unit of analysis, one column per component), stating the unit.
 *
 * Pairs that share an input are not independent: with the study's pairs, 35 PenDigits pairs
 * share 8 correctly classified inputs. The default unit is the run target, the input that is
 * patched: in the denoise direction the misclassified input, in the noise direction the correctly
 * classified input (the pair's "source" in the underlying correct/misclassified pair). Effects are
 * averaged over a unit's pairs before testing, so every unit counts once (DESIGN.md, "Unit of
 * analysis"). `unit: "pair"` keeps one row per pair (the published study's analysis) and says so.
 * `unit: "cluster"` averages over each connected group of pairs that share a source or a target:
 * clusters share no input, so they are independent even where targets are not (the most
 * conservative unit; with the study's JapaneseVowels pairs only 4 clusters remain).
 */

import { splitCsvLine } from "../csv-line.js";
import { inputError } from "../errors.js";
import { EFFECT_METRIC_COLUMNS, parseEffectsLong } from "../patching/effects-long.js";
import type { EffectMetricName } from "./importance.js";
import { pairClusters } from "./pair-clusters.js";
import type { UnitTableColumn } from "./unit-table.js";

export const EFFECT_METRICS: readonly EffectMetricName[] = EFFECT_METRIC_COLUMNS;

/**
 * target: the patched input, its pairs averaged; pair: every pair; cluster: a connected group of
 * pairs linked by a shared source or target (stats/pair-clusters.ts), its pairs averaged.
 */
export type UnitChoice = "target" | "pair" | "cluster";

/** One line of the long table. */
export interface LongEffectRow {
  readonly pairId: number;
  readonly source: number;
  readonly target: number;
  readonly trueLabel: string;
  readonly direction: string;
  /** Column name for the component: L{l}H{h}, L{l}H{h}P{p}, L{l}attn, L{l}mlp, … */
  readonly component: string;
  /** NaN for an empty cell (e.g. undefined recovery). */
  readonly metrics: Readonly<Record<EffectMetricName, number>>;
}

/** True when a CSV header line is the long effects format (has pair_id, direction, component). */
export function isLongEffectsHeader(header: string): boolean {
  const names = new Set(splitCsvLine(header).map((s) => s.trim()));
  return ["pair_id", "direction", "component"].every((n) => names.has(n));
}

/**
 * Parse the long effects table: the sweep's, or any table with the required columns
 * (patching/effects-long.ts, `columns: "required"`), each line named for its component.
 *
 * @example
 * parseLongEffects(readFileSync("effects.csv", "utf8"), "effects.csv").length;
 */
export function parseLongEffects(text: string, file: string): LongEffectRow[] {
  return parseEffectsLong(text, file, { columns: "required" }).map((line) => {
    const metrics = {} as Record<EffectMetricName, number>;
    for (const m of EFFECT_METRICS) metrics[m] = line.metrics[m] ?? Number.NaN;
    return {
      pairId: line.pairId,
      source: line.source,
      target: line.target,
      trueLabel: line.trueLabel,
      direction: line.direction,
      component: componentName(
        line.component,
        cellText(line.layer),
        cellText(line.head),
        cellText(line.position),
        line.detail,
      ),
      metrics,
    };
  });
}

function cellText(value: number | null): string {
  return value === null ? "" : String(value);
}

/** The column name of a component: L{l}H{h}[P{p}] for heads, L{l}{kind}[P{p}] for others. */
export function componentName(
  kind: string,
  layer: string,
  head: string,
  position: string,
  detail: string,
): string {
  const pos = position === "" ? "" : `P${position}`;
  if (kind === "head") return `L${layer}H${head}${pos}`;
  if (kind === "group" || kind.startsWith("path_")) return `${kind}:${detail}`;
  return `L${layer}${kind}${pos}`;
}

export interface UnitTable {
  readonly unit: UnitChoice;
  /** In words, for outputs: what one row is. */
  readonly unitDescription: string;
  readonly direction: string;
  readonly metric: EffectMetricName;
  /** Unit ids (the run target's row index, the pair id, or the cluster number). */
  readonly unitIds: readonly number[];
  /** True label of each unit. */
  readonly labels: readonly string[];
  /** Pairs averaged into each unit. */
  readonly pairsPerUnit: readonly number[];
  readonly names: readonly string[];
  /** values[component][unit]; NaN where the unit has no defined value. */
  readonly values: readonly Float64Array[];
  readonly pairs: number;
}

/**
 * Average a direction's effects per unit.
 *
 * @example
 * const t = unitTable(parseLongEffects(text, "effects.csv"), { direction: "noise", metric: "d_logit_diff" });
 * t.unitDescription; // "one row per run target (the patched input); 35 pairs averaged into 8 units"
 */
export function unitTable(
  rows: readonly LongEffectRow[],
  options: { direction: string; metric: EffectMetricName; unit?: UnitChoice },
): UnitTable {
  const unit = options.unit ?? "target";
  const { direction, metric } = options;
  const chosen = rows.filter((r) => r.direction === direction);
  if (chosen.length === 0) {
    const present = [...new Set(rows.map((r) => r.direction))].join(", ") || "none";
    throw inputError(`no rows with direction "${direction}"`, {
      field: "--direction",
      hint: `the table has: ${present}`,
    });
  }
  const clusterOf = unit === "cluster" ? clustersByPair(chosen) : null;
  const idOf = (r: LongEffectRow) =>
    clusterOf !== null ? (clusterOf.get(r.pairId) as number) : unit === "target" ? r.target : r.pairId;
  const names: string[] = [];
  const nameIndex = new Map<string, number>();
  const unitIndex = new Map<number, number>();
  const unitIds: number[] = [];
  const labels: string[] = [];
  const pairSets: Set<number>[] = [];
  for (const r of chosen) {
    if (!nameIndex.has(r.component)) {
      nameIndex.set(r.component, names.length);
      names.push(r.component);
    }
    const id = idOf(r);
    if (!unitIndex.has(id)) {
      unitIndex.set(id, unitIds.length);
      unitIds.push(id);
      labels.push(r.trueLabel);
      pairSets.push(new Set());
    }
    pairSets[unitIndex.get(id) as number].add(r.pairId);
  }
  const sums = names.map(() => new Float64Array(unitIds.length));
  const counts = names.map(() => new Float64Array(unitIds.length));
  for (const r of chosen) {
    const v = r.metrics[metric];
    if (Number.isNaN(v)) continue;
    const j = nameIndex.get(r.component) as number;
    const u = unitIndex.get(idOf(r)) as number;
    sums[j][u] += v;
    counts[j][u]++;
  }
  const values = sums.map((s, j) => s.map((v, u) => (counts[j][u] === 0 ? Number.NaN : v / counts[j][u])));
  const pairs = new Set(chosen.map((r) => r.pairId)).size;
  if (unit === "cluster" && unitIds.length < 2) {
    throw inputError(
      `the ${pairs} pairs of the ${direction} direction form ${unitIds.length} cluster (pairs linked by a shared source or target): a test needs at least 2`,
      {
        field: "--unit",
        hint: "use --unit target, or build pairs whose inputs do not all connect (fewer sources per target)",
      },
    );
  }
  const unitDescription =
    unit === "target"
      ? `one row per run target (the patched input); ${pairs} pairs averaged into ${unitIds.length} units`
      : unit === "cluster"
        ? `one row per cluster of pairs linked by a shared source or target; ${pairs} pairs averaged into ${unitIds.length} clusters`
        : `one row per pair (${pairs} pairs; pairs that share an input are treated as independent)`;
  return {
    unit,
    unitDescription,
    direction,
    metric,
    unitIds,
    labels,
    pairsPerUnit: pairSets.map((s) => s.size),
    names,
    values,
    pairs,
  };
}

/** Each pair's cluster (numbered in order of first appearance) among one direction's rows. */
function clustersByPair(rows: readonly LongEffectRow[]): Map<number, number> {
  const first = new Map<number, LongEffectRow>();
  for (const r of rows) if (!first.has(r.pairId)) first.set(r.pairId, r);
  const pairs = [...first.values()];
  const clusters = pairClusters(pairs);
  return new Map(pairs.map((p, i) => [p.pairId, clusters[i]]));
}

/**
 * The unit table as effect columns (missing values dropped), the input of analyzeEffects.
 *
 * @example
 * analyzeEffects(unitColumns(unitTable(rows, { direction: "denoise", metric: "dp_true" })));
 */
export function unitColumns(table: UnitTable): UnitTableColumn[] {
  return table.names.map((name, j) => ({
    name,
    values: Float64Array.from(Array.from(table.values[j]).filter((v) => !Number.isNaN(v))),
  }));
}
