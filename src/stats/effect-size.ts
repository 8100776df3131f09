/**
 * Standardised effect sizes.
 *
 * - Cohen's d_z = x̄ / s for one sample of differences (Cohen [1], Lakens [2] Eq. 6 with the
 *   paired differences); its CI inverts the noncentral t distribution of t = d_z·√n
 *   (Steiger & Fouladi [3]): δ_L, δ_U solve F(t; n-1, δ) = 1 - α/2 and α/2, CI = δ/√n.
 * - Hedges' g = J(df)·d with the exact small-sample correction
 *   J(df) = Γ(df/2) / (√(df/2) Γ((df-1)/2)) (Hedges [4] Eq. 6e), df = n - 1 for g_z.
 * - Two independent groups: d = (x̄₁ - x̄₂)/s_p with the pooled
 *   s_p = √(((n₁-1)s₁² + (n₂-1)s₂²)/(n₁+n₂-2)), g = J(n₁+n₂-2)·d.
 *
 * References:
 * [1] J. Cohen, "Statistical Power Analysis for the Behavioral Sciences", 2nd ed., 1988.
 * [2] D. Lakens, "Calculating and reporting effect sizes to facilitate cumulative science",
 *     Frontiers in Psychology 4:863, 2013.
 * [3] J. H. Steiger, R. T. Fouladi, "Noncentrality interval estimation and the evaluation of
 *     statistical models", in "What if there were no significance tests?", 1997.
 * [4] L. V. Hedges, "Distribution theory for Glass's estimator of effect size and related
 *     estimators", Journal of Educational Statistics 6(2), 107-128, 1981.
 */
import { type BootstrapOptions, bootstrap } from "./bootstrap.js";
import { mean, overflowScale, type Sample, sd, variance } from "./descriptives.js";
import { nctCdf } from "./distributions.js";
import type { BootstrapResult, ConfidenceInterval, EstimateResult } from "./results.js";
import { findRoot } from "./root.js";
import { gammaln } from "./special.js";

/**
 * Hedges' exact small-sample correction factor J(df).
 *
 * @example
 * hedgesCorrection(9); // 0.9138…
 */
export function hedgesCorrection(df: number): number {
  if (!(df > 1)) return Number.NaN;
  return Math.exp(gammaln(df / 2) - gammaln((df - 1) / 2)) / Math.sqrt(df / 2);
}

/**
 * Cohen's d_z = mean / sd of one sample (e.g. patching effects); the CI is by noncentral t
 * inversion.
 *
 * @example
 * const d = cohenDz([0.3, 0.1, 0.5, 0.2, 0.4]);
 * d.estimate; // 1.8973665961010275
 * d.confidenceInterval(0.95); // { low: 0.3329…, high: 3.4070…, level: 0.95 }
 */
export function cohenDz(x: Sample): EstimateResult {
  const n = x.length;
  // Scale-free, so computed on x divided by a power of two when x is huge or subnormal-small.
  const scale = overflowScale(x);
  const scaled = scale === 1 ? x : Float64Array.from(x as ArrayLike<number>, (v) => v / scale);
  const s = sd(scaled);
  // A constant column has no spread to standardise by: undefined, not ±inf.
  const estimate = s === 0 ? Number.NaN : mean(scaled) / s;
  return {
    estimate,
    method: "Cohen's d_z",
    n,
    notes: degenerateNotes(n, estimate),
    confidenceInterval: (level = 0.95) => dzConfidenceInterval(estimate, n, level),
  };
}

/**
 * Hedges' g_z = J(n-1)·d_z; its CI is the d_z interval scaled by the same J.
 *
 * @example
 * hedgesGz([0.3, 0.1, 0.5, 0.2, 0.4]).estimate; // 1.5138…
 */
export function hedgesGz(x: Sample): EstimateResult {
  const n = x.length;
  const j = hedgesCorrection(n - 1);
  const dz = cohenDz(x);
  return {
    estimate: j * dz.estimate,
    method: "Hedges' g_z",
    n,
    notes: dz.notes,
    confidenceInterval: (level = 0.95) => {
      const ci = dz.confidenceInterval(level);
      return { low: j * ci.low, high: j * ci.high, level };
    },
  };
}

