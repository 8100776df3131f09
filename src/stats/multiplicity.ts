/**
 * Multiple-testing corrections over a family of p-values, with adjusted p-values identical to
 * statsmodels' `multipletests` (methods "fdr_bh", "fdr_by", "holm", "bonferroni"), plus
 * Storey's q-values.
 *
 * With p₍₁₎ ≤ … ≤ p₍ₘ₎ (i = 1..m):
 * - Bonferroni: min(1, m·p).
 * - Holm [1]: running maximum of (m - i + 1)·p₍ᵢ₎, capped at 1.
 * - Benjamini-Hochberg [2]: running minimum from the top of m·p₍ᵢ₎/i, capped at 1.
 * - Benjamini-Yekutieli [3]: BH multiplied by c(m) = Σ_{k=1..m} 1/k (valid under any dependence).
 * - Storey [4]: π̂₀ · BH, with π̂₀ = #{p > λ} / (m(1 - λ)) capped at 1 (λ = 0.5 by default).
 *
 * NaN p-values (untestable hypotheses) stay NaN and do not count in m.
 *
 * References:
 * [1] S. Holm, "A simple sequentially rejective multiple test procedure", Scand. J. Statist. 6, 1979.
 * [2] Y. Benjamini, Y. Hochberg, "Controlling the false discovery rate", JRSS B 57(1), 1995.
 * [3] Y. Benjamini, D. Yekutieli, "The control of the false discovery rate in multiple testing
 *     under dependency", Annals of Statistics 29(4), 2001.
 * [4] J. D. Storey, R. Tibshirani, "Statistical significance for genomewide studies", PNAS 100(16), 2003.
 */

export type Correction = "bh" | "by" | "holm" | "bonferroni" | "none";

export interface MultipleTestResult {
  readonly method: Correction;
  readonly alpha: number;
  /** Adjusted p-values, in the input order. */
  readonly adjusted: Float64Array;
  /** adjusted < alpha. */
  readonly reject: boolean[];
  /** Number of hypotheses with a p-value (NaNs excluded). */
  readonly m: number;
}

/**
 * Adjust p-values for multiple testing.
 *
 * @example
 * adjustPValues([0.01, 0.04, 0.03, 0.2], "bh").adjusted; // [0.04, 0.0533…, 0.0533…, 0.2]
 */
export function adjustPValues(
  pvalues: ArrayLike<number>,
  method: Correction = "bh",
  alpha = 0.05,
): MultipleTestResult {
  const index: number[] = [];
  for (let i = 0; i < pvalues.length; i++) {
    const p = pvalues[i];
    if (!Number.isNaN(p)) {
      if (p < 0 || p > 1) throw new RangeError(`p-value ${i} is ${p}, outside [0, 1]`);
      index.push(i);
    }
  }
  const m = index.length;
  index.sort((a, b) => pvalues[a] - pvalues[b] || a - b);
  const sortedAdjusted = new Float64Array(m);
  for (let i = 0; i < m; i++) sortedAdjusted[i] = pvalues[index[i]];
  switch (method) {
    case "none":
      break;
    case "bonferroni":
      for (let i = 0; i < m; i++) sortedAdjusted[i] = Math.min(1, sortedAdjusted[i] * m);
      break;
    case "holm": {
      let running = 0;
      for (let i = 0; i < m; i++) {
        running = Math.max(running, sortedAdjusted[i] * (m - i));
        sortedAdjusted[i] = Math.min(1, running);
      }
      break;
    }
    case "bh":
    case "by": {
      let cm = 1;
      if (method === "by") {
        cm = 0;
        for (let k = 1; k <= m; k++) cm += 1 / k;
      }
      let running = Number.POSITIVE_INFINITY;
      for (let i = m - 1; i >= 0; i--) {
        // statsmodels: p / ecdffactor with ecdffactor = (i+1)/m / cm
        const raw = sortedAdjusted[i] / ((i + 1) / m / cm);
        running = Math.min(running, raw);
        sortedAdjusted[i] = Math.min(1, running);
      }
      break;
    }
    default:
      throw new RangeError(`unknown correction "${method as string}": use bh, by, holm, bonferroni or none`);
  }
  const adjusted = new Float64Array(pvalues.length).fill(Number.NaN);
  for (let i = 0; i < m; i++) adjusted[index[i]] = sortedAdjusted[i];
  const reject = Array.from(adjusted, (p) => p < alpha);
  return { method, alpha, adjusted, reject, m };
}

export interface QValueResult {
  readonly qvalues: Float64Array;
  /** Estimated proportion of true null hypotheses π̂₀. */
  readonly pi0: number;
  readonly lambda: number;
}

/**
 * Storey's q-values with a fixed λ (Storey & Tibshirani [4], Remark B with one λ).
 *
 * @example
 * storeyQValues([0.001, 0.01, 0.6, 0.9]).pi0; // 1 (capped)
 */
export function storeyQValues(pvalues: ArrayLike<number>, lambda = 0.5): QValueResult {
  if (!(lambda >= 0 && lambda < 1)) throw new RangeError(`\`lambda\` must be in [0, 1), got ${lambda}`);
  let m = 0;
  let above = 0;
  for (let i = 0; i < pvalues.length; i++) {
    const p = pvalues[i];
    if (Number.isNaN(p)) continue;
    m++;
    if (p > lambda) above++;
  }
  const pi0 = m === 0 ? 1 : Math.min(1, above / (m * (1 - lambda)));
  const bh = adjustPValues(pvalues, "bh").adjusted;
  const qvalues = bh.map((q) => q * pi0);
  return { qvalues, pi0, lambda };
}

/**
 * Per-test significance threshold for m tests: Bonferroni α/m, or the BH threshold α·k/m for the
 * k-th smallest p-value (k = 1, the first discovery, is the strictest and equals Bonferroni).
 *
 * @example
 * adjustedAlpha(0.05, 24, "bonferroni"); // 0.0020833…
 */
export function adjustedAlpha(
  alpha: number,
  m: number,
  method: "bonferroni" | "bh" | "none",
  rank = 1,
): number {
  if (method === "none") return alpha;
  if (method === "bonferroni") return alpha / m;
  return (alpha * rank) / m;
}
