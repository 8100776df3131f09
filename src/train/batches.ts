import type { Rng } from "../random/rng.js";
import { shuffleInPlace } from "./shuffle.js";

/**
 * Training data as the model consumes it: preprocessed values, padded to the model's length.
 * Layout cases × seqLen × channels (the data layer's layout).
 */
export interface TrainData {
  x: Float32Array;
  /** cases × seqLen, 1 where a step is real, 0 where it is padding. */
  valid: Uint8Array;
  /** Class index of each case, 0..classes-1. */
  labels: Int32Array;
  cases: number;
  seqLen: number;
  channels: number;
  classes: number;
}

/** A batch copied out of {@link TrainData}. */
export interface Batch {
  /** Case indices in TrainData. */
  indices: Int32Array;
  size: number;
  x: Float32Array;
  valid: Uint8Array;
  labels: Int32Array;
}

/**
 * The batches of one epoch: `indices` shuffled with `rng` (or in the given order when `rng` is
 * null) and cut into runs of `batchSize`; the last batch is smaller when the count does not
 * divide (as a PyTorch DataLoader with `drop_last=False`).
 *
 * @example
 * const batches = epochBatches(split.train, 32, trainStreams.shuffle(seed, epoch));
 */
export function epochBatches(indices: Int32Array, batchSize: number, rng: Rng | null): Int32Array[] {
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) {
    throw new RangeError(`epochBatches: \`batchSize\` must be a positive integer, got ${batchSize}`);
  }
  const order = indices.slice();
  if (rng !== null) shuffleInPlace(order, rng);
  const out: Int32Array[] = [];
  for (let start = 0; start < order.length; start += batchSize)
    out.push(order.subarray(start, start + batchSize));
  return out;
}

/**
 * Copy the cases `indices` of `data` into a contiguous batch.
 *
 * @example
 * const batch = gatherBatch(data, Int32Array.of(4, 0, 7));
 */
export function gatherBatch(data: TrainData, indices: Int32Array): Batch {
  const { seqLen, channels } = data;
  const rowX = seqLen * channels;
  const size = indices.length;
  const x = new Float32Array(size * rowX);
  const valid = new Uint8Array(size * seqLen);
  const labels = new Int32Array(size);
  for (let b = 0; b < size; b++) {
    const i = indices[b];
    x.set(data.x.subarray(i * rowX, (i + 1) * rowX), b * rowX);
    valid.set(data.valid.subarray(i * seqLen, (i + 1) * seqLen), b * seqLen);
    labels[b] = data.labels[i];
  }
  return { indices: indices.slice(), size, x, valid, labels };
}
