/**
 * Bootstrap confidence intervals as scipy.stats.bootstrap defines them (Efron & Tibshirani [1]):
 *
 * - percentile: the α/2 and 1-α/2 quantiles of the bootstrap distribution θ*_b;
 * - basic: 2θ̂ minus the percentile ends, swapped;
 * - BCa ([1] §14.3, Eq. 14.14-14.15; §15.4 Eq. 15.36 for â): quantiles at
 *   α₁ = Φ(ẑ₀ + (ẑ₀ + z_α)/(1 - â(ẑ₀ + z_α))) and α₂ likewise with z_{1-α}, where
 *   ẑ₀ = Φ⁻¹(share of θ*_b below θ̂, ties counted half) and â = Σ U³ / (6 (Σ U²)^{3/2}) with the
 *   jackknife U_i = (n-1)(θ̄₍.₎ - θ₍ᵢ₎).
 *
 * Quantiles are numpy's linear ones. Resampling uses the seeded {@link Rng}; the default is
 * 10,000 resamples. {@link bootstrapMeans} is the vectorised fast path for the mean of many
 * columns (one set of resample indices per column length, shared by the columns, as scipy
 * shares them along an axis); {@link clusterBootstrapMean} resamples whole clusters.
 *
 * References:
 * [1] B. Efron, R. J. Tibshirani, "An Introduction to the Bootstrap", Chapman & Hall, 1993.
 * [2] A. C. Davison, D. V. Hinkley, "Bootstrap Methods and their Application", CUP, 1997
 *     (§3.8: resampling clusters).
 */

import { Rng } from "../random/rng.js";
import { quantileSorted } from "./descriptives.js";
import { normalCdf, normalQuantile } from "./distributions.js";
import type { BootstrapResult, ConfidenceInterval } from "./results.js";
import { selectKth } from "./select-kth.js";

export type BootstrapMethod = "BCa" | "percentile" | "basic";

export interface BootstrapOptions {
  /** Default "BCa". */
  method?: BootstrapMethod;
  /** Confidence level (default 0.95). */
  level?: number;
  /** Number of resamples (default 10,000). */
  resamples?: number;
  seed?: number;
  /** Random stream under the seed; results for one input do not depend on other inputs. */
  stream?: number;
  /** Keep the bootstrap distribution in the result (default false: it can be large). */
  keepDistribution?: boolean;
  /**
   * Fills `out` with resample `resample`'s unit indices instead of the seeded generator
   * ({@link bootstrapUnits} only), e.g. to replay another implementation's resamples.
   */
  resampleIndices?: (resample: number, out: Uint32Array) => void;
  onProgress?: (done: number, total: number, detail?: string) => void;
}

interface ResolvedOptions {
  method: BootstrapMethod;
  level: number;
  resamples: number;
  seed: number;
  stream: number;
  keepDistribution: boolean;
}

function resolve(options: BootstrapOptions): ResolvedOptions {
  const method = options.method ?? "BCa";
  const level = options.level ?? 0.95;
  const resamples = options.resamples ?? 10000;
  if (method !== "BCa" && method !== "percentile" && method !== "basic") {
    throw new RangeError(`\`method\` must be "BCa", "percentile" or "basic", got "${method as string}"`);
  }
  if (!(level > 0 && level < 1)) throw new RangeError(`\`level\` must be in (0, 1), got ${level}`);
  if (!(Number.isInteger(resamples) && resamples >= 2)) {
    throw new RangeError(`\`resamples\` must be an integer >= 2, got ${resamples}`);
  }
  return {
    method,
    level,
    resamples,
    seed: options.seed ?? 0,
    stream: options.stream ?? 0,
    keepDistribution: options.keepDistribution ?? false,
  };
}

/**
 * Turn a bootstrap distribution into a result. `distribution` is reordered in place (copied
 * first when it is kept); `jackknife` holds the leave-one-out statistics (needed for BCa only).
 */