/**
 * CI for d_z from the noncentral t: find δ with F(d_z·√n; n-1, δ) = 1 - α/2 (low) and α/2 (high).
 *
 * @example
 * dzConfidenceInterval(0.5, 30, 0.95); // { low: 0.1161…, high: 0.8762…, level: 0.95 }
 */
export function dzConfidenceInterval(dz: number, n: number, level = 0.95): ConfidenceInterval {
  if (!(level > 0 && level < 1)) throw new RangeError(`\`level\` must be in (0, 1), got ${level}`);
  if (!Number.isFinite(dz) || n < 2) return { low: Number.NaN, high: Number.NaN, level };
  const df = n - 1;
  const sqrtN = Math.sqrt(n);
  const t = dz * sqrtN;
  const solve = (target: number): number => {
    // F(t; df, δ) decreases in δ; bracket the root around t, widening until it is inside.
    const f = (delta: number) => nctCdf(t, df, delta) - target;
    let width = 2 + Math.abs(t) * 0.5;
    let lo = t - width;
    let hi = t + width;
    for (let i = 0; i < 60 && f(lo) < 0; i++) {
      width *= 2;
      lo = t - width;
    }
    width = 2 + Math.abs(t) * 0.5;
    for (let i = 0; i < 60 && f(hi) > 0; i++) {
      width *= 2;
      hi = t + width;
    }
    return findRoot(f, lo, hi, { xTolerance: 1e-12 });
  };
  const alpha = 1 - level;
  return { low: solve(1 - alpha / 2) / sqrtN, high: solve(alpha / 2) / sqrtN, level };
}

/**
 * Bootstrap CI for d_z (BCa by default, scipy.stats.bootstrap's definition), an alternative to
 * the noncentral-t interval when the effects are far from normal.
 *
 * @example
 * dzBootstrapInterval([0.3, 0.1, 0.5, 0.2, 0.4, 0.6, 0.1], { seed: 0 }).confidenceInterval;
 */
export function dzBootstrapInterval(x: Sample, options: BootstrapOptions = {}): BootstrapResult {
  return bootstrap(x, (s) => mean(s) / sd(s), options);
}

/** Result of a two-group standardised mean difference. */
export interface TwoGroupEffectSize {
  readonly estimate: number;
  readonly method: "Cohen's d (pooled sd)" | "Hedges' g (pooled sd)";
  readonly n1: number;
  readonly n2: number;
  readonly pooledSd: number;
  readonly notes: readonly string[];
}

/** Pooled standard deviation of two independent samples. */
export function pooledSd(x: Sample, y: Sample): number {
  const n1 = x.length;
  const n2 = y.length;
  return Math.sqrt(((n1 - 1) * variance(x) + (n2 - 1) * variance(y)) / (n1 + n2 - 2));
}

/**
 * Cohen's d for two independent groups with the pooled sd.
 *
 * @example
 * cohenD([1, 2, 3, 4], [2, 3, 4, 5]).estimate; // -0.7745966692414834
 */
export function cohenD(x: Sample, y: Sample): TwoGroupEffectSize {
  const sp = pooledSd(x, y);
  const estimate = (mean(x) - mean(y)) / sp;
  return {
    estimate,
    method: "Cohen's d (pooled sd)",
    n1: x.length,
    n2: y.length,
    pooledSd: sp,
    notes: x.length < 2 || y.length < 2 ? ["n < 2"] : sp === 0 ? ["constant columns"] : [],
  };
}

/**
 * Hedges' g for two independent groups: J(n₁+n₂-2) · Cohen's d.
 *
 * @example
 * hedgesG([1, 2, 3, 4], [2, 3, 4, 5]).estimate; // -0.6728…
 */
export function hedgesG(x: Sample, y: Sample): TwoGroupEffectSize {
  const d = cohenD(x, y);
  return {
    ...d,
    estimate: d.estimate * hedgesCorrection(x.length + y.length - 2),
    method: "Hedges' g (pooled sd)",
  };
}

function degenerateNotes(n: number, estimate: number): string[] {
  if (n < 2) return ["n < 2"];
  if (!Number.isFinite(estimate)) return ["constant column"];
  return [];
}
