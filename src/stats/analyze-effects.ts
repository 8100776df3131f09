/**
 * The standard per-hypothesis analysis of patching effects (DESIGN.md, "Statistics, stated
 * once"): for each column of effects, descriptives, one-sample t, Wilcoxon signed-rank and
 * sign-flip permutation tests, a BCa CI of the mean, Cohen's d_z with its noncentral-t CI and
 * Hedges' g_z; then the chosen test's p-values adjusted across columns (the family: all columns).
 * Each column is then classified important / negligible / inconclusive (importance.ts, TOST with
 * bounds ±SESOI), the selected columns get false-coverage-rate-adjusted CIs (fcr.ts), and, when
 * asked, the layer → head → position tree is tested hierarchically (hierarchical.ts).
 *
 * The test follows the estimand: t and sign-flip test the mean, the Wilcoxon signed-rank test
 * tests the pseudo-median (the median of Walsh averages), a different quantity when effects are
 * skewed. The status is always about the mean: with `test: "wilcoxon"` it uses the t-test, and
 * the report says so. `tspatch stats` prints this; the study report uses it too.
 */

import { InterruptedError } from "../errors.js";
import { streams } from "../random/streams.js";
import { bootstrapMeans } from "./bootstrap.js";
import { describe, overflowScale } from "./descriptives.js";
import { cohenDz, hedgesCorrection } from "./effect-size.js";
import { tostMean } from "./equivalence.js";
import { fcrIntervals } from "./fcr.js";
import { componentTree, type HierarchicalResult, hierarchicalFdr } from "./hierarchical.js";
import { classifyImportance, type ImportanceStatus } from "./importance.js";
import { adjustPValues, type Correction } from "./multiplicity.js";
import { signFlipTest } from "./permutation.js";
import type { BootstrapResult } from "./results.js";
import { ttest1samp } from "./ttest.js";
import type { UnitTableColumn } from "./unit-table.js";
import { wilcoxon } from "./wilcoxon.js";

export type TestName = "t" | "wilcoxon" | "perm";

/** What each test is a test of. */
export const TEST_ESTIMAND: Readonly<Record<TestName, "mean" | "pseudo-median">> = {
  t: "mean",
  perm: "mean",
  wilcoxon: "pseudo-median",
};

export interface AnalyzeOptions {
  alpha?: number;
  correction?: Correction;
  /** Which test's p-values are adjusted and decide significance (default "t"). */
  test?: TestName;
  resamples?: number;
  seed?: number;
  /** Smallest effect size of interest, in the metric's units (default 0.01, ΔP's; see importance.ts). */
  sesoi?: number;
  /** Also test the layer → head → position tree (Yekutieli) when the column names allow it. */
  hierarchical?: boolean;
  onProgress?: (done: number, total: number, detail?: string) => void;
  /** Checked between columns and every 1000 bootstrap resamples; throws InterruptedError. */
  signal?: AbortSignal;
}

/** One column's row; NaN where a value is undefined (`notes` says why). */
export interface EffectStats {
  name: string;
  n: number;
  mean: number;
  sd: number;
  se: number;
  t: number;
  df: number;
  p_t: number;
  p_wilcoxon: number;
  p_perm: number;
  /** BCa CI of the mean at level 1 - alpha. */
  ci_low: number;
  ci_high: number;
  d_z: number;
  d_z_ci_low: number;
  d_z_ci_high: number;
  g_z: number;
  p_adj: number;
  significant_naive: boolean;
  significant: boolean;
  /** TOST p for bounds ±sesoi (two one-sided t-tests), unadjusted and adjusted in the family. */
  p_tost: number;
  p_tost_adj: number;
  status: ImportanceStatus;
  /** FCR-adjusted t CI (level `fcr_level` of the report) when significant, NaN otherwise. */
  fcr_ci_low: number;
  fcr_ci_high: number;
  /** Hierarchical FDR decision (null without `hierarchical`). */
  hierarchical_rejected: boolean | null;
  wilcoxon_method: string;
  perm_method: string;
  notes: string[];
}

