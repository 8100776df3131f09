/**
 * Result objects, scipy style: every test or estimate says what it computed (`method`), on how
 * many values (`n`), and anything the reader must know (`notes`, e.g. "normal approximation:
 * ties present"). Degenerate input gives NaN with a note, never an exception.
 */

/** Which side the alternative hypothesis is on (scipy's `alternative`). */
export type Alternative = "two-sided" | "less" | "greater";

/** A confidence interval with its level; one-sided intervals have an infinite end. */
export interface ConfidenceInterval {
  readonly low: number;
  readonly high: number;
  readonly level: number;
}

/** A hypothesis test. */
export interface TestResult {
  readonly statistic: number;
  readonly pvalue: number;
  readonly alternative: Alternative;
  /** What was computed, e.g. "one-sample t-test" or "Wilcoxon signed-rank (exact)". */
  readonly method: string;
  /** Number of values the test used (after dropping zeros where the test does). */
  readonly n: number;
  readonly notes: readonly string[];
}

/** An estimate with a confidence interval that can be recomputed at any level. */
export interface EstimateResult {
  readonly estimate: number;
  readonly method: string;
  readonly n: number;
  readonly notes: readonly string[];
  confidenceInterval(level?: number): ConfidenceInterval;
}

/** A bootstrap confidence interval (scipy.stats.bootstrap's result, plus the BCa internals). */
export interface BootstrapResult {
  /** The statistic on the original data. */
  readonly estimate: number;
  readonly confidenceInterval: ConfidenceInterval;
  readonly method: "percentile" | "basic" | "BCa";
  readonly n: number;
  readonly resamples: number;
  /** Standard deviation (ddof = 1) of the bootstrap distribution. */
  readonly standardError: number;
  /** BCa bias correction ẑ₀ (NaN for other methods). */
  readonly biasCorrection: number;
  /** BCa jackknife acceleration â (NaN for other methods). */
  readonly acceleration: number;
  /** The bootstrap distribution, unsorted, when asked for (`keepDistribution`). */
  readonly distribution?: Float64Array;
  readonly notes: readonly string[];
}