export function bootstrapInterval(
  distribution: Float64Array,
  estimate: number,
  jackknife: Float64Array | null,
  n: number,
  options: BootstrapOptions = {},
): BootstrapResult {
  const o = resolve({ ...options, resamples: options.resamples ?? distribution.length });
  const kept = o.keepDistribution ? distribution.slice() : undefined;
  const standardError = sampleSd(distribution);
  // Order statistics by selection (O(B) each) rather than a full sort: with hundreds of columns
  // the sort would dominate. NaN statistics (degenerate resamples) fall back to sorting, which
  // puts them last, as numpy does.
  let hasNaN = false;
  for (let i = 0; i < distribution.length; i++) if (Number.isNaN(distribution[i])) hasNaN = true;
  if (hasNaN) distribution.sort();
  const percentile = (q: number): number =>
    Number.isNaN(q)
      ? Number.NaN
      : hasNaN
        ? quantileSorted(distribution, q)
        : quantileBySelection(distribution, q);
  const alpha = (1 - o.level) / 2;
  const notes: string[] = [];
  let biasCorrection = Number.NaN;
  let acceleration = Number.NaN;
  let ci: ConfidenceInterval;
  if (o.method === "BCa") {
    if (!jackknife) throw new RangeError("BCa needs the jackknife statistics");
    biasCorrection = normalQuantile(shareBelow(distribution, estimate));
    acceleration = jackknifeAcceleration(jackknife);
    const [alpha1, alpha2] = bcaLevels(biasCorrection, acceleration, o.level);
    if (Number.isNaN(alpha1) || Number.isNaN(alpha2)) {
      notes.push(
        standardError === 0
          ? "constant column"
          : "BCa interval undefined (degenerate bootstrap distribution)",
      );
    }
    ci = { low: percentile(alpha1), high: percentile(alpha2), level: o.level };
  } else {
    const low = percentile(alpha);
    const high = percentile(1 - alpha);
    ci =
      o.method === "percentile"
        ? { low, high, level: o.level }
        : { low: 2 * estimate - high, high: 2 * estimate - low, level: o.level };
  }
  if (n < 2) notes.push("n < 2");
  return {
    estimate,
    confidenceInterval: ci,
    method: o.method,
    n,
    resamples: distribution.length,
    standardError,
    biasCorrection,
    acceleration,
    ...(kept ? { distribution: kept } : {}),
    notes,
  };
}

/**
 * numpy.percentile(θ*, 100·q) (linear interpolation) without sorting: select the order
 * statistic at floor(q·(B-1)) in place, then its successor is the minimum of the upper part.
 */
function quantileBySelection(values: Float64Array, q: number): number {
  const position = ((q * 100) / 100) * (values.length - 1);
  const k = Math.min(Math.max(Math.floor(position), 0), values.length - 1);
  const a = selectKth(values, k);
  let b = a;
  if (k + 1 < values.length) {
    b = Number.POSITIVE_INFINITY;
    for (let i = k + 1; i < values.length; i++) if (values[i] < b) b = values[i];
  }
  const t = position - k;
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/**
 * The quantile levels of the BCa ends ([1] Eq. 14.10): Φ(ẑ₀ + (ẑ₀ ± z_{α/2})/(1 − â(ẑ₀ ± z_{α/2}))).
 *
 * @example
 * bcaLevels(0, 0, 0.95); // [0.025, 0.975]: no bias, no acceleration = the percentile interval
 */
export function bcaLevels(biasCorrection: number, acceleration: number, level: number): [number, number] {
  const zAlpha = normalQuantile((1 - level) / 2);
  const end = (z: number): number => {
    const num = biasCorrection + z;
    return normalCdf(biasCorrection + num / (1 - acceleration * num));
  };
  return [end(zAlpha), end(-zAlpha)];
}

/**
 * (#{θ* < θ̂} + #{θ* ≤ θ̂}) / 2B: scipy's `_percentile_of_score`, whose Φ⁻¹ is the BCa ẑ₀.
 *
 * @example
 * shareBelow(Float64Array.of(0.1, 0.2, 0.3), 0.2); // 0.5
 */
export function shareBelow(theta: Float64Array, estimate: number): number {
  let below = 0;
  let atOrBelow = 0;
  for (let i = 0; i < theta.length; i++) {
    const v = theta[i];
    if (v < estimate) below++;
    if (v <= estimate) atOrBelow++;
  }
  return (below + atOrBelow) / (2 * theta.length);
}

/**
 * â = Σ U³ / (6 (Σ U²)^{3/2}) with U_i = (n-1)(θ̄₍.₎ - θ₍ᵢ₎) ([1] Eq. 14.15). With several
 * independently resampled samples, one jackknife per sample, combined as scipy.stats.bootstrap
 * does: â = Σ_j (Σ_i U_ji³ / n_j³) / (6 (Σ_j Σ_i U_ji² / n_j²)^{3/2}).
 *
 * @example
 * jackknifeAcceleration(Float64Array.of(1.0, 1.2, 0.9, 1.1)); // â of one sample
 */
export function jackknifeAcceleration(jackknife: Float64Array | readonly Float64Array[]): number {
  let num = 0;
  let den = 0;
  for (const sample of jackknife instanceof Float64Array ? [jackknife] : jackknife) {
    const n = sample.length;
    let meanTheta = 0;
    for (let i = 0; i < n; i++) meanTheta += sample[i];
    meanTheta /= n;
    let cubes = 0;
    let squares = 0;
    for (let i = 0; i < n; i++) {
      const u = (n - 1) * (meanTheta - sample[i]);
      cubes += u * u * u;
      squares += u * u;
    }
    num += cubes / n ** 3;
    den += squares / n ** 2;
  }
  return num / (6 * den ** 1.5);
}

function sampleSd(x: Float64Array): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m += x[i];
  m /= x.length;
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += (x[i] - m) * (x[i] - m);
  return Math.sqrt(ss / (x.length - 1));
}

