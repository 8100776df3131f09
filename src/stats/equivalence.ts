/**
 * Two one-sided tests (TOST) of equivalence for a mean, as statsmodels'
 * `ttost_paired(x, 0, low, high)` / `DescrStatsW.ttost_mean(low, high)` [1, 2].
 *
 * H0: μ ≤ low or μ ≥ high, against H1: low < μ < high. Each side is a one-sample t-test with
 * df = n − 1 and standard error s/√n: t_low = (x̄ − low)/se tested against "greater",
 * t_high = (x̄ − high)/se against "less"; the TOST p-value is the larger of the two [1, Eq. 1–2].
 * Rejecting at α is the same as the (1 − 2α) t interval lying inside (low, high) [1, §"TOST"].
 *
 * References:
 * [1] D. Lakens, "Equivalence tests: a practical primer for t tests, correlations, and
 *     meta-analyses", Social Psychological and Personality Science 8(4), 2017.
 * [2] D. J. Schuirmann, "A comparison of the two one-sided tests procedure and the power approach
 *     for assessing the equivalence of average bioavailability", J. Pharmacokin. Biopharm. 15, 1987.
 */
import { mean, type Sample, sd } from "./descriptives.js";
import type { TestResult } from "./results.js";
import { tPValue } from "./ttest.js";

/** One side of a TOST. */
export interface OneSidedT {
  readonly statistic: number;
  readonly pvalue: number;
}

export interface TostResult extends TestResult {
  /** max(lower.pvalue, upper.pvalue): small p = equivalent (inside the bounds). */
  readonly pvalue: number;
  /** The smaller |t| of the two sides (the one that decides). */
  readonly statistic: number;
  readonly df: number;
  readonly estimate: number;
  readonly standardError: number;
  readonly low: number;
  readonly high: number;
  /** H0: μ ≤ low, alternative "greater". */
  readonly lower: OneSidedT;
  /** H0: μ ≥ high, alternative "less". */
  readonly upper: OneSidedT;
}

/**
 * TOST for a one-sample (or paired-difference) mean, with equivalence bounds (low, high).
 *
 * @example
 * const r = tostMean([0.001, -0.002, 0.0005, 0.0015, -0.001], { low: -0.01, high: 0.01 });
 * r.pvalue; // 2.5e-5 (both one-sided tests reject: the mean is within ±0.01)
 */
export function tostMean(x: Sample, bounds: { low: number; high: number }): TostResult {
  const { low, high } = bounds;
  if (!(low < high)) throw new RangeError(`equivalence bounds need low < high, got (${low}, ${high})`);
  const n = x.length;
  const df = n - 1;
  const estimate = mean(x);
  const standardError = sd(x) / Math.sqrt(n);
  const notes: string[] = [];
  if (n < 2) notes.push("n < 2");
  else if (standardError === 0) notes.push("constant column");
  const tLow = (estimate - low) / standardError;
  const tHigh = (estimate - high) / standardError;
  const lower = { statistic: tLow, pvalue: tPValue(tLow, df, "greater") };
  const upper = { statistic: tHigh, pvalue: tPValue(tHigh, df, "less") };
  const pvalue = Math.max(lower.pvalue, upper.pvalue);
  return {
    statistic: lower.pvalue >= upper.pvalue ? tLow : tHigh,
    pvalue: Number.isNaN(lower.pvalue) || Number.isNaN(upper.pvalue) ? Number.NaN : pvalue,
    alternative: "two-sided",
    method: "TOST (two one-sided t-tests)",
    n,
    notes,
    df,
    estimate,
    standardError,
    low,
    high,
    lower,
    upper,
  };
}
