/**
 * Rank correlations with scipy 1.10's conventions.
 *
 * - Spearman ρ: Pearson correlation of average ranks; p-value from t = ρ√((n-2)/((1+ρ)(1-ρ)))
 *   with n - 2 df (scipy.stats.spearmanr).
 * - Kendall τ-b [1]: (C - D)/√((n₀ - n₁)(n₀ - n₂)) with tie counts n₁, n₂, counted in
 *   O(n log n) by Knight's merge sort [2]; p-value exact (Kendall's recurrence) when there are
 *   no ties and n ≤ 33 (or at most one discordant/concordant pair), otherwise the normal
 *   approximation of C - D with the tie-corrected variance (scipy.stats.kendalltau, method "auto").
 *
 * References:
 * [1] M. G. Kendall, "Rank Correlation Methods", 4th ed., Griffin, 1970.
 * [2] W. R. Knight, "A computer method for calculating Kendall's tau with ungrouped data",
 *     JASA 61(314), 436-439, 1966.
 */
import { normalCdf, normalSf } from "./distributions.js";
import { rankAverage } from "./rank.js";
import type { Alternative, TestResult } from "./results.js";
import { tPValue } from "./ttest.js";

export interface CorrelationResult extends TestResult {
  /** The correlation coefficient (same as `statistic`). */
  readonly correlation: number;
}

function checkPaired(x: ArrayLike<number>, y: ArrayLike<number>): void {
  if (x.length !== y.length)
    throw new RangeError(`x and y must have the same length (${x.length} vs ${y.length})`);
}

/** Pearson correlation, clipped to [-1, 1] as numpy.corrcoef does. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPaired(x, y);
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  const r = sxy / Math.sqrt(sxx * syy);
  return Math.max(-1, Math.min(1, r));
}

/**
 * Spearman rank correlation with its t-based p-value.
 *
 * @example
 * spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]).correlation; // 0.8207826816681233
 */
export function spearman(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  alternative: Alternative = "two-sided",
): CorrelationResult {
  checkPaired(x, y);
  const n = x.length;
  const rho = pearson(rankAverage(x), rankAverage(y));
  const df = n - 2;
  const notes: string[] = [];
  if (Number.isNaN(rho)) notes.push("constant column");
  let pvalue: number;
  if (Math.abs(rho) === 1) {
    pvalue = alternative === "two-sided" || (alternative === "greater") === rho > 0 ? 0 : 1;
  } else {
    const t = rho * Math.sqrt(Math.max(0, df / ((rho + 1) * (1 - rho))));
    pvalue = tPValue(t, df, alternative);
  }
  return {
    statistic: rho,
    correlation: rho,
    pvalue,
    alternative,
    method: "Spearman rank correlation",
    n,
    notes,
  };
}

/**
 * Kendall's τ-b with scipy's p-value.
 *
 * @example
 * kendallTauB([12, 2, 1, 12, 2], [1, 4, 7, 1, 0]).correlation; // -0.4714045207910316
 */
export function kendallTauB(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  alternative: Alternative = "two-sided",
): CorrelationResult {
  checkPaired(x, y);
  const n = x.length;
  const counts = kendallCounts(x, y);
  const { discordant: dis, xTies, yTies, jointTies } = counts;
  const tot = (n * (n - 1)) / 2;
  const notes: string[] = [];
  if (xTies === tot || yTies === tot) {
    notes.push("constant column");
    return {
      statistic: Number.NaN,
      correlation: Number.NaN,
      pvalue: Number.NaN,
      alternative,
      method: "Kendall tau-b",
      n,
      notes,
    };
  }
  const conMinusDis = tot - xTies - yTies + jointTies - 2 * dis;
  const tau = Math.max(-1, Math.min(1, conMinusDis / Math.sqrt(tot - xTies) / Math.sqrt(tot - yTies)));
  let pvalue: number;
  let method: string;
  if (xTies === 0 && yTies === 0 && (n <= 33 || Math.min(dis, tot - dis) <= 1)) {
    pvalue = kendallExactPValue(n, tot - dis, alternative);
    method = "Kendall tau-b (exact)";
  } else {
    const m = n * (n - 1);
    const variance =
      (m * (2 * n + 5) - counts.x1 - counts.y1) / 18 +
      (2 * xTies * yTies) / m +
      (counts.x0 * counts.y0) / (9 * m * (n - 2));
    const z = conMinusDis / Math.sqrt(variance);
    pvalue =
      alternative === "less"
        ? normalCdf(z)
        : alternative === "greater"
          ? normalSf(z)
          : 2 * normalSf(Math.abs(z));
    method = "Kendall tau-b (normal approximation)";
  }
  return { statistic: tau, correlation: tau, pvalue, alternative, method, n, notes };
}