export interface EffectsReport {
  alpha: number;
  correction: Correction;
  test: TestName;
  resamples: number;
  seed: number;
  sesoi: number;
  /** What the chosen test is a test of. */
  estimand: "mean" | "pseudo-median";
  /** The test whose adjusted p decides `status` ("t" when the chosen test is Wilcoxon). */
  status_test: "t" | "perm";
  /** The family every correction ran over, in words. */
  family: string;
  /** 1 − R·q/m of the FCR-adjusted CIs (NaN when nothing was significant). */
  fcr_level: number;
  tests: EffectStats[];
  counts: {
    total: number;
    naive: number;
    corrected: number;
    important: number;
    negligible: number;
    inconclusive: number;
  };
  /** The hierarchical test, when asked for and the names form a layer/head/position tree. */
  hierarchical: HierarchicalResult | null;
}

/**
 * Analyse columns of effects.
 *
 * @example
 * const report = analyzeEffects([{ name: "L0H0", values: Float64Array.from([0.1, 0.3, 0.2, 0.4]) }]);
 * report.tests[0].p_t;
 */
export function analyzeEffects(
  columns: readonly UnitTableColumn[],
  options: AnalyzeOptions = {},
): EffectsReport {
  const steps = analysisSteps(columns, options);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * {@link analyzeEffects} that returns to the event loop between groups of columns, so that a
 * Ctrl-C (which aborts `options.signal`) is noticed during a long analysis. Same results.
 *
 * @example
 * const report = await analyzeEffectsAsync(columns, { signal: controller.signal });
 */
export async function analyzeEffectsAsync(
  columns: readonly UnitTableColumn[],
  options: AnalyzeOptions = {},
): Promise<EffectsReport> {
  const steps = analysisSteps(columns, options);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Columns bootstrapped per call: results do not depend on the grouping (see bootstrapMeans). */
const COLUMNS_PER_STEP = 16;

/** The analysis, pausing (yield) after each group of columns; throws InterruptedError when aborted. */
function* analysisSteps(
  columns: readonly UnitTableColumn[],
  options: AnalyzeOptions,
): Generator<void, EffectsReport> {
  const alpha = options.alpha ?? 0.05;
  const correction = options.correction ?? "bh";
  const test = options.test ?? "t";
  const resamples = options.resamples ?? 10000;
  const seed = options.seed ?? 0;
  const sesoi = options.sesoi ?? 0.01;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`\`alpha\` must be in (0, 1), got ${alpha}`);
  const level = 1 - alpha;
  const total = columns.length * 2;
  let done = 0;
  const checkAbort = () => {
    if (options.signal?.aborted) throw new InterruptedError("stats interrupted");
  };
  // Columns of 1e300-sized values are bootstrapped divided by a power of two (exact, and the
  // BCa interval of the mean scales with the data), so that resample sums stay finite.
  const scales = columns.map((c) => overflowScale(c.values));
  const cis: BootstrapResult[] = [];
  for (let j0 = 0; j0 < columns.length; j0 += COLUMNS_PER_STEP) {
    const group = columns.slice(j0, j0 + COLUMNS_PER_STEP);
    const results = bootstrapMeans(
      group.map((c, k) => (scales[j0 + k] === 1 ? c.values : c.values.map((v) => v / scales[j0 + k]))),
      {
        method: "BCa",
        level,
        resamples,
        seed,
        onProgress: (d, t) => {
          checkAbort();
          options.onProgress?.(Math.round(j0 + (d / t) * group.length), total, "bootstrap");
        },
      },
    );
    cis.push(...results);
    yield;
    checkAbort();
  }
  done = columns.length;
  const rows: EffectStats[] = [];
  for (const [j, column] of columns.entries()) {
    const x = column.values;
    const d = describe(x);
    const notes = new Set<string>();
    const tt = ttest1samp(x);
    const w = wilcoxon(x);
    // Streams keyed by n (so a column's result does not depend on the others), offset from the
    // bootstrap's streams so that sign vectors and resample indices are not the same draws.
    const perm = signFlipTest(x, { resamples, seed, stream: streams.permutation(x.length) });
    const dz = cohenDz(x);
    const dzCi = dz.confidenceInterval(level);
    for (const note of [
      ...tt.notes,
      ...w.notes.filter((s) => !s.startsWith("normal approximation")),
      ...cis[j].notes,
    ]) {
      notes.add(note);
    }
    if (d.sd === 0) {
      notes.add("constant column");
      notes.add(
        `every value is ${d.mean}: with sd = 0, t, p_t and d_z are undefined (not significant by the t-test); the Wilcoxon and sign-flip p-values still apply`,
      );
    }
    if (d.n === 2) notes.add("g_z needs n >= 3");
    done++;
    options.onProgress?.(done, total, column.name);
    rows.push({
      name: column.name,
      n: d.n,
      mean: d.mean,
      sd: d.sd,
      se: d.se,
      t: tt.statistic,
      df: tt.df,
      p_t: tt.pvalue,
      p_wilcoxon: w.pvalue,
      p_perm: perm.pvalue,
      ci_low: cis[j].confidenceInterval.low * scales[j],
      ci_high: cis[j].confidenceInterval.high * scales[j],
      d_z: dz.estimate,
      d_z_ci_low: dzCi.low,
      d_z_ci_high: dzCi.high,
      g_z: dz.estimate * hedgesCorrection(d.n - 1),
      p_adj: Number.NaN,
      significant_naive: false,
      significant: false,
      p_tost: tostMean(x, { low: -sesoi, high: sesoi }).pvalue,
      p_tost_adj: Number.NaN,
      status: "inconclusive",
      fcr_ci_low: Number.NaN,
      fcr_ci_high: Number.NaN,
      hierarchical_rejected: null,
      wilcoxon_method: w.exact ? "exact" : "normal approximation",
      perm_method: perm.exact ? "exact" : `Monte Carlo (${perm.resamples})`,
      notes: [...notes],
    });
    if (j % COLUMNS_PER_STEP === COLUMNS_PER_STEP - 1) {
      yield;
      checkAbort();
    }
  }
  const chosen = rows.map((r) => (test === "t" ? r.p_t : test === "wilcoxon" ? r.p_wilcoxon : r.p_perm));
  const adjusted = adjustPValues(chosen, correction, alpha).adjusted;
  rows.forEach((r, j) => {
    r.p_adj = adjusted[j];
    r.significant_naive = chosen[j] < alpha;
    r.significant = adjusted[j] < alpha;
  });
  const statusTest = test === "perm" ? "perm" : "t";
  const importance = classifyImportance(
    rows.map((r) => ({
      estimate: r.mean,
      pvalue: statusTest === "t" ? r.p_t : r.p_perm,
      pvalueTost: r.p_tost,
    })),
    { sesoi, alpha, correction },
  );
  const fcr = fcrIntervals(
    rows.map((r) => ({ estimate: r.mean, standardError: r.se, df: r.df })),
    rows.map((r) => r.significant),
    alpha,
  );
  rows.forEach((r, j) => {
    r.status = importance.status[j];
    r.p_tost_adj = importance.adjustedTost[j];
    r.fcr_ci_low = fcr.intervals[j]?.low ?? Number.NaN;
    r.fcr_ci_high = fcr.intervals[j]?.high ?? Number.NaN;
  });
  let hierarchical: HierarchicalResult | null = null;
  if (options.hierarchical) {
    const tree = componentTree(
      rows.map((r) => r.name),
      chosen,
    );
    if (tree !== null) {
      hierarchical = hierarchicalFdr(tree, alpha);
      const byName = new Map(hierarchical.decisions.map((d) => [d.name, d.rejected]));
      for (const r of rows) r.hierarchical_rejected = byName.get(r.name) ?? null;
    }
  }
  return {
    alpha,
    correction,
    test,
    resamples,
    seed,
    sesoi,
    estimand: TEST_ESTIMAND[test],
    status_test: statusTest,
    family: `all ${rows.length} columns`,
    fcr_level: fcr.level,
    tests: rows,
    counts: {
      total: rows.length,
      naive: rows.filter((r) => r.significant_naive).length,
      corrected: rows.filter((r) => r.significant).length,
      ...importance.counts,
    },
    hierarchical,
  };
}