/**
 * Bootstrap CI of any statistic of one sample.
 *
 * @param statistic called with a resample (a reused buffer: read it, do not keep it)
 * @example
 * const r = bootstrap([1.2, 0.4, 2.2, 0.9, 1.5, 0.1, 1.1], (s) => median(s), { seed: 1 });
 * r.confidenceInterval; // { low: …, high: …, level: 0.95 }
 */
export function bootstrap(
  x: ArrayLike<number>,
  statistic: (sample: Float64Array) => number,
  options: BootstrapOptions = {},
): BootstrapResult {
  const data = Float64Array.from(x as ArrayLike<number>);
  return bootstrapUnits(
    data.length,
    (indices, length) => {
      const sample = new Float64Array(length);
      for (let i = 0; i < length; i++) sample[i] = data[indices[i]];
      return statistic(sample);
    },
    options,
  );
}

/**
 * Bootstrap CI of a statistic of paired samples (x_i, y_i), resampling pairs (scipy's
 * `paired=True`), e.g. a rank correlation between two score vectors.
 *
 * @example
 * bootstrapPaired(x, y, (a, b) => spearman(a, b).correlation, { seed: 0 });
 */
export function bootstrapPaired(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  statistic: (x: Float64Array, y: Float64Array) => number,
  options: BootstrapOptions = {},
): BootstrapResult {
  if (x.length !== y.length)
    throw new RangeError(`x and y must have the same length (${x.length} vs ${y.length})`);
  const dx = Float64Array.from(x as ArrayLike<number>);
  const dy = Float64Array.from(y as ArrayLike<number>);
  return bootstrapUnits(
    dx.length,
    (indices, length) => {
      const sx = new Float64Array(length);
      const sy = new Float64Array(length);
      for (let i = 0; i < length; i++) {
        sx[i] = dx[indices[i]];
        sy[i] = dy[indices[i]];
      }
      return statistic(sx, sy);
    },
    options,
  );
}

/**
 * The general engine: resample unit indices 0..n-1 and let `statistic` gather what it needs.
 * The jackknife (for BCa) calls it with each unit left out in turn.
 */
export function bootstrapUnits(
  n: number,
  statistic: (indices: Uint32Array, length: number) => number,
  options: BootstrapOptions = {},
): BootstrapResult {
  const o = resolve(options);
  const r = unitReplicates(n, statistic, { ...options, jackknife: o.method === "BCa" });
  return bootstrapInterval(r.distribution, r.estimate, r.jackknife, n, o);
}

/** The statistic on all units, on each resample, and (when asked) with each unit left out. */
export interface UnitReplicates {
  readonly estimate: number;
  readonly distribution: Float64Array;
  /** Leave-one-out statistics, or null when not asked for. */
  readonly jackknife: Float64Array | null;
}

