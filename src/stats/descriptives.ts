/**
 * Descriptive statistics in float64, with numpy's definitions: `sd` uses ddof = 1 and
 * `quantile` is numpy's default ("linear", Hyndman & Fan [1] type 7).
 *
 * Degenerate input gives NaN (scipy's convention), never an exception: the mean of an empty
 * sample and the sd of a single value are NaN.
 *
 * References:
 * [1] R. J. Hyndman, Y. Fan, "Sample quantiles in statistical packages", The American
 *     Statistician 50(4), 361-365, 1996.
 */

/** A sample of numbers: any array-like of float64 values. */
export type Sample = ArrayLike<number>;

/**
 * Arithmetic mean.
 *
 * @example
 * mean([1, 2, 3, 4]); // 2.5
 */
export function mean(x: Sample): number {
  const n = x.length;
  if (n === 0) return Number.NaN;
  const scale = overflowScale(x);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += x[i] / scale;
  return (sum / n) * scale;
}

/**
 * A power of two to divide every value by so that sums of values and of squared deviations stay
 * finite and normal: 1 (no change) for the usual magnitudes, else 2^⌊log2 max|x|⌋. Dividing by a
 * power of two is exact and floating-point sums are invariant under it, so scaled results equal
 * the unscaled ones whenever those did not overflow or underflow (1e300-sized data would
 * otherwise give an infinite variance and t = 0; two cells of 1e308 an infinite mean).
 */
export function overflowScale(x: Sample): number {
  let max = 0;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]);
    if (a > max) max = a;
  }
  if (!Number.isFinite(max) || max === 0 || (max < 2 ** 500 && max > 2 ** -500)) return 1;
  return 2 ** Math.floor(Math.log2(max));
}

/** Σ(x - x̄)² of x / scale (two-pass), and the scale. */
function scaledSumOfSquares(x: Sample): { ss: number; scale: number } {
  const scale = overflowScale(x);
  const m = mean(x) / scale;
  let ss = 0;
  for (let i = 0; i < x.length; i++) {
    const d = x[i] / scale - m;
    ss += d * d;
  }
  return { ss, scale };
}

/**
 * Sample variance with `ddof` delta degrees of freedom (default 1), two-pass for accuracy.
 *
 * @example
 * variance([1, 2, 3, 4]); // 1.6666666666666667
 */
export function variance(x: Sample, ddof = 1): number {
  const n = x.length;
  if (n - ddof <= 0) return Number.NaN;
  const { ss, scale } = scaledSumOfSquares(x);
  return (ss / (n - ddof)) * scale * scale;
}

/**
 * Sample standard deviation (ddof = 1 unless given).
 *
 * @example
 * sd([1, 2, 3, 4]); // 1.2909944487358056
 */
export function sd(x: Sample, ddof = 1): number {
  const n = x.length;
  if (n - ddof <= 0) return Number.NaN;
  // Scaled back after the square root: the sd of 1e300-sized values is finite, their variance not.
  const { ss, scale } = scaledSumOfSquares(x);
  return Math.sqrt(ss / (n - ddof)) * scale;
}

/**
 * Standard error of the mean, sd / √n (scipy.stats.sem).
 *
 * @example
 * se([1, 2, 3, 4]); // 0.6454972243679028
 */
export function se(x: Sample): number {
  return sd(x) / Math.sqrt(x.length);
}

/** A sorted float64 copy of `x`. */
export function sorted(x: Sample): Float64Array {
  const out = Float64Array.from(x as ArrayLike<number>);
  out.sort();
  return out;
}

/**
 * Quantile `q` in [0, 1] of already sorted values, numpy's default "linear" method: the value at
 * position q·(n-1), interpolated the way numpy's `_lerp` does it.
 */
export function quantileSorted(sortedValues: Sample, q: number): number {
  const n = sortedValues.length;
  if (n === 0 || Number.isNaN(q)) return Number.NaN;
  const position = q * (n - 1);
  const lowerIndex = Math.min(Math.max(Math.floor(position), 0), n - 1);
  const upperIndex = Math.min(lowerIndex + 1, n - 1);
  const t = position - lowerIndex;
  const a = sortedValues[lowerIndex];
  const b = sortedValues[upperIndex];
  const diff = b - a;
  // numpy computes b - diff*(1-t) when t >= 0.5, so that t = 1 gives exactly b.
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/**
 * Quantile `q` in [0, 1] (numpy.quantile's default linear method).
 *
 * @example
 * quantile([1, 2, 3, 4], 0.25); // 1.75
 */
export function quantile(x: Sample, q: number): number {
  return quantileSorted(sorted(x), q);
}

/**
 * Median (numpy.median).
 *
 * @example
 * median([3, 1, 2, 10]); // 2.5
 */
export function median(x: Sample): number {
  return quantile(x, 0.5);
}

/** The usual summary of one sample. */
export interface Descriptives {
  readonly n: number;
  readonly mean: number;
  readonly sd: number;
  readonly se: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly q25: number;
  readonly q75: number;
}

/**
 * All descriptives of one sample at once (one sort).
 *
 * @example
 * describe([1, 2, 3, 4]).sd; // 1.2909944487358056
 */
export function describe(x: Sample): Descriptives {
  const s = sorted(x);
  const n = s.length;
  const sdValue = sd(x);
  return {
    n,
    mean: mean(x),
    sd: sdValue,
    se: sdValue / Math.sqrt(n),
    median: quantileSorted(s, 0.5),
    min: n > 0 ? s[0] : Number.NaN,
    max: n > 0 ? s[n - 1] : Number.NaN,
    q25: quantileSorted(s, 0.25),
    q75: quantileSorted(s, 0.75),
  };
}
