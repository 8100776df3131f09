import type { Rng } from "../random/rng.js";
import { shuffleInPlace } from "./shuffle.js";

/** Indices of the cases used for training and for validation (both sorted ascending). */
export interface SplitResult {
  train: Int32Array;
  validation: Int32Array;
}

/**
 * Split case indices into train and validation sets, stratified by class: every class gives
 * round(fraction · n_c) of its n_c cases to validation, but always keeps at least one case for
 * training (a class with one case is never held out). `fraction` 0 puts everything in train.
 *
 * @param labels class index of each case
 * @param fraction share of each class held out, in [0, 1)
 * @param rng the source of the random choice (seeded, see `trainStreams.split`)
 * @example
 * const { train, validation } = stratifiedSplit(ds.labelIndex, 0.1, new Rng(0));
 */
export function stratifiedSplit(labels: Int32Array, fraction: number, rng: Rng): SplitResult {
  if (!(fraction >= 0 && fraction < 1)) {
    throw new RangeError(`stratifiedSplit: \`fraction\` must be in [0, 1), got ${fraction}`);
  }
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const list = byClass.get(labels[i]);
    if (list === undefined) byClass.set(labels[i], [i]);
    else list.push(i);
  }
  const held = new Uint8Array(labels.length);
  // Visit classes in index order so the draw does not depend on Map insertion order.
  for (const cls of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = byClass.get(cls)!;
    const take = Math.min(Math.round(fraction * members.length), members.length - 1);
    if (take <= 0) continue;
    shuffleInPlace(members, rng);
    for (let k = 0; k < take; k++) held[members[k]] = 1;
  }
  const train: number[] = [];
  const validation: number[] = [];
  for (let i = 0; i < labels.length; i++) (held[i] ? validation : train).push(i);
  return { train: Int32Array.from(train), validation: Int32Array.from(validation) };
}
