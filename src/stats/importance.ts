/**
 * Important, negligible or inconclusive: the three words a component's effect is reported with
 * (never only "not significant"), following the four outcomes of Lakens et al. [1, Fig. 1].
 *
 * Within one family of m components, with the family's correction applied to both tests:
 * - **negligible**: the equivalence test (TOST, bounds ±SESOI) rejects after correction. This
 *   includes "significant but trivially small" effects (Lakens' case C): a mean of −6·10⁻⁶ with a
 *   tiny CI is negligible even when its t-test rejects 0.
 * - **important**: the test of zero rejects after correction AND the point estimate lies beyond
 *   the SESOI (|estimate| > SESOI). A stricter rule (the whole CI beyond ±SESOI, a minimal-effect
 *   test) needs far more units than patching studies have (at n = 9 an effect must be about
 *   twice the SESOI plus a CI half-width); we use the point estimate, as [1] recommends when the
 *   question is "is there an effect large enough to care about", and report the CI beside it.
 * - **inconclusive**: everything else: neither test rejects, or zero is rejected but the estimate
 *   is below the SESOI without equivalence being shown.
 * The two rejecting cases cannot both hold: TOST rejecting at α puts the (1 − 2α) CI, and so the
 * estimate, strictly inside ±SESOI.
 *
 * Default SESOIs per metric (in the metric's units), chosen so that each is about "one percentage
 * point of P(true)" where the model is uncertain, and justified in README "Statistics":
 * - dp_true 0.01 (one point of probability; the issue's default);
 * - recovery 0.05 (5% of the source–target gap: below this a component restores nothing a reader
 *   would notice, and recovery is noisier than ΔP because of its denominator);
 * - d_logit_diff / logit_diff 0.1 (a 10% change in the odds of good vs bad class; at P = 0.5 that
 *   is ΔP ≈ 0.025, and unlike ΔP it is not capped when P(true) is near 0 or 1);
 * - kl_source 0.01 nats (the KL of P = 0.5 vs 0.57; KL ≥ 0, so only the upper bound matters).
 *
 * References:
 * [1] D. Lakens, A. M. Scheel, P. M. Isager, "Equivalence testing for psychological research:
 *     a tutorial", Advances in Methods and Practices in Psychological Science 1(2), 2018.
 */
import { adjustPValues, type Correction } from "./multiplicity.js";

export type ImportanceStatus = "important" | "negligible" | "inconclusive";

export const IMPORTANCE_STATUSES: readonly ImportanceStatus[] = ["important", "negligible", "inconclusive"];

/** Metrics of the effects table (column names of `tspatch sweep`'s CSV). */
export type EffectMetricName = "dp_true" | "recovery" | "logit_diff" | "d_logit_diff" | "kl_source";

/** Default smallest effect size of interest per metric (see the module comment for why). */
export const DEFAULT_SESOI: Readonly<Record<EffectMetricName, number>> = {
  dp_true: 0.01,
  recovery: 0.05,
  logit_diff: 0.1,
  d_logit_diff: 0.1,
  kl_source: 0.01,
};

/**
 * Why a metric cannot be tested against 0 as an effect, or null when it can. `kl_source`
 * (KL(P_source ‖ P_patched)) is a distance left after patching and never negative, and
 * `logit_diff` is the patched run's level, not a change: a one-sample test against 0 rejects
 * for every component whatever patching did. Both still rank components (the sensitivity
 * section ranks KL by its smallest mean); the change metrics are what a test is about.
 *
 * @example
 * untestableMetric("kl_source"); // "KL(P_source ‖ P_patched) is a distance, never negative: …"
 * untestableMetric("dp_true");   // null
 */
export function untestableMetric(metric: EffectMetricName): string | null {
  if (metric === "kl_source")
    return "KL(P_source ‖ P_patched) is a distance, never negative: a test of its mean against 0 finds every component, whatever patching did";
  if (metric === "logit_diff")
    return "logit_diff is the patched run's logit difference, a level and not a change: a test against 0 asks whether the patched model prefers the good class, not whether the patch changed anything";
  return null;
}

export interface ImportanceInput {
  /** Point estimate of the effect (the mean). */
  readonly estimate: number;
  /** Unadjusted p-value of the test of zero. */
  readonly pvalue: number;
  /** Unadjusted TOST p-value for bounds ±sesoi. */
  readonly pvalueTost: number;
}

export interface ImportanceResult {
  readonly status: ImportanceStatus[];
  /** Adjusted p-values of the test of zero (the family's correction). */
  readonly adjusted: Float64Array;
  /** Adjusted TOST p-values (same correction, same family). */
  readonly adjustedTost: Float64Array;
  readonly counts: Readonly<Record<ImportanceStatus, number>>;
  readonly sesoi: number;
  readonly alpha: number;
  readonly correction: Correction;
}

/**
 * Classify a family of components.
 *
 * @example
 * classifyImportance(
 *   [{ estimate: 0.2, pvalue: 0.001, pvalueTost: 0.9 }, { estimate: 1e-5, pvalue: 0.001, pvalueTost: 1e-6 }],
 *   { sesoi: 0.01 },
 * ).status; // ["important", "negligible"]
 */
export function classifyImportance(
  rows: readonly ImportanceInput[],
  options: { sesoi: number; alpha?: number; correction?: Correction },
): ImportanceResult {
  const alpha = options.alpha ?? 0.05;
  const correction = options.correction ?? "bh";
  const { sesoi } = options;
  if (!(sesoi > 0 && Number.isFinite(sesoi))) throw new RangeError(`\`sesoi\` must be > 0, got ${sesoi}`);
  const adjusted = adjustPValues(
    rows.map((r) => r.pvalue),
    correction,
    alpha,
  ).adjusted;
  const adjustedTost = adjustPValues(
    rows.map((r) => r.pvalueTost),
    correction,
    alpha,
  ).adjusted;
  const status = rows.map((r, j): ImportanceStatus => {
    if (adjustedTost[j] < alpha) return "negligible";
    if (adjusted[j] < alpha && Math.abs(r.estimate) > sesoi) return "important";
    return "inconclusive";
  });
  const counts = { important: 0, negligible: 0, inconclusive: 0 };
  for (const s of status) counts[s]++;
  return { status, adjusted, adjustedTost, counts, sesoi, alpha, correction };
}
