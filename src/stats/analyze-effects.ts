/**
 * The standard per-hypothesis analysis of patching effects (DESIGN.md, "Statistics, stated
 * once"): for each column of effects, descriptives, one-sample t, Wilcoxon signed-rank and
 * sign-flip permutation tests, a BCa CI of the mean, Cohen's d_z with its noncentral-t CI and
 * Hedges' g_z; then the chosen test's p-values adjusted across columns. `tspatch stats` prints
 * this; the study report uses it too.
 */

import { streams } from "../random/streams.js";
import { bootstrapMeans } from "./bootstrap.js";
import { describe } from "./descriptives.js";
import { cohenDz, hedgesCorrection } from "./effect-size.js";
import { adjustPValues, type Correction } from "./multiplicity.js";
import { signFlipTest } from "./permutation.js";
import { ttest1samp } from "./ttest.js";
import type { UnitTableColumn } from "./unit-table.js";
import { wilcoxon } from "./wilcoxon.js";

export type TestName = "t" | "wilcoxon" | "perm";

export interface AnalyzeOptions {
  alpha?: number;
  correction?: Correction;
  /** Which test's p-values are adjusted and decide significance (default "t"). */
  test?: TestName;
  resamples?: number;
  seed?: number;
  onProgress?: (done: number, total: number, detail?: string) => void;
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
  tests: EffectStats[];
  counts: { total: number; naive: number; corrected: number };
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
  const alpha = options.alpha ?? 0.05;
  const correction = options.correction ?? "bh";
  const test = options.test ?? "t";
  const resamples = options.resamples ?? 10000;
  const seed = options.seed ?? 0;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`\`alpha\` must be in (0, 1), got ${alpha}`);
  const level = 1 - alpha;
  const total = columns.length * 2;
  let done = 0;
  const cis = bootstrapMeans(
    columns.map((c) => c.values),
    {
      method: "BCa",
      level,
      resamples,
      seed,
      onProgress:
        options.onProgress &&
        ((d, t) => options.onProgress?.(Math.round((d / t) * columns.length), total, "bootstrap")),
    },
  );
  done = columns.length;
  const rows: EffectStats[] = columns.map((column, j) => {
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
    if (d.sd === 0) notes.add("constant column");
    if (d.n === 2) notes.add("g_z needs n >= 3");
    done++;
    options.onProgress?.(done, total, column.name);
    return {
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
      ci_low: cis[j].confidenceInterval.low,
      ci_high: cis[j].confidenceInterval.high,
      d_z: dz.estimate,
      d_z_ci_low: dzCi.low,
      d_z_ci_high: dzCi.high,
      g_z: dz.estimate * hedgesCorrection(d.n - 1),
      p_adj: Number.NaN,
      significant_naive: false,
      significant: false,
      wilcoxon_method: w.exact ? "exact" : "normal approximation",
      perm_method: perm.exact ? "exact" : `Monte Carlo (${perm.resamples})`,
      notes: [...notes],
    };
  });
  const chosen = rows.map((r) => (test === "t" ? r.p_t : test === "wilcoxon" ? r.p_wilcoxon : r.p_perm));
  const adjusted = adjustPValues(chosen, correction, alpha).adjusted;
  rows.forEach((r, j) => {
    r.p_adj = adjusted[j];
    r.significant_naive = chosen[j] < alpha;
    r.significant = adjusted[j] < alpha;
  });
  return {
    alpha,
    correction,
    test,
    resamples,
    seed,
    tests: rows,
    counts: {
      total: rows.length,
      naive: rows.filter((r) => r.significant_naive).length,
      corrected: rows.filter((r) => r.significant).length,
    },
  };
}
