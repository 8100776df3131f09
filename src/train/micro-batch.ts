/**
 * One training step on a batch too large for one runtime call, split into micro-batches whose
 * summed gradients are the unsplit batch's (up to float32 rounding).
 *
 * Accumulating gradients is not enough by itself: the conv stem's train-mode BatchNorm
 * normalises with statistics over all B×S positions of the batch, and its backward pass needs
 * two more reductions over the same positions. So, per step, with `L` BatchNorm layers:
 * 1. statistics: for each layer in order, a forward pass up to it over the micro-batches (the
 *    layers below normalised with the whole batch's statistics found so far) gives each
 *    micro-batch's mean and biased variance, pooled into the batch's (Chan, Golub & LeVeque,
 *    "Algorithms for computing the sample variance", 1983: the pairwise update of mean and M2);
 * 2. backward reductions, top layer first: a forward+backward pass over the micro-batches with
 *    the fed statistics sums the gradients of the layer's β and γ, which are Σg and Σg·x̂ over the
 *    batch; fed back as that layer's corrections (see `fedBatchNorm` in model/tst-graph.ts) they
 *    make the gradient below the layer exact, so the next layer down is summed next;
 * 3. a last forward+backward pass with every correction gives every parameter's gradient.
 * That is L forward passes of the stem and L + 1 forward+backward passes of the whole model per
 * step: the price of the same weights in a budget that holds only some rows at a time. Each
 * micro-batch's loss is weighted by its share of the rows (the loss is the batch's mean) and
 * sees its own rows of the batch's dropout masks.
 */

import { toOnnx } from "../graph/onnx.js";
import type { HookedTST } from "../model/hooked-tst.js";
import { paramShapes } from "../model/param-names.js";
import { BN_EPS, buildTSTGraph, dropoutInputs } from "../model/tst-graph.js";
import type { CompiledGraph, HostTensor } from "../runtime/session.js";
import type { Batch } from "./batches.js";
import { type StepOutput, trainFeeds } from "./tst-step.js";

/**
 * One optimiser step's gradients, loss, logits and BatchNorm statistics for `batch`, computed
 * `rows` rows per runtime call; equal to `trainStep` on the whole batch up to float32 rounding.
 *
 * @example
 * const out = await microBatchedStep(model, batch, masks, masked, 8); // a batch of 32 in 4 calls
 * optimiser.step(out.grads);
 */
export async function microBatchedStep(
  model: HookedTST,
  batch: Batch,
  masks: ReadonlyMap<string, Uint8Array>,
  masked: boolean,
  rows: number,
): Promise<StepOutput> {
  if (!(Number.isInteger(rows) && rows >= 1)) {
    throw new RangeError(`microBatchedStep: \`rows\` must be a positive integer, got ${rows}`);
  }
  const { seqLen: S, classes: K } = model.config;
  const B = batch.size;
  const positions = B * S;
  const parts: { feeds: Record<string, HostTensor>; share: number; r0: number }[] = [];
  for (let r0 = 0; r0 < B; r0 += rows) {
    const r1 = Math.min(B, r0 + rows);
    const feeds = trainFeeds(model, sliceBatch(batch, r0, r1), sliceMasks(model, masks, B, r0, r1), masked);
    parts.push({ feeds, share: (r1 - r0) / B, r0 });
  }
  const layers = batchNormLayers(model);
  const fed: Record<string, HostTensor> = {};
  const batchNorm: StepOutput["batchNorm"] = new Map();
  const inverseStd = new Map<string, Float64Array>();

  for (const layer of layers) {
    const outputs = [`bn:${layer}.batch_mean`, `bn:${layer}.batch_var`];
    const session = await compileFed(model, masked, outputs);
    const pooled = new PooledMoments(model.params.get(`${layer}.running_mean`)!.length);
    for (const part of parts) {
      const result = await session.run({ ...part.feeds, ...fed }, outputs);
      pooled.add(
        result[outputs[0]].data as Float32Array,
        result[outputs[1]].data as Float32Array,
        part.share * positions,
      );
    }
    const mean = Float32Array.from(pooled.mean);
    const variance = Float32Array.from(pooled.variance());
    const C = mean.length;
    fed[`bn:${layer}.mean`] = { data: mean, dims: [C] };
    fed[`bn:${layer}.var`] = { data: variance, dims: [C] };
    // No correction until the layer's reductions are known (step 2 sets them top-down).
    fed[`bn:${layer}.grad_shift`] = { data: new Float32Array(C), dims: [C] };
    fed[`bn:${layer}.grad_scale`] = { data: new Float32Array(C), dims: [C] };
    batchNorm.set(layer, { mean, variance, count: positions });
    inverseStd.set(
      layer,
      Float64Array.from(variance, (v) => 1 / Math.sqrt(v + BN_EPS)),
    );
  }

  const step = await model.compile({ mode: "train", mask: masked, batchNormStats: "fed" });
  // `session` computes only `outputs` (a pass for one layer's reductions skips the other
  // parameters' gradients, about a third of the backward's work).
  const wholeBatch = async (session: CompiledGraph, outputs: readonly string[]) => {
    const grads = new Map<string, Float64Array>();
    const logits = new Float32Array(B * K);
    let loss = 0;
    for (const part of parts) {
      const feeds = { ...part.feeds, ...fed, loss_weight: { data: Float32Array.of(part.share), dims: [] } };
      const result = await session.run(feeds, outputs);
      if (result.loss !== undefined) loss += part.share * (result.loss.data as Float32Array)[0];
      if (result.logits !== undefined) logits.set(result.logits.data as Float32Array, part.r0 * K);
      for (const name of outputs) {
        if (!name.startsWith("grad:")) continue;
        const g = result[name].data as Float32Array;
        const sum = grads.get(name.slice(5)) ?? new Float64Array(g.length);
        for (let i = 0; i < g.length; i++) sum[i] += g[i];
        grads.set(name.slice(5), sum);
      }
    }
    return { grads, logits, loss };
  };

  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i];
    const outputs = [`grad:${layer}.bias`, `grad:${layer}.weight`];
    const { grads } = await wholeBatch(await compileFed(model, masked, outputs, true), outputs);
    // Σg and Σg·x̂ over the batch are β's and γ's gradients; the corrections need their means.
    const sumG = grads.get(`${layer}.bias`)!;
    const sumGXhat = grads.get(`${layer}.weight`)!;
    const gamma = model.params.get(`${layer}.weight`)!;
    const invStd = inverseStd.get(layer)!;
    const C = gamma.length;
    const shift = new Float32Array(C);
    const scale = new Float32Array(C);
    for (let c = 0; c < C; c++) {
      shift[c] = -gamma[c] * (sumG[c] / positions) * invStd[c];
      scale[c] = (-gamma[c] * (sumGXhat[c] / positions) * invStd[c] * invStd[c]) / 2;
    }
    fed[`bn:${layer}.grad_shift`] = { data: shift, dims: [C] };
    fed[`bn:${layer}.grad_scale`] = { data: scale, dims: [C] };
  }
  const last = await wholeBatch(step.session, step.outputs);
  const grads = new Map([...last.grads].map(([name, g]) => [name, Float32Array.from(g)]));
  return { loss: last.loss, logits: last.logits, grads, batchNorm };
}

