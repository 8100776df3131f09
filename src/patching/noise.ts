import { inputError } from "../errors.js";
import { streams } from "../random/streams.js";
import { type DirectionChoice, type PairSet, type RowFacts, validateCounts } from "./pairs.js";
import { sampleSorted } from "./sample.js";
import type { Pair } from "./types.js";

/**
 * The `noised` pair strategy: target = source + Gaussian noise at a given
 * signal-to-noise ratio. Per case and channel c, with P_c the mean square of
 * the valid (unpadded) steps, the noise is N(0, σ_c²) with
 * σ_c² = P_c / 10^(SNR_dB / 10) (the usual power definition of SNR in decibels).
 * Padded steps stay 0. Each source's noise comes from its own seeded stream, so
 * a row's noisy copy does not depend on which other rows were chosen.
 */

export interface NoisedOptions {
  /** Signal-to-noise ratio in dB (default 10). */
  snrDb?: number;
  /** Up to this many sources per true class (default: all correctly classified rows). */
  maxTargetsPerClass?: number;
  classes?: readonly number[];
  seed?: number;
}

/** Rows chosen as clean sources, and their noisy copies (rows × time × channels). */
export interface NoisedCandidates {
  readonly sources: readonly number[];
  readonly values: Float32Array;
  readonly snrDb: number;
}

/**
 * Choose the clean sources (correctly classified, labelled, in the class filter)
 * and make their noisy copies.
 *
 * @param data rows × maxLength × channels values with per-row lengths
 * @example
 * const cand = noisedCandidates(data, facts, { snrDb: 5, seed: 1 });
 */
export function noisedCandidates(
  data: {
    values: Float32Array;
    lengths: Int32Array | readonly number[];
    maxLength: number;
    channels: number;
  },
  rows: RowFacts,
  options: NoisedOptions = {},
): NoisedCandidates {
  const { snrDb = 10, seed = 0, maxTargetsPerClass = Infinity } = options;
  if (!Number.isFinite(snrDb)) {
    throw inputError(`SNR must be a finite number of decibels, got ${snrDb}`, { field: "snr" });
  }
  validateCounts(1, maxTargetsPerClass);
  const allowed = options.classes === undefined ? null : new Set(options.classes);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < rows.trueClass.length; i++) {
    const y = rows.trueClass[i];
    if (y < 0 || rows.predicted[i] !== y || (allowed !== null && !allowed.has(y))) continue;
    byClass.set(y, [...(byClass.get(y) ?? []), i]);
  }
  const sources: number[] = [];
  for (const [y, list] of byClass)
    sources.push(...sampleSorted(list, maxTargetsPerClass, streams.pairTargets(seed, y)));
  sources.sort((a, b) => a - b);

  const { maxLength: S, channels: C } = data;
  const row = S * C;
  const values = new Float32Array(sources.length * row);
  const ratio = 10 ** (snrDb / 10);
  sources.forEach((src, j) => {
    const rng = streams.noise(seed, src);
    const n = data.lengths[src];
    for (let c = 0; c < C; c++) {
      let power = 0;
      for (let t = 0; t < n; t++) power += data.values[src * row + t * C + c] ** 2;
      const sigma = n > 0 ? Math.sqrt(power / n / ratio) : 0;
      for (let t = 0; t < n; t++) {
        values[j * row + t * C + c] = data.values[src * row + t * C + c] + sigma * rng.normal();
      }
    }
  });
  return { sources, values, snrDb };
}

/**
 * Pairs of the `noised` strategy once the noisy copies have been classified.
 * Noisy copy j is input row `firstNoisedRow + j`. Only copies the model
 * misclassifies make pairs: a copy still classified correctly has nothing to restore.
 *
 * @example
 * makeNoisedPairs(cand, noisedPredicted, facts, dataset.cases, { direction: "both" });
 */
export function makeNoisedPairs(
  candidates: NoisedCandidates,
  noisedPredicted: Int32Array | readonly number[],
  rows: RowFacts,
  firstNoisedRow: number,
  options: { direction?: DirectionChoice } = {},
): PairSet {
  const direction = options.direction ?? "denoise";
  const pairs: Pair[] = [];
  let flipped = 0;
  candidates.sources.forEach((source, j) => {
    const y = rows.trueClass[source];
    const wrong = noisedPredicted[j] !== y;
    if (wrong) flipped++;
    if (!wrong) return;
    const target = firstNoisedRow + j;
    const classes = { trueClass: y, goodClass: y, badClass: noisedPredicted[j] };
    const id = pairs.length === 0 ? 0 : pairs[pairs.length - 1].id + 1;
    if (direction !== "noise") pairs.push({ id, source, target, direction: "denoise", ...classes });
    if (direction !== "denoise")
      pairs.push({ id, source: target, target: source, direction: "noise", ...classes });
  });
  const counts = { sources: candidates.sources.length, flipped };
  if (pairs.length === 0) {
    throw inputError(
      candidates.sources.length === 0
        ? 'strategy "noised" found no pairs: no correctly classified input in the class filter'
        : `strategy "noised" found no pairs: noise at ${candidates.snrDb} dB SNR changed none of the ${candidates.sources.length} predictions`,
      {
        field: "strategy",
        hint:
          candidates.sources.length === 0
            ? "widen the class filter or use --strategy misclassified"
            : "lower the SNR (e.g. --snr 0 or a negative value) or use --strategy cross-class",
      },
    );
  }
  return { strategy: "noised", pairs, counts };
}
