/**
 * Effect metrics of one patched run, computed in float64 from float32 logits.
 *
 * With P = softmax(logits), y = the pair's true class, and LD = logit(good) − logit(bad):
 * - `dpTrue`   = P_patched(y) − P_target(y)                                   (ΔP(true))
 * - `recovery` = (M_patched − M_target) / (M_source − M_target), where M is P(y)
 *                ("p_true", misclassified and noised pairs) or LD ("logit_diff",
 *                cross-class pairs). This is the normalised patching metric of
 *                Wang et al. 2022 [1] §3 / Heimersheim & Nanda 2024 [2] §2.3.
 *                It is `null` (undefined) when |M_source − M_target| < `epsilon`:
 *                the pair has nothing to recover, and the ratio would be noise or ±∞.
 * - `logitDiff`  = LD of the patched run; `dLogitDiff` = LD_patched − LD_target.
 * - `klSource`   = KL(P_source ‖ P_patched) = Σ_k P_source(k) (log P_source(k) − log P_patched(k)),
 *                  with 0·log 0 = 0 (Cover & Thomas, Eq. 2.26).
 *
 * References:
 * [1] K. Wang et al., "Interpretability in the Wild: a Circuit for Indirect Object
 *     Identification in GPT-2 small", arXiv:2211.00593 (2022).
 * [2] S. Heimersheim, N. Nanda, "How to use and interpret activation patching", arXiv:2404.15255 (2024).
 */

/** What normalised recovery is measured on. */
export type RecoveryBasis = "p_true" | "logit_diff";

/** Default threshold under which the recovery denominator counts as zero. */
export const RECOVERY_EPSILON = 1e-6;

export interface EffectMetrics {
  readonly dpTrue: number;
  /** null when the denominator is below epsilon (see the module comment). */
  readonly recovery: number | null;
  readonly logitDiff: number;
  readonly dLogitDiff: number;
  readonly klSource: number;
}

/** The classes a pair's metrics are about. */
export interface MetricClasses {
  readonly trueClass: number;
  readonly goodClass: number;
  readonly badClass: number;
}

/** Logits of one row, as a float64 log-softmax, plus the raw logits in float64. */
export interface Scored {
  readonly logits: Float64Array;
  readonly logProbs: Float64Array;
}

/**
 * Log-softmax in float64 (max-shifted, so no overflow).
 *
 * @example
 * logSoftmax([0, 0]); // Float64Array [-0.693…, -0.693…]
 */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let k = 0; k < logits.length; k++) max = Math.max(max, logits[k]);
  let sum = 0;
  for (let k = 0; k < logits.length; k++) sum += Math.exp(logits[k] - max);
  const logSum = Math.log(sum);
  const out = new Float64Array(logits.length);
  // (z − max) − log Σ exp(z − max): subtracting the max first keeps small differences exact.
  for (let k = 0; k < logits.length; k++) out[k] = logits[k] - max - logSum;
  return out;
}

/**
 * Softmax in float64.
 *
 * @example
 * softmax([0, Math.log(3)]); // Float64Array [0.25, 0.75]
 */
export function softmax(logits: ArrayLike<number>): Float64Array {
  return logSoftmax(logits).map(Math.exp);
}

/** Score one row of logits (`offset` into a flat B×K array). */
export function score(logits: ArrayLike<number>, offset = 0, classes = logits.length - offset): Scored {
  const row = new Float64Array(classes);
  for (let k = 0; k < classes; k++) row[k] = logits[offset + k];
  return { logits: row, logProbs: logSoftmax(row) };
}

/**
 * KL(p ‖ q) from log-probabilities, terms with p = 0 contribute 0.
 *
 * @example
 * klDivergence(logSoftmax([1, 2]), logSoftmax([1, 2])); // 0
 */
export function klDivergence(logP: ArrayLike<number>, logQ: ArrayLike<number>): number {
  let kl = 0;
  for (let k = 0; k < logP.length; k++) {
    const p = Math.exp(logP[k]);
    if (p > 0) kl += p * (logP[k] - logQ[k]);
  }
  // Rounding can leave a tiny negative value for identical distributions.
  return Math.max(0, kl);
}

/**
 * The effect metrics of one patched run against the pair's unpatched source and target runs.
 *
 * @param basis what `recovery` is normalised on (see the module comment)
 * @param epsilon |denominator| below which recovery is undefined (`null`)
 * @example
 * const m = effectMetrics(score(patched), score(source), score(target), { trueClass: 2, goodClass: 2, badClass: 5 });
 * m.dpTrue; // P_patched(2) − P_target(2)
 */
export function effectMetrics(
  patched: Scored,
  source: Scored,
  target: Scored,
  classes: MetricClasses,
  basis: RecoveryBasis = "p_true",
  epsilon = RECOVERY_EPSILON,
): EffectMetrics {
  const y = classes.trueClass;
  const pPatched = Math.exp(patched.logProbs[y]);
  const pTarget = Math.exp(target.logProbs[y]);
  const ld = (s: Scored) => s.logits[classes.goodClass] - s.logits[classes.badClass];
  const ldPatched = ld(patched);
  const ldTarget = ld(target);
  const [mPatched, mSource, mTarget] =
    basis === "p_true"
      ? [pPatched, Math.exp(source.logProbs[y]), pTarget]
      : [ldPatched, ld(source), ldTarget];
  const denominator = mSource - mTarget;
  return {
    dpTrue: pPatched - pTarget,
    recovery: Math.abs(denominator) < epsilon ? null : (mPatched - mTarget) / denominator,
    logitDiff: ldPatched,
    dLogitDiff: ldPatched - ldTarget,
    klSource: klDivergence(source.logProbs, patched.logProbs),
  };
}

/** Index of the largest logit (ties: the first). */
export function argmax(values: ArrayLike<number>, offset = 0, length = values.length - offset): number {
  let best = 0;
  for (let k = 1; k < length; k++) if (values[offset + k] > values[offset + best]) best = k;
  return best;
}
