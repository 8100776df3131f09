/**
 * A bootstrap CI for a correlation between two rankings of unit means. Each resample recomputes
 * the means from resampled units, which adds noise to both rankings, so the replicates of ρ
 * sit off the point estimate ρ̂ (usually below it); the percentile interval ignores that
 * bias and reflects it the wrong way. The BCa interval (Efron [1]; Efron & Tibshirani [2]
 * §14.3) corrects for it: ẑ₀ = Φ⁻¹(share of replicates below ρ̂) moves the quantile levels
 * towards the side the replicates are missing from, and â from the jackknife over units
 * corrects for the skew. Computed as scipy.stats.bootstrap(method="BCa") does.
 *
 * When every replicate lies on one side of ρ̂, ẑ₀ is infinite and BCa is undefined; the
 * interval is then the basic (reverse-percentile) one, 2ρ̂ − the percentile ends, clipped to
 * [−1, 1], and the notes say so. A jackknife that does not vary (â = 0/0) gives â = 0 (the BC
 * interval). BCa contains ρ̂ exactly when ρ̂ lies between about the α/2 and 1 − α/2 quantiles
 * of the replicates (as the percentile interval does); beyond that the notes flag it: the
 * bootstrap bias then exceeds the bootstrap spread and the interval is not to be trusted.
 *
 * References:
 * [1] B. Efron, "Better bootstrap confidence intervals", JASA 82(397):171-185, 1987.
 * [2] B. Efron, R. J. Tibshirani, "An Introduction to the Bootstrap", Chapman & Hall, 1993.
 */

import { bcaLevels, jackknifeAcceleration, shareBelow } from "./bootstrap.js";
import { quantileSorted } from "./descriptives.js";
import { normalQuantile } from "./distributions.js";

export interface CorrelationInterval {
  readonly low: number;
  readonly high: number;
  readonly level: number;
  readonly method: "BCa" | "basic";
  /** BCa ẑ₀ (±Infinity when the replicates are all on one side). */
  readonly biasCorrection: number;
  readonly acceleration: number;
  readonly notes: readonly string[];
}

/**
 * The BCa interval of a correlation from its bootstrap replicates (NaN replicates dropped) and
 * its leave-one-unit-out statistics (one array per independently resampled set of units).
 *
 * @example
 * const ci = correlationInterval(replicates, rho, [jackknife], 0.95);
 * ci.low; ci.high; ci.method; // "BCa", or "basic" when every replicate is on one side of rho
 */
export function correlationInterval(
  replicates: ArrayLike<number>,
  estimate: number,
  jackknife: readonly Float64Array[],
  level: number,
): CorrelationInterval {
  const sorted = Float64Array.from(replicates as ArrayLike<number>)
    .filter((v) => !Number.isNaN(v))
    .sort();
  const notes: string[] = [];
  if (sorted.length === 0 || Number.isNaN(estimate)) {
    return {
      low: Number.NaN,
      high: Number.NaN,
      level,
      method: "BCa",
      biasCorrection: Number.NaN,
      acceleration: Number.NaN,
      notes: ["no finite bootstrap replicate"],
    };
  }
  const share = shareBelow(sorted, estimate);
  const biasCorrection = normalQuantile(share);
  let acceleration = jackknifeAcceleration(jackknife);
  if (Number.isNaN(acceleration)) {
    acceleration = 0;
    notes.push("the jackknife statistics do not vary: acceleration 0 (BC interval)");
  }
  const alpha = (1 - level) / 2;
  if (!Number.isFinite(biasCorrection)) {
    const low = 2 * estimate - quantileSorted(sorted, 1 - alpha);
    const high = 2 * estimate - quantileSorted(sorted, alpha);
    notes.push(
      `all ${sorted.length} bootstrap replicates are ${share === 0 ? "above" : "below"} the estimate, so BCa is undefined: basic (reverse-percentile) interval, clipped to [-1, 1]`,
    );
    return {
      low: Math.min(1, Math.max(-1, low)),
      high: Math.min(1, Math.max(-1, high)),
      level,
      method: "basic",
      biasCorrection,
      acceleration,
      notes,
    };
  }
  const [alpha1, alpha2] = bcaLevels(biasCorrection, acceleration, level);
  const low = quantileSorted(sorted, alpha1);
  const high = quantileSorted(sorted, alpha2);
  if (estimate < low || estimate > high) {
    notes.push(
      `the estimate lies outside its interval: ${(100 * share).toFixed(1)}% of the replicates are below it (z0 = ${biasCorrection.toFixed(2)}), so the resampled rankings are biased by more than their spread, which no percentile-based interval (percentile, basic or BCa) corrects: read the interval as unreliable`,
    );
  }
  return { low, high, level, method: "BCa", biasCorrection, acceleration, notes };
}
