import { unitReplicates } from "../stats/bootstrap.js";
import { kendallTauB, spearman, topKJaccard } from "../stats/correlation.js";
import { type CorrelationInterval, correlationInterval } from "../stats/correlation-interval.js";
import { columnMeans } from "./units.js";

/** A statistic with a bootstrap CI over units (BCa, or basic when BCa is undefined). */
export interface IntervalEstimate {
  readonly estimate: number;
  readonly ci: { readonly low: number; readonly high: number; readonly level: number };
  readonly method: CorrelationInterval["method"];
  readonly notes: readonly string[];
}

/** How well two rankings of the same components agree (scores = column means over units). */
export interface RankAgreement {
  /** Spearman ρ of the two mean-score vectors, with a bootstrap CI over units. */
  readonly spearman: IntervalEstimate;
  /** Kendall τ-b of the same vectors, with a bootstrap CI over units. */
  readonly kendall: IntervalEstimate;
  /** |top-k(a) ∩ top-k(b)| / |top-k(a) ∪ top-k(b)|, items by descending mean score. */
  readonly topKJaccard: Readonly<Record<string, number>>;
  /** Units (rows) the means and the bootstrap are over. */
  readonly units: number;
  readonly method: string;
  readonly notes: readonly string[];
}

export interface RankAgreementOptions {
  /** Default [3, 5]. */
  topK?: readonly number[];
  /** Bootstrap resamples (default 2000). */
  resamples?: number;
  seed?: number;
  /** Stream of the bootstrap generator under the seed (default 0). */
  stream?: number;
  level?: number;
  /** Fills `out` with resample `resample`'s unit indices instead of the seeded generator. */
  resampleIndices?: (resample: number, out: Uint32Array) => void;
}

/**
 * Agreement of two unit × component score matrices (row-major, same units and components):
 * rank correlations of the column means, with BCa bootstrap CIs that resample units (both
 * matrices with the same indices, so the pairing of a unit's two scores is kept); see
 * {@link correlationInterval} for why BCa and not the percentile interval.
 *
 * @example
 * const agree = rankAgreement(exactUnits, atpUnits, 24, { seed: 0 });
 * agree.spearman.estimate; // ρ of the two head rankings
 */
export function rankAgreement(
  a: Float64Array,
  b: Float64Array,
  m: number,
  options: RankAgreementOptions = {},
): RankAgreement {
  const n = a.length / m;
  if (!(Number.isInteger(n) && b.length === a.length)) {
    throw new RangeError(`rankAgreement: matrices of ${a.length} and ${b.length} values for ${m} columns`);
  }
  const level = options.level ?? 0.95;
  const resamples = options.resamples ?? 2000;
  const seed = options.seed ?? 0;
  const notes: string[] = [];
  const corr = (fn: typeof spearman) => (idx: ArrayLike<number>, count: number) =>
    fn(columnMeans(a, m, idx, count), columnMeans(b, m, idx, count)).correlation;
  const all = Uint32Array.from({ length: n }, (_, i) => i);
  const rho = corr(spearman)(all, n);
  const tau = corr(kendallTauB)(all, n);
  const interval = (fn: typeof spearman, stream: number, estimate: number): IntervalEstimate => {
    if (n < 2 || !Number.isFinite(estimate)) {
      return { estimate, ci: { low: Number.NaN, high: Number.NaN, level }, method: "BCa", notes: [] };
    }
    const statistic = corr(fn);
    // A resample whose means are constant has no rank correlation; count it as no agreement (0).
    const r = unitReplicates(
      n,
      (idx, count) => {
        const v = statistic(idx, count);
        return Number.isFinite(v) ? v : 0;
      },
      {
        resamples,
        seed,
        stream: (options.stream ?? 0) * 2 + stream,
        jackknife: true,
        ...(options.resampleIndices ? { resampleIndices: options.resampleIndices } : {}),
      },
    );
    const ci = correlationInterval(r.distribution, estimate, [r.jackknife as Float64Array], level);
    return { estimate, ci: { low: ci.low, high: ci.high, level }, method: ci.method, notes: ci.notes };
  };
  if (!Number.isFinite(rho)) notes.push("a ranking is constant: rank correlations undefined");
  if (n < 2) notes.push("fewer than 2 units: no bootstrap interval");
  const meanA = columnMeans(a, m, all);
  const meanB = columnMeans(b, m, all);
  const topK: Record<string, number> = {};
  for (const k of options.topK ?? [3, 5]) if (k <= m) topK[String(k)] = topKJaccard(meanA, meanB, k);
  return {
    spearman: interval(spearman, 0, rho),
    kendall: interval(kendallTauB, 1, tau),
    topKJaccard: topK,
    units: n,
    method: `rank correlation of mean scores over units; ${resamples}-resample BCa bootstrap over units (seed ${seed}; basic interval where BCa is undefined)`,
    notes,
  };
}
