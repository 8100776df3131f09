/**
 * One-sample (and paired, on the differences) Student t-test, as scipy.stats.ttest_1samp.
 *
 * t = (x̄ - μ₀) / (s/√n) with df = n - 1; the p-value is from the t distribution (scipy's
 * `_ttest_finish`), and the confidence interval for the mean is x̄ ± t_{df} · s/√n.
 */
import { mean, overflowScale, type Sample, sd } from "./descriptives.js";
import { tCdf, tQuantile } from "./distributions.js";
import type { Alternative, ConfidenceInterval, TestResult } from "./results.js";

export interface TTestResult extends TestResult {
  readonly df: number;
  /** The sample mean. */
  readonly estimate: number;
  /** s/√n. */
  readonly standardError: number;
  /** CI for the population mean at `level` (default 0.95), on the side of `alternative`. */
  confidenceInterval(level?: number): ConfidenceInterval;
}

export interface TTestOptions {
  /** Hypothesised mean μ₀ (default 0). */
  popmean?: number;
  alternative?: Alternative;
}

/**
 * One-sample t-test of H0: mean = popmean.
 *
 * @example
 * const r = ttest1samp([0.3, 0.1, 0.5, 0.2, 0.4]);
 * r.statistic; // 4.242640687119285
 * r.pvalue;    // 0.013236...
 * r.confidenceInterval(0.95); // { low: 0.1036..., high: 0.4963..., level: 0.95 }
 */
export function ttest1samp(x: Sample, options: TTestOptions = {}): TTestResult {
  const popmean = options.popmean ?? 0;
  const alternative = options.alternative ?? "two-sided";
  const n = x.length;
  const df = n - 1;
  const estimate = mean(x);
  const standardError = sd(x) / Math.sqrt(n);
  // t is scale-free: computed on x divided by a power of two when x is huge or subnormal-small,
  // where the unscaled mean and sd would overflow or lose digits.
  const scale = overflowScale(x);
  const scaled = scale === 1 ? x : Float64Array.from(x as ArrayLike<number>, (v) => v / scale);
  const centred = (mean(scaled) - popmean / scale) / (sd(scaled) / Math.sqrt(n));
  // With sd = 0 the statistic would be ±inf (p = 0) or 0/0: the test has no variance to judge
  // the mean against, so both are undefined (NaN), never a "significant" infinite t.
  const statistic =
    standardError === 0 ? Number.NaN : scale === 1 ? (estimate - popmean) / standardError : centred;
  const notes: string[] = [];
  if (n < 2) notes.push("n < 2");
  else if (standardError === 0) notes.push("constant column");
  const pvalue = tPValue(statistic, df, alternative);
  return {
    statistic,
    pvalue,
    df,
    estimate,
    standardError,
    alternative,
    method: "one-sample t-test",
    n,
    notes,
    confidenceInterval(level = 0.95): ConfidenceInterval {
      return tConfidenceInterval(estimate, standardError, df, level, alternative);
    },
  };
}

/** p-value of a t statistic (scipy `_ttest_finish`). */
export function tPValue(t: number, df: number, alternative: Alternative): number {
  if (Number.isNaN(t) || !(df > 0)) return Number.NaN;
  switch (alternative) {
    case "less":
      return tCdf(t, df);
    case "greater":
      return tCdf(-t, df);
    case "two-sided":
      return Math.min(1, 2 * tCdf(-Math.abs(t), df));
  }
}

/** CI for a mean from its standard error (scipy `_t_confidence_interval`). */
export function tConfidenceInterval(
  estimate: number,
  standardError: number,
  df: number,
  level: number,
  alternative: Alternative,
): ConfidenceInterval {
  if (!(level > 0 && level < 1)) throw new RangeError(`\`level\` must be in (0, 1), got ${level}`);
  if (alternative === "two-sided") {
    const q = tQuantile(0.5 + level / 2, df);
    return { low: estimate - q * standardError, high: estimate + q * standardError, level };
  }
  const q = tQuantile(level, df);
  return alternative === "less"
    ? { low: Number.NEGATIVE_INFINITY, high: estimate + q * standardError, level }
    : { low: estimate - q * standardError, high: Number.POSITIVE_INFINITY, level };
}