/**
 * The replicates behind {@link bootstrapUnits}, for callers that build their own interval
 * from them (e.g. a rank correlation bounded to [-1, 1]).
 *
 * @example
 * const r = unitReplicates(20, (idx, count) => meanOf(idx, count), { seed: 0, resamples: 2000, jackknife: true });
 */
export function unitReplicates(
  n: number,
  statistic: (indices: Uint32Array, length: number) => number,
  options: BootstrapOptions & { jackknife?: boolean } = {},
): UnitReplicates {
  const o = resolve(options);
  const all = new Uint32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  const estimate = statistic(all, n);
  const rng = new Rng(o.seed, o.stream);
  const theta = new Float64Array(o.resamples);
  const indices = new Uint32Array(n);
  for (let b = 0; b < o.resamples; b++) {
    if (options.resampleIndices) options.resampleIndices(b, indices);
    else rng.fillInts(indices, n);
    theta[b] = statistic(indices, n);
    if (options.onProgress && (b + 1) % 1000 === 0) options.onProgress(b + 1, o.resamples);
  }
  let jackknife: Float64Array | null = null;
  if (options.jackknife) {
    jackknife = new Float64Array(n);
    const leaveOut = new Uint32Array(Math.max(n - 1, 0));
    for (let i = 0; i < n; i++) {
      let k = 0;
      for (let j = 0; j < n; j++) if (j !== i) leaveOut[k++] = j;
      jackknife[i] = statistic(leaveOut, n - 1);
    }
  }
  return { estimate, distribution: theta, jackknife };
}

/**
 * BCa (or percentile/basic) intervals for the mean of many columns at once: the vectorised
 * fast path. Columns of equal length share their resample indices (generated in blocks, from
 * the stream `seed`/length), so one column's interval does not depend on the other columns.
 * NaNs must be removed beforehand (a column may be shorter than the others). The resample
 * indices are the same draws as {@link bootstrap} with `stream` = the column length.
 *
 * @example
 * const [a, b] = bootstrapMeans([[0.2, 0.5, 0.1, 0.4], [1, 3, 2, 2.5]], { seed: 0 });
 * a.confidenceInterval; // BCa 95% CI of the mean of the first column
 */
export function bootstrapMeans(
  columns: ArrayLike<number>[],
  options: BootstrapOptions = {},
): BootstrapResult[] {
  const o = resolve(options);
  const results: BootstrapResult[] = new Array(columns.length);
  const byLength = new Map<number, number[]>();
  columns.forEach((column, j) => {
    const list = byLength.get(column.length) ?? [];
    list.push(j);
    byLength.set(column.length, list);
  });
  const totalWork = columns.length * o.resamples;
  let done = 0;
  for (const [n, members] of byLength) {
    const data = members.map((j) => Float64Array.from(columns[j] as ArrayLike<number>));
    const theta = members.map(() => new Float64Array(o.resamples));
    if (n > 0) {
      resampleMeans(data, n, o.resamples, new Rng(o.seed, o.stream * 1000003 + n), theta, (count) => {
        done += count * members.length;
        options.onProgress?.(done, totalWork);
      });
    }
    members.forEach((j, c) => {
      const column = data[c];
      let sum = 0;
      for (let i = 0; i < n; i++) sum += column[i];
      const estimate = sum / n;
      let jackknife: Float64Array | null = null;
      if (o.method === "BCa") {
        // Leave-one-out means in O(n): (Σx - x_i)/(n - 1).
        jackknife = new Float64Array(n);
        for (let i = 0; i < n; i++) jackknife[i] = (sum - column[i]) / (n - 1);
      }
      results[j] = bootstrapInterval(theta[c], estimate, jackknife, n, o);
    });
  }
  return results;
}

/**
 * Bootstrap means of equal-length columns sharing each resample. A resample is drawn as n
 * indices and turned into counts w_i (how often unit i was drawn); every column's mean is then
 * Σ w_i x_i / n. For a block of 4 resamples and 4 columns this is a 4×4 tile of a matrix
 * product (counts × data), accumulated in 16 local variables over the units, so each loaded
 * count and value is used 4 times: far fewer memory operations than gathering each column
 * separately. Columns are padded to a multiple of 4 (zeros) and the last block with empty
 * resamples; the padding is discarded.
 */
