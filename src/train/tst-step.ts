import type { HookedTST } from "../model/hooked-tst.js";
import { dropoutInputs } from "../model/tst-graph.js";
import type { Rng } from "../random/rng.js";
import type { HostTensor } from "../runtime/session.js";
import type { Batch } from "./batches.js";
import { fillKeepMask } from "./dropout-masks.js";

/** What one forward+backward pass of the training graph returns. */
export interface StepOutput {
  /** Mean cross-entropy of the batch. */
  loss: number;
  /** batch × classes, train mode (batch statistics, dropout). */
  logits: Float32Array;
  /** d loss / d p for every trainable parameter. */
  grads: Map<string, Float32Array>;
  /** Per BatchNorm layer (e.g. `embed.bn1`, `blocks.0.ln1`): batch mean, biased batch variance, values per channel. */
  batchNorm: Map<string, { mean: Float32Array; variance: Float32Array; count: number }>;
}

/**
 * Fresh dropout keep-masks for a batch of `batch` rows, one per dropout site of the model, drawn
 * from `rng` in the model's site order (layer by layer, attn_dropout, dropout1, mlp_dropout,
 * dropout2). Empty when the model has no dropout.
 *
 * @example
 * const masks = drawDropoutMasks(model, 32, trainStreams.dropout(seed, step));
 */
export function drawDropoutMasks(model: HookedTST, batch: number, rng: Rng): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  if (!(model.config.dropout > 0)) return out;
  for (const [name, shape] of dropoutInputs(model.config, batch)) {
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    out.set(name, fillKeepMask(rng, new Uint8Array(size), model.config.dropout));
  }
  return out;
}

/**
 * One runtime call of the TST's forward+backward graph on a batch, with the given dropout masks
 * (see {@link drawDropoutMasks}). Does not change the model.
 *
 * @param masked feed the padding mask (the graph with a `mask` input); needed when any case of
 *   the data set is shorter than the model's length
 * @example
 * const out = await trainStep(model, batch, masks, true);
 * optimiser.step(out.grads);
 */
export async function trainStep(
  model: HookedTST,
  batch: Batch,
  masks: ReadonlyMap<string, Uint8Array>,
  masked: boolean,
): Promise<StepOutput> {
  const { session, outputs } = await model.compile({ mode: "train", mask: masked });
  const feeds = trainFeeds(model, batch, masks, masked);
  const result = await session.run(feeds, outputs);
  const grads = new Map<string, Float32Array>();
  const batchNorm: StepOutput["batchNorm"] = new Map();
  for (const name of outputs) {
    if (name.startsWith("grad:")) grads.set(name.slice(5), result[name].data as Float32Array);
    else if (name.startsWith("bn:") && name.endsWith(".batch_mean")) {
      const layer = name.slice(3, -".batch_mean".length);
      batchNorm.set(layer, {
        mean: result[name].data as Float32Array,
        variance: result[`bn:${layer}.batch_var`].data as Float32Array,
        // Encoder BatchNorms count the real tokens they averaged over; the conv stack's, B×S steps.
        count:
          result[`bn:${layer}.count`] === undefined
            ? batch.size * model.config.seqLen
            : (result[`bn:${layer}.count`].data as Float32Array)[0],
      });
    }
  }
  return {
    loss: (result.loss.data as Float32Array)[0],
    logits: result.logits.data as Float32Array,
    grads,
    batchNorm,
  };
}

/**
 * The feeds of a training graph for a batch: the weights, the batch's values, padding mask and
 * one-hot labels, and its dropout masks (row-major with the batch first, `batch.size` rows).
 *
 * @example
 * const feeds = trainFeeds(model, batch, masks, true);
 */
export function trainFeeds(
  model: HookedTST,
  batch: Batch,
  masks: ReadonlyMap<string, Uint8Array>,
  masked: boolean,
): Record<string, HostTensor> {
  const { seqLen: S, channels: C, classes: K } = model.config;
  const B = batch.size;
  const feeds: Record<string, HostTensor> = model.weightFeeds();
  feeds.x = { data: batch.x, dims: [B, S, C] };
  if (masked) feeds.mask = { data: batch.valid, dims: [B, S], dtype: "bool" };
  const oneHot = new Float32Array(B * K);
  for (let b = 0; b < B; b++) oneHot[b * K + batch.labels[b]] = 1;
  feeds.labels = { data: oneHot, dims: [B, K] };
  for (const [name, shape] of dropoutInputs(model.config, B)) {
    const mask = masks.get(name);
    if (mask === undefined) {
      if (model.config.dropout > 0) throw new Error(`trainStep: no dropout mask for "${name}"`);
      continue;
    }
    feeds[name] = { data: mask, dims: shape as number[], dtype: "bool" };
  }
  return feeds;
}
