import { Rng } from "./rng.js";

/**
 * Every stream number of tspatch, in one place. A random step draws from `new Rng(seed, stream)`:
 * the user's seed, and a stream fixed by the step's purpose (and a counter such as the epoch),
 * so a result never depends on what else ran before it, and a resumed run draws what an
 * uninterrupted one would.
 *
 * | purpose                                   | stream               | used in                   |
 * | ----------------------------------------- | -------------------- | ------------------------- |
 * | initial weights                           | 0x7157               | model/init.ts             |
 * | train/validation split                    | 1                    | train/loop.ts             |
 * | case order of epoch e                     | 2^30 + e             | train/loop.ts             |
 * | dropout masks of global step s            | 2^31 + s             | train/loop.ts             |
 * | targets sampled from class y              | 1·2^24 + y           | patching/pairs.ts, noise.ts |
 * | sources sampled for target row t         | 2·2^24 + t           | patching/pairs.ts         |
 * | Gaussian noise of source row i            | 3·2^24 + i           | patching/noise.ts         |
 * | head × time-step units of direction d     | 4·2^24 + d           | study/position-units.ts   |
 * | sign flips of a column of n values        | 2^30 + n             | stats/analyze-effects.ts  |
 * | bootstrap resamples of a column of n      | stream·1000003 + n   | stats/bootstrap.ts        |
 * | calibration simulations                   | a counter per study  | stats/calibration.ts      |
 *
 * Within one purpose family the numbers are disjoint. The epoch shuffles and the sign flips
 * share the range 2^30 + k; they stay so because both drive published fixtures and runs, and
 * they are never drawn by one computation (a training run's case order, a test's sign vectors).
 *
 * @example
 * const rng = streams.shuffle(seed, epoch);
 */
export const streams = {
  /** The initial weights of a model (model/init.ts). */
  init: (seed: number): Rng => new Rng(seed, 0x7157),
  /** The stratified train/validation split (drawn once per run). */
  split: (seed: number): Rng => new Rng(seed, 1),
  /** The order of the training cases in epoch `epoch` (0-based). */
  shuffle: (seed: number, epoch: number): Rng => new Rng(seed, 0x40000000 + epoch),
  /** The dropout masks of global step `step` (0-based, counted over all epochs). */
  dropout: (seed: number, step: number): Rng => new Rng(seed, 0x80000000 + step),
  /** The targets sampled from class `y` (pair strategies and noised pairs). */
  pairTargets: (seed: number, y: number): Rng => indexed(seed, 1, y),
  /** The sources sampled for target row `target`. */
  pairSources: (seed: number, target: number): Rng => indexed(seed, 2, target),
  /** The Gaussian noise added to source row `source` (noised pairs). */
  noise: (seed: number, source: number): Rng => indexed(seed, 3, source),
  /** The units the head × time-step sweep runs on in direction `d` (0 denoise, 1 noise, 2 pooled). */
  positionUnits: (seed: number, d: number): Rng => indexed(seed, 4, d),
  /** The stream of the sign-flip permutations of a column of `n` values (for signFlipTest). */
  permutation: (n: number): number => 0x40000000 + n,
};

/** Purpose in the top byte, the index in the low 24 bits (streams are uint32). */
function indexed(seed: number, purpose: number, index: number): Rng {
  return new Rng(seed, ((purpose & 0xff) * 0x1000000 + (index & 0xffffff)) >>> 0);
}
