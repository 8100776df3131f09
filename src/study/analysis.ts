/**
 * The statistics stage of a study: effects of the long table → units → per-component tests,
 * following the analysis plan. Units: the misclassified input of each pair (denoise: the target,
 * averaged over its sources; noise: the source, averaged over the targets it was patched into);
 * the directions are analysed separately unless the pooled compatibility switch is on, in which
 * case every pair-direction is its own unit, as the published study did.
 */

import type { EffectLine } from "../patching/effects-long.js";
import { analyzeEffects, type EffectStats, type TestName } from "../stats/analyze-effects.js";
import { clusterBootstrapMeans } from "../stats/bootstrap.js";
import { adjustPValues } from "../stats/multiplicity.js";
import type { BootstrapResult } from "../stats/results.js";
import { selectKth } from "../stats/select-kth.js";
import { ttest1samp } from "../stats/ttest.js";
import type {
  AnalysisPlan,
  ComponentStats,
  KindResults,
  PositionCell,
  StatusCounts,
  StudyComponentKind,
  StudyDirection,
} from "./results-schema.js";

/** The random stream of the cluster bootstrap, apart from analyzeEffects' streams. */
const CLUSTER_STREAM = 0x50000000;

export interface KindEffects {
  kind: StudyComponentKind;
  lines: readonly EffectLine[];
}

/** One unit's values: the mean over the unit's pairs, plus the pair-level values for the cluster CI. */
interface ComponentColumn {
  name: string;
  layer: number;
  head: number | null;
  position: number | null;
  /** Unit means, in ascending unit order. */
  units: Float64Array;
  /** Pair-level values and their cluster (the input on the pair's other side). */
  pairValues: number[];
  clusters: number[];
}

/** The input that identifies a pair's unit in a direction (see the file comment). */
export function unitOf(direction: string, line: { source: number; target: number }): number {
  return direction === "noise" ? line.source : line.target;
}

function otherSideOf(direction: string, line: { source: number; target: number }): number {
  return direction === "noise" ? line.target : line.source;
}

function componentName(kind: StudyComponentKind, line: EffectLine): string {
  if (kind === "head" || kind === "head_position") {
    const base = `L${line.layer}H${line.head}`;
    return kind === "head" ? base : `${base}@t${line.position}`;
  }
  return kind === "layer" ? `L${line.layer}` : `MLP${line.layer}`;
}

/**
 * Group a kind's lines of one direction into per-component unit columns.
 * `pooled`: no aggregation, each pair-direction is a unit.
 */
export function componentColumns(
  lines: readonly EffectLine[],
  kind: StudyComponentKind,
  direction: StudyDirection,
  metric: string,
): ComponentColumn[] {
  const byName = new Map<
    string,
    { first: EffectLine; units: Map<string, number[]>; pairs: number[]; clusters: number[] }
  >();
  for (const line of lines) {
    if (direction !== "pooled" && line.direction !== direction) continue;
    // The component exists even when every row of it has no metric (a padding step): it is
    // reported with n 0, not left out and not read as a zero effect.
    const name = componentName(kind, line);
    let entry = byName.get(name);
    if (entry === undefined) {
      entry = { first: line, units: new Map(), pairs: [], clusters: [] };
      byName.set(name, entry);
    }
    const value = line.metrics[metric];
    if (value === null || value === undefined) continue;
    const unit =
      direction === "pooled" ? `${line.pairId}:${line.direction}` : String(unitOf(direction, line));
    const list = entry.units.get(unit);
    if (list === undefined) entry.units.set(unit, [value]);
    else list.push(value);
    entry.pairs.push(value);
    entry.clusters.push(otherSideOf(direction === "pooled" ? line.direction : direction, line));
  }
  return [...byName.entries()].map(([name, e]) => {
    const keys = [...e.units.keys()].sort(compareUnitKeys);
    return {
      name,
      layer: e.first.layer ?? 0,
      head: e.first.head,
      position: e.first.position,
      units: Float64Array.from(keys, (k) => mean(e.units.get(k) as number[])),
      pairValues: e.pairs,
      clusters: e.clusters,
    };
  });
}

function compareUnitKeys(a: string, b: string): number {
  const [ai, ad = ""] = a.split(":");
  const [bi, bd = ""] = b.split(":");
  return Number(ai) - Number(bi) || (ad < bd ? -1 : ad > bd ? 1 : 0);
}

function mean(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);
const probability = (x: number): number | null => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : null);

/** The plan's test as analyzeEffects names it. */
export const TEST_NAMES: Record<AnalysisPlan["test"], TestName> = {
  t: "t",
  wilcoxon: "wilcoxon",
  "sign-flip": "perm",
};