interface KendallCounts {
  discordant: number;
  xTies: number;
  yTies: number;
  jointTies: number;
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** Tie statistics of one variable as scipy's `count_rank_tie`: Σt(t-1)/2, Σt(t-1)(t-2), Σt(t-1)(2t+5). */
function tieStats(sortedValues: ArrayLike<number>): [number, number, number] {
  let ties = 0;
  let s0 = 0;
  let s1 = 0;
  let i = 0;
  while (i < sortedValues.length) {
    let j = i;
    while (j + 1 < sortedValues.length && sortedValues[j + 1] === sortedValues[i]) j++;
    const t = j - i + 1;
    if (t > 1) {
      ties += (t * (t - 1)) / 2;
      s0 += t * (t - 1) * (t - 2);
      s1 += t * (t - 1) * (2 * t + 5);
    }
    i = j + 1;
  }
  return [ties, s0, s1];
}

function kendallCounts(x: ArrayLike<number>, y: ArrayLike<number>): KendallCounts {
  const n = x.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => x[a] - x[b] || y[a] - y[b]);
  const ys = new Float64Array(n);
  const xs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = x[order[i]];
    ys[i] = y[order[i]];
  }
  let jointTies = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && xs[j + 1] === xs[i] && ys[j + 1] === ys[i]) j++;
    const t = j - i + 1;
    jointTies += (t * (t - 1)) / 2;
    i = j + 1;
  }
  const [xTies, x0, x1] = tieStats(xs);
  // Sorted by (x, y), a strict inversion in y is exactly a discordant pair.
  const discordant = countInversions(ys);
  const [yTies, y0, y1] = tieStats(ys); // countInversions sorted ys in place
  return { discordant, xTies, yTies, jointTies, x0, x1, y0, y1 };
}

/** Number of pairs i < j with a[i] > a[j]; sorts `a` in place (bottom-up merge sort). */
function countInversions(a: Float64Array): number {
  const n = a.length;
  let src: Float64Array = a;
  let dst: Float64Array = new Float64Array(n);
  let inversions = 0;
  for (let width = 1; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        if (src[j] < src[i]) {
          inversions += mid - i;
          dst[k++] = src[j++];
        } else {
          dst[k++] = src[i++];
        }
      }
      while (i < mid) dst[k++] = src[i++];
      while (j < hi) dst[k++] = src[j++];
    }
    const swap = src;
    src = dst;
    dst = swap;
  }
  if (src !== a) a.set(src);
  return inversions;
}

/**
 * Exact p-value of Kendall's statistic with c concordant pairs among n untied values
 * (scipy `_kendall_p_exact`: Kendall's recurrence for the number of permutations with
 * at most c inversions).
 */
export function kendallExactPValue(n: number, concordant: number, alternative: Alternative): number {
  const total = (n * (n - 1)) / 2;
  const inRightTail = concordant >= total - concordant;
  const alternativeGreater = alternative === "greater";
  const c = Math.min(concordant, total - concordant);
  let prob: number;
  let massAtC = 0;
  if (n === 1) {
    prob = 1;
    massAtC = 1;
  } else if (n === 2) {
    prob = 1;
    massAtC = 0.5;
  } else if (c === 0) {
    prob = n < 171 ? 2 / factorial(n) : 0;
    massAtC = prob / 2;
  } else if (c === 1) {
    prob = n < 172 ? 2 / factorial(n - 1) : 0;
    massAtC = (n - 1) / factorial(n);
  } else if (4 * c === n * (n - 1) && alternative === "two-sided") {
    prob = 1;
  } else if (n < 171) {
    let counts: Float64Array = new Float64Array(c + 1);
    counts[0] = 1;
    counts[1] = 1;
    for (let j = 3; j <= n; j++) {
      counts = cumsum(counts);
      if (j <= c) {
        const shifted = counts.slice(0, c + 1 - j);
        for (let k = j; k <= c; k++) counts[k] -= shifted[k - j];
      }
    }
    let sum = 0;
    for (const v of counts) sum += v;
    prob = (2 * sum) / factorial(n);
    massAtC = counts[c] / factorial(n);
  } else {
    let counts: Float64Array = new Float64Array(c + 1);
    counts[0] = 1;
    counts[1] = 1;
    for (let j = 3; j <= n; j++) {
      counts = cumsum(counts).map((v) => v / j);
      if (j <= c) {
        const shifted = counts.slice(0, c + 1 - j);
        for (let k = j; k <= c; k++) counts[k] -= shifted[k - j];
      }
    }
    let sum = 0;
    for (const v of counts) sum += v;
    prob = sum;
    massAtC = counts[c] / 2;
  }
  if (alternative !== "two-sided") {
    if (inRightTail === alternativeGreater) prob /= 2;
    else prob = 1 - prob / 2 + massAtC;
  }
  return Math.min(1, Math.max(0, prob));
}

function cumsum(a: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    s += a[i];
    out[i] = s;
  }
  return out;
}

function factorial(n: number): number {
  let f = 1;
  for (let i = 2; i <= n; i++) f *= i;
  return f;
}

/**
 * Overlap of the top-k items of two score vectors: |A ∩ B| / |A ∪ B| (Jaccard index), items
 * ranked by descending score (by |score| when `byMagnitude`), ties broken by position.
 *
 * @example
 * topKJaccard([0.9, 0.1, 0.5, 0.3], [0.8, 0.6, 0.4, 0.0], 2); // 1/3
 */
export function topKJaccard(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  k: number,
  byMagnitude = false,
): number {
  checkPaired(a, b);
  if (!(k >= 1 && k <= a.length)) throw new RangeError(`\`k\` must be in 1..${a.length}, got ${k}`);
  const top = (s: ArrayLike<number>): Set<number> => {
    const key = (i: number) => (byMagnitude ? Math.abs(s[i]) : s[i]);
    const idx = Array.from({ length: s.length }, (_, i) => i).sort((i, j) => key(j) - key(i) || i - j);
    return new Set(idx.slice(0, k));
  };
  const ta = top(a);
  const tb = top(b);
  let intersection = 0;
  for (const i of ta) if (tb.has(i)) intersection++;
  return intersection / (2 * k - intersection);
}