function resampleMeans(
  data: Float64Array[],
  n: number,
  resamples: number,
  rng: Rng,
  theta: Float64Array[],
  onBlock: (count: number) => void,
): void {
  const m = data.length;
  const width = Math.ceil(m / 4) * 4;
  const rows = new Float64Array(n * width);
  for (let c = 0; c < m; c++) {
    const column = data[c];
    for (let i = 0; i < n; i++) rows[i * width + c] = column[i];
  }
  // weights[i*4 + r]: how often unit i was drawn in resample r of the block
  const weights = new Float64Array(n * 4);
  const draws = new Uint32Array(n);
  const out = new Float64Array(4 * width);
  const progressEvery = Math.max(4, Math.floor(65536 / Math.max(1, n * m)) * 4);
  let reported = 0;
  for (let start = 0; start < resamples; start += 4) {
    const count = Math.min(4, resamples - start);
    weights.fill(0);
    for (let r = 0; r < count; r++) {
      rng.fillInts(draws, n);
      for (let k = 0; k < n; k++) weights[draws[k] * 4 + r] += 1;
    }
    for (let c = 0; c < width; c += 4) {
      let a00 = 0,
        a01 = 0,
        a02 = 0,
        a03 = 0;
      let a10 = 0,
        a11 = 0,
        a12 = 0,
        a13 = 0;
      let a20 = 0,
        a21 = 0,
        a22 = 0,
        a23 = 0;
      let a30 = 0,
        a31 = 0,
        a32 = 0,
        a33 = 0;
      for (let i = 0; i < n; i++) {
        const wb = i * 4;
        const w0 = weights[wb];
        const w1 = weights[wb + 1];
        const w2 = weights[wb + 2];
        const w3 = weights[wb + 3];
        const xb = i * width + c;
        const x0 = rows[xb];
        const x1 = rows[xb + 1];
        const x2 = rows[xb + 2];
        const x3 = rows[xb + 3];
        a00 += w0 * x0;
        a01 += w0 * x1;
        a02 += w0 * x2;
        a03 += w0 * x3;
        a10 += w1 * x0;
        a11 += w1 * x1;
        a12 += w1 * x2;
        a13 += w1 * x3;
        a20 += w2 * x0;
        a21 += w2 * x1;
        a22 += w2 * x2;
        a23 += w2 * x3;
        a30 += w3 * x0;
        a31 += w3 * x1;
        a32 += w3 * x2;
        a33 += w3 * x3;
      }
      out[c] = a00;
      out[c + 1] = a01;
      out[c + 2] = a02;
      out[c + 3] = a03;
      out[width + c] = a10;
      out[width + c + 1] = a11;
      out[width + c + 2] = a12;
      out[width + c + 3] = a13;
      out[2 * width + c] = a20;
      out[2 * width + c + 1] = a21;
      out[2 * width + c + 2] = a22;
      out[2 * width + c + 3] = a23;
      out[3 * width + c] = a30;
      out[3 * width + c + 1] = a31;
      out[3 * width + c + 2] = a32;
      out[3 * width + c + 3] = a33;
    }
    for (let r = 0; r < count; r++) {
      for (let c = 0; c < m; c++) theta[c][start + r] = out[r * width + c] / n;
    }
    if (start + count - reported >= progressEvery || start + count === resamples) {
      onBlock(start + count - reported);
      reported = start + count;
    }
  }
}

/**
 * Cluster (block) bootstrap of the mean over units: whole clusters are resampled with
 * replacement ([2] §3.8), and the statistic is the mean over all units of the drawn clusters
 * (Σ cluster sums / Σ cluster sizes). The BCa jackknife leaves out one cluster at a time.
 * Use it when units are not independent, e.g. pairs that share a target or source input.
 *
 * @param clusters one id per value (any strings or numbers)
 * @example
 * clusterBootstrapMean([0.2, 0.3, 0.9, 1.1, 0.5], ["a", "a", "b", "b", "c"], { seed: 0 });
 */