/**
 * Hodges–Lehmann pseudo-median: the median of the Walsh averages (x_i + x_j)/2, i ≤ j
 * (Hollander & Wolfe, Nonparametric Statistical Methods, §3.2). The n(n+1)/2 averages go into
 * one typed array and the middle order statistics are selected, not sorted: at the study's 923
 * units a component (426,426 averages) took ~60 ms sorted, the statistics and sensitivity stages
 * call it thousands of times. NaN if any value is not finite.
 */
export function pseudoMedian(x: ArrayLike<number>): number {
  const n = x.length;
  if (n === 0) return Number.NaN;
  const walsh = new Float64Array((n * (n + 1)) / 2);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    if (!Number.isFinite(xi)) return Number.NaN;
    for (let j = i; j < n; j++) walsh[k++] = (xi + x[j]) / 2;
  }
  const m = walsh.length >> 1;
  const upper = selectKth(walsh, m);
  if (walsh.length % 2 === 1) return upper;
  // Selection left every value below index m at most the upper middle: the lower middle is their largest.
  let lower = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < m; i++) if (walsh[i] > lower) lower = walsh[i];
  return (lower + upper) / 2;
}

/**
 * Analyse one family: the components of one kind in one direction.
 *
 * @example
 * const kind = analyzeKind(lines, "head", "denoise", plan, { metric: "dp_true", seed: 0, family: "24 heads" });
 */
export function analyzeKind(
  lines: readonly EffectLine[],
  kind: StudyComponentKind,
  direction: StudyDirection,
  plan: AnalysisPlan,
  options: { metric: string; seed: number; family: string },
): KindResults {
  const all = componentColumns(lines, kind, direction, options.metric);
  if (kind === "head_position") return positionMap(all, plan, options.family);
  const columns = all.filter((c) => c.units.length >= 2);
  const level = 1 - plan.alpha;
  const report = analyzeEffects(
    columns.map((c) => ({ name: c.name, values: c.units })),
    {
      alpha: plan.alpha,
      correction: plan.correction,
      test: TEST_NAMES[plan.test],
      resamples: plan.bootstrap_resamples,
      seed: options.seed,
      ...(plan.sesoi === null ? {} : { sesoi: plan.sesoi }),
    },
  );
  const clusterResults = clusterBootstraps(columns, plan, level, options.seed);
  const components = columns.map((c, j) =>
    componentStats(kind, c, report.tests[j], plan, level, clusterResults[j]),
  );
  return {
    kind,
    family: options.family,
    counts: {
      total: components.length,
      naive: components.filter((c) => c.significant_naive).length,
      corrected: components.filter((c) => c.significant_corrected).length,
      ...(plan.sesoi === null ? {} : { status: statusCounts(components) }),
    },
    top: topNames(components.map((c) => ({ name: c.name, mean: c.mean }))),
    components,
  };
}

interface ClusterBootstrap {
  result: BootstrapResult;
  clusterCount: number;
}

/**
 * The pair-level cluster bootstrap of each column whose inputs repeat across pairs (else null).
 * Columns with as many pairs share a random stream, so they are resampled together
 * (clusterBootstrapMeans): each gets the interval it would get alone.
 */
function clusterBootstraps(
  columns: readonly ComponentColumn[],
  plan: AnalysisPlan,
  level: number,
  seed: number,
): (ClusterBootstrap | null)[] {
  const out: (ClusterBootstrap | null)[] = columns.map(() => null);
  const clusterCounts = columns.map((column) => new Set(column.clusters).size);
  const byPairs = new Map<number, number[]>();
  columns.forEach((column, j) => {
    const clusterCount = clusterCounts[j];
    const repeats = clusterCount < column.clusters.length || column.pairValues.length > column.units.length;
    if (!repeats || clusterCount < 2) return;
    const members = byPairs.get(column.pairValues.length) ?? [];
    members.push(j);
    byPairs.set(column.pairValues.length, members);
  });
  for (const [pairs, members] of byPairs) {
    const results = clusterBootstrapMeans(
      members.map((j) => ({ values: columns[j].pairValues, clusters: columns[j].clusters })),
      { level, resamples: plan.bootstrap_resamples, seed, stream: CLUSTER_STREAM + pairs },
    );
    members.forEach((j, k) => {
      out[j] = { result: results[k], clusterCount: clusterCounts[j] };
    });
  }
  return out;
}

