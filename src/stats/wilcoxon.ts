/**
 * Wilcoxon signed-rank test of H0: the differences are symmetric about 0, with scipy's default
 * conventions (scipy.stats.wilcoxon, zero_method "wilcox", correction off):
 *
 * - zeros are dropped and the test uses the n ≠ 0 differences;
 * - the statistic is min(R+, R-) for the two-sided test and R+ for one-sided ones;
 * - the exact null distribution of R+ is used when n ≤ 50 and there are neither zeros nor ties
 *   among |d|; otherwise the normal approximation with the tie correction of the variance
 *   (and the continuity correction when asked). `method` says which was used.
 *
 * One deliberate difference from scipy 1.10's `method="auto"`: with ties (but no zeros) and
 * n ≤ 50, scipy 1.10 still uses the exact distribution on a truncated, non-integer R+, which is
 * not a valid null distribution; newer scipy versions switch to the normal approximation there,
 * and so does this function (it then equals scipy 1.10 with `method="approx"`).
 *
 * References:
 * [1] F. Wilcoxon, "Individual comparisons by ranking methods", Biometrics Bulletin 1(6), 1945.
 * [2] J. W. Pratt, "Remarks on zeros and ties in the Wilcoxon signed rank procedures", JASA 54, 1959.
 */
import { normalCdf, normalSf } from "./distributions.js";
import { rankAverage, tieGroupSizes } from "./rank.js";
import type { Alternative, TestResult } from "./results.js";

export interface WilcoxonResult extends TestResult {
  readonly method: "Wilcoxon signed-rank (exact)" | "Wilcoxon signed-rank (normal approximation)";
  /** Whether the exact null distribution was used. */
  readonly exact: boolean;
  /** The z statistic of the normal approximation (NaN when exact). */
  readonly zstatistic: number;
  /** Number of zero differences that were dropped. */
  readonly zeros: number;
}

export interface WilcoxonOptions {
  alternative?: Alternative;
  /** "auto" (default) picks as described above; "exact" and "approx" force a method. */
  method?: "auto" | "exact" | "approx";
  /** Continuity correction of the normal approximation (scipy's `correction`, default false). */
  correction?: boolean;
  /** Largest n for the exact distribution in "auto" mode (scipy: 50). */
  exactMaxN?: number;
}

/**
 * Wilcoxon signed-rank test on differences `d` (pass x - y for a paired test).
 *
 * @example
 * const r = wilcoxon([0.5, -0.2, 1.1, 0.8, 0.3, 1.4, -0.1, 0.9]);
 * r.statistic; // 3
 * r.pvalue;    // 0.0390625 (exact)
 */
export function wilcoxon(d: ArrayLike<number>, options: WilcoxonOptions = {}): WilcoxonResult {
  const alternative = options.alternative ?? "two-sided";
  const requested = options.method ?? "auto";
  const exactMaxN = options.exactMaxN ?? 50;
  const nonzero: number[] = [];
  for (let i = 0; i < d.length; i++) if (d[i] !== 0) nonzero.push(d[i]);
  const zeros = d.length - nonzero.length;
  const n = nonzero.length;
  const notes: string[] = [];
  if (zeros > 0) notes.push(`${zeros} zero difference${zeros === 1 ? "" : "s"} dropped`);

  const absValues = nonzero.map(Math.abs);
  const ranks = rankAverage(absValues);
  const ties = tieGroupSizes(absValues);
  let rPlus = 0;
  let rMinus = 0;
  for (let i = 0; i < n; i++) {
    if (nonzero[i] > 0) rPlus += ranks[i];
    else rMinus += ranks[i];
  }
  const statistic = alternative === "two-sided" ? Math.min(rPlus, rMinus) : rPlus;

  let exact: boolean;
  if (requested === "auto") {
    exact = d.length <= exactMaxN && zeros === 0 && ties.length === 0;
    if (d.length <= exactMaxN && !exact) {
      notes.push(`normal approximation: ${zeros > 0 ? "zeros" : "ties"} present`);
    }
  } else {
    exact = requested === "exact";
    if (exact && (zeros > 0 || ties.length > 0)) {
      exact = false;
      notes.push("exact distribution needs no zeros and no ties: used the normal approximation");
    }
  }

  const base = {
    statistic: n === 0 ? Number.NaN : statistic,
    alternative,
    n,
    zeros,
    notes,
  };
  if (n === 0) {
    notes.push("all differences are zero");
    return {
      ...base,
      pvalue: Number.NaN,
      exact: false,
      zstatistic: Number.NaN,
      method: "Wilcoxon signed-rank (normal approximation)",
    };
  }
  if (exact) {
    return {
      ...base,
      pvalue: exactPValue(n, rPlus, alternative),
      exact: true,
      zstatistic: Number.NaN,
      method: "Wilcoxon signed-rank (exact)",
    };
  }
  if (n < 10) notes.push("n < 10: the normal approximation is rough");
  // Mean and variance of R+ under H0, the variance reduced by Σ t(t²-1)/48 for tie groups.
  const mn = (n * (n + 1)) / 4;
  let variance24 = n * (n + 1) * (2 * n + 1);
  for (const t of ties) variance24 -= 0.5 * t * (t * t - 1);
  const sigma = Math.sqrt(variance24 / 24);
  let shift = 0;
  if (options.correction) {
    shift =
      alternative === "two-sided" ? 0.5 * Math.sign(statistic - mn) : alternative === "less" ? -0.5 : 0.5;
  }
  const z = (statistic - mn - shift) / sigma;
  const pvalue =
    alternative === "two-sided"
      ? Math.min(1, 2 * normalSf(Math.abs(z)))
      : alternative === "greater"
        ? normalSf(z)
        : normalCdf(z);
  return {
    ...base,
    pvalue,
    exact: false,
    zstatistic: z,
    method: "Wilcoxon signed-rank (normal approximation)",
  };
}

const distributionCache = new Map<number, Float64Array>();

/**
 * Null distribution of R+ for n untied, nonzero differences: P(R+ = r), r = 0..n(n+1)/2, by
 * the recurrence that adds rank k with probability ½ (scipy `_get_wilcoxon_distr`).
 */
export function wilcoxonNullDistribution(n: number): Float64Array {
  const cached = distributionCache.get(n);
  if (cached) return cached;
  let c = new Float64Array([1]);
  for (let k = 1; k <= n; k++) {
    const next = new Float64Array((k * (k + 1)) / 2 + 1);
    const m = c.length;
    for (let i = 0; i < m; i++) next[i] = c[i] * 0.5;
    const offset = next.length - m;
    for (let i = 0; i < m; i++) next[offset + i] += c[i] * 0.5;
    c = next;
  }
  distributionCache.set(n, c);
  return c;
}

function exactPValue(n: number, rPlus: number, alternative: Alternative): number {
  const pmf = wilcoxonNullDistribution(n);
  const r = Math.trunc(rPlus);
  const sumRange = (from: number, to: number): number => {
    let s = 0;
    for (let i = from; i <= to; i++) s += pmf[i];
    return s;
  };
  let p: number;
  if (alternative === "two-sided") {
    if (r === Math.floor((pmf.length - 1) / 2)) return 1;
    p = 2 * Math.min(sumRange(0, r), sumRange(r, pmf.length - 1));
  } else if (alternative === "greater") {
    p = sumRange(r, pmf.length - 1);
  } else {
    p = sumRange(0, r);
  }
  return Math.min(1, Math.max(0, p));
}