export function clusterBootstrapMean(
  values: ArrayLike<number>,
  clusters: ArrayLike<string | number>,
  options: BootstrapOptions = {},
): BootstrapResult {
  return clusterBootstrapMeans([{ values, clusters }], options)[0];
}

/**
 * {@link clusterBootstrapMean} of many columns at once, each giving the same interval as alone.
 * Columns with the same number of clusters draw the same resample indices (one random stream,
 * `seed`/`stream`, as each would alone), so each resample's indices are drawn once and every
 * such column's statistic is taken from them: a study family's components share their pairs'
 * clusters, and drawing was half the cost of a cluster bootstrap.
 *
 * @example
 * const [a, b] = clusterBootstrapMeans(
 *   [{ values: [0.2, 0.3, 0.9, 1.1], clusters: ["a", "a", "b", "c"] }, { values: [1, 2, 2, 4], clusters: ["a", "a", "b", "c"] }],
 *   { seed: 0 },
 * );
 */
export function clusterBootstrapMeans(
  columns: readonly { values: ArrayLike<number>; clusters: ArrayLike<string | number> }[],
  options: BootstrapOptions = {},
): BootstrapResult[] {
  const o = resolve(options);
  const totals = columns.map(({ values, clusters }) => clusterTotals(values, clusters));
  const byCount = new Map<number, number[]>();
  totals.forEach((t, j) => {
    const members = byCount.get(t.sums.length) ?? [];
    members.push(j);
    byCount.set(t.sums.length, members);
  });
  const results: BootstrapResult[] = new Array(columns.length);
  for (const [n, members] of byCount) {
    // The statistic of one column on `length` indices: Σ drawn sums / Σ drawn sizes.
    const statistic = (j: number, indices: Uint32Array, length: number) => {
      const { sums, sizes } = totals[j];
      let s = 0;
      let c = 0;
      for (let i = 0; i < length; i++) {
        s += sums[indices[i]];
        c += sizes[indices[i]];
      }
      return s / c;
    };
    const all = new Uint32Array(n);
    for (let i = 0; i < n; i++) all[i] = i;
    const theta = members.map(() => new Float64Array(o.resamples));
    const rng = new Rng(o.seed, o.stream);
    const indices = new Uint32Array(n);
    for (let b = 0; b < o.resamples; b++) {
      if (options.resampleIndices) options.resampleIndices(b, indices);
      else rng.fillInts(indices, n);
      for (let k = 0; k < members.length; k++) theta[k][b] = statistic(members[k], indices, n);
      if (options.onProgress && (b + 1) % 1000 === 0) options.onProgress(b + 1, o.resamples);
    }
    const leaveOut = new Uint32Array(Math.max(n - 1, 0));
    members.forEach((j, k) => {
      let jackknife: Float64Array | null = null;
      if (o.method === "BCa") {
        jackknife = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          let m = 0;
          for (let u = 0; u < n; u++) if (u !== i) leaveOut[m++] = u;
          jackknife[i] = statistic(j, leaveOut, n - 1);
        }
      }
      const result = bootstrapInterval(theta[k], statistic(j, all, n), jackknife, n, o);
      results[j] = {
        ...result,
        notes: [...result.notes, `cluster bootstrap over ${n} clusters of ${columns[j].values.length} units`],
      };
    });
  }
  return results;
}

/** Each cluster's sum and size, clusters numbered in order of first appearance. */
function clusterTotals(
  values: ArrayLike<number>,
  clusters: ArrayLike<string | number>,
): { sums: Float64Array; sizes: Float64Array } {
  if (values.length !== clusters.length) {
    throw new RangeError(
      `values and clusters must have the same length (${values.length} vs ${clusters.length})`,
    );
  }
  const ids = new Map<string | number, number>();
  const sumsList: number[] = [];
  const sizesList: number[] = [];
  for (let i = 0; i < values.length; i++) {
    let g = ids.get(clusters[i]);
    if (g === undefined) {
      g = sumsList.length;
      ids.set(clusters[i], g);
      sumsList.push(0);
      sizesList.push(0);
    }
    sumsList[g] += values[i];
    sizesList[g] += 1;
  }
  return { sums: Float64Array.from(sumsList), sizes: Float64Array.from(sizesList) };
}