function componentStats(
  kind: StudyComponentKind,
  column: ComponentColumn,
  s: EffectStats,
  plan: AnalysisPlan,
  level: number,
  cluster: ClusterBootstrap | null,
): ComponentStats {
  const p = plan.test === "t" ? s.p_t : plan.test === "wilcoxon" ? s.p_wilcoxon : s.p_perm;
  let clusterCi: ComponentStats["cluster_ci"] = null;
  if (cluster !== null) {
    const { result: r, clusterCount } = cluster;
    clusterCi = {
      low: finite(r.confidenceInterval.low),
      high: finite(r.confidenceInterval.high),
      level,
      method: `cluster bootstrap (BCa, ${plan.bootstrap_resamples} resamples) of the pair-level mean, ${clusterCount} clusters = the other input of each pair`,
    };
  }
  const significant = s.significant;
  return {
    name: column.name,
    kind,
    layer: column.layer,
    head: kind === "head" ? column.head : null,
    n: s.n,
    mean: s.mean,
    sd: finite(s.sd),
    ci: {
      low: finite(s.ci_low),
      high: finite(s.ci_high),
      level,
      method: `BCa bootstrap, ${plan.bootstrap_resamples} resamples`,
    },
    cluster_ci: clusterCi,
    t: finite(s.t),
    df: s.df,
    p_t: probability(s.p_t),
    p_wilcoxon: probability(s.p_wilcoxon),
    pseudo_median: finite(pseudoMedian(column.units)),
    p_sign_flip: probability(s.p_perm),
    p: probability(p),
    p_adj: probability(s.p_adj),
    d_z: finite(s.d_z),
    d_z_ci: { low: finite(s.d_z_ci_low), high: finite(s.d_z_ci_high), level, method: "noncentral t" },
    g_z: finite(s.g_z),
    significant_naive: s.significant_naive,
    significant_corrected: significant,
    significance: significant ? "significant" : "not significant",
    ...(plan.sesoi === null ? {} : { status: s.status }),
    notes: [...s.notes, `Wilcoxon: ${s.wilcoxon_method}`, `sign-flip: ${s.perm_method}`],
  };
}

function statusCounts(components: readonly ComponentStats[]): StatusCounts {
  const counts: StatusCounts = { important: 0, negligible: 0, inconclusive: 0 };
  for (const c of components) if (c.status !== undefined) counts[c.status]++;
  return counts;
}

/**
 * The head × position map. A cell whose position is padding in every unit has n 0 and null
 * statistics (drawn grey), never a mean of 0; a cell with one unit has a mean but no test.
 */
function positionMap(columns: ComponentColumn[], plan: AnalysisPlan, family: string): KindResults {
  const tests = columns.map((c) => (c.units.length >= 2 ? ttest1samp(c.units).pvalue : Number.NaN));
  const raw = tests;
  const usable = raw.map((p) => Number.isFinite(p));
  const adjusted = adjustPValues(
    raw.filter((_, j) => usable[j]),
    plan.correction,
    plan.alpha,
  ).adjusted;
  const pAdj: number[] = [];
  let k = 0;
  for (let j = 0; j < raw.length; j++) pAdj.push(usable[j] ? adjusted[k++] : Number.NaN);
  const cells: PositionCell[] = columns.map((c, j) => {
    let s = 0;
    for (const v of c.units) s += v;
    const m = c.units.length === 0 ? Number.NaN : s / c.units.length;
    let ss = 0;
    for (const v of c.units) ss += (v - m) ** 2;
    return {
      layer: c.layer,
      head: c.head ?? 0,
      position: c.position ?? 0,
      n: c.units.length,
      mean: finite(m),
      sd: c.units.length < 2 ? null : finite(Math.sqrt(ss / (c.units.length - 1))),
      p: probability(raw[j]),
      p_adj: probability(pAdj[j]),
      significant_corrected: pAdj[j] < plan.alpha,
    };
  });
  const naive = raw.filter((p) => p < plan.alpha).length;
  const tested = usable.filter(Boolean).length;
  return {
    kind: "head_position",
    family,
    counts: { total: tested, naive, corrected: cells.filter((c) => c.significant_corrected).length },
    top: topNames(columns.map((c, j) => ({ name: c.name, mean: cells[j].mean ?? Number.NaN }))),
    components: [],
    map: {
      positions: Math.max(0, ...cells.map((c) => c.position + 1)),
      test: `one-sample t per cell, ${plan.correction} across the ${tested} cells with at least 2 units (${cells.length - tested} not tested: padding or too few units)`,
      cells,
    },
  };
}

/**
 * Up to five names with the largest |mean|, largest first (ties: the earlier component first):
 * in the noise direction the effects that matter are drops, so the sign does not rank.
 */
export function topNames(items: { name: string; mean: number }[]): string[] {
  return items
    .map((item, index) => ({ ...item, index, size: Number.isFinite(item.mean) ? Math.abs(item.mean) : -1 }))
    .sort((a, b) => b.size - a.size || a.index - b.index)
    .slice(0, 5)
    .map((item) => item.name);
}
