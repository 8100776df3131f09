import { Rng } from "../stats/rng.js";

/**
 * The random streams of one training run, each derived from the run's seed and a counter, never
 * from a generator carried along. So the state of all randomness is (seed, epoch, global step),
 * which a checkpoint records, and a resumed run draws exactly what an uninterrupted run would.
 *
 * Stream numbers (the `stream` argument of {@link Rng}) are disjoint between purposes and from the
 * weight initialisation's stream (0x7157, src/model/init.ts): 1 = validation split,
 * 2^30 + e = shuffle of epoch e, 2^31 + s = dropout masks of global step s.
 */
export const trainStreams = {
  /** The stratified train/validation split (drawn once). */
  split: (seed: number): Rng => new Rng(seed, 1),
  /** The order of the training cases in epoch `epoch` (0-based). */
  shuffle: (seed: number, epoch: number): Rng => new Rng(seed, 0x40000000 + epoch),
  /** The dropout masks of global step `step` (0-based, counted over all epochs). */
  dropout: (seed: number, step: number): Rng => new Rng(seed, 0x80000000 + step),
};