/** The BatchNorm layers of the model's stem, bottom to top (e.g. `embed.bn1`). */
function batchNormLayers(model: HookedTST): string[] {
  return paramShapes(model.config)
    .filter((p) => p.name.startsWith("embed.bn") && p.name.endsWith(".running_mean"))
    .map((p) => p.name.slice(0, -".running_mean".length));
}

/**
 * Per-channel mean and biased variance of values arriving in groups, each given as its count,
 * mean and biased variance (pooled in float64 by the pairwise update, never through Σx², which
 * cancels when the mean is large against the spread).
 */
class PooledMoments {
  readonly mean: Float64Array;
  private readonly m2: Float64Array;
  private count = 0;

  constructor(channels: number) {
    this.mean = new Float64Array(channels);
    this.m2 = new Float64Array(channels);
  }

  add(mean: Float32Array, variance: Float32Array, count: number): void {
    const total = this.count + count;
    for (let c = 0; c < this.mean.length; c++) {
      const delta = mean[c] - this.mean[c];
      this.mean[c] += (delta * count) / total;
      this.m2[c] += variance[c] * count + (delta * delta * this.count * count) / total;
    }
    this.count = total;
  }

  variance(): Float64Array {
    return this.m2.map((m) => m / this.count);
  }
}

function sliceBatch(batch: Batch, r0: number, r1: number): Batch {
  const perX = batch.x.length / batch.size;
  const perValid = batch.valid.length / batch.size;
  return {
    indices: batch.indices.subarray(r0, r1),
    size: r1 - r0,
    x: batch.x.subarray(r0 * perX, r1 * perX),
    valid: batch.valid.subarray(r0 * perValid, r1 * perValid),
    labels: batch.labels.subarray(r0, r1),
  };
}

/** Rows r0..r1 of the batch's dropout masks: the masks the unsplit batch draws, not fresh ones. */
function sliceMasks(
  model: HookedTST,
  masks: ReadonlyMap<string, Uint8Array>,
  batch: number,
  r0: number,
  r1: number,
): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const name of dropoutInputs(model.config, batch).keys()) {
    const mask = masks.get(name);
    if (mask === undefined) continue;
    const per = mask.length / batch;
    out.set(name, mask.subarray(r0 * per, r1 * per));
  }
  return out;
}

const serialised = new Map<string, Uint8Array>();

/**
 * The fed-statistics training graph cut down to `outputs` (e.g. the stem up to one BatchNorm, or
 * one layer's parameter gradients); `gradients` adds the backward pass.
 */
async function compileFed(
  model: HookedTST,
  masked: boolean,
  outputs: string[],
  gradients = false,
): Promise<CompiledGraph> {
  const contribOps = model.runtime.contribOps;
  const key = JSON.stringify([model.config, masked, outputs, gradients, contribOps]);
  let bytes = serialised.get(key);
  if (bytes === undefined) {
    const options = { mode: "train", mask: masked, batchNormStats: "fed", gradients } as const;
    const { graph } = buildTSTGraph(model.config, options);
    bytes = toOnnx(graph, { outputs, contribOps });
    serialised.set(key, bytes);
  }
  return model.runtime.compileBytes(bytes);
}
