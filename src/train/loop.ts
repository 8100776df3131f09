import { createHash } from "node:crypto";
import { InterruptedError, inputError } from "../errors.js";
import type { HookedTST } from "../model/hooked-tst.js";
import { withoutArena } from "../model/memory-cost.js";
import { paramShapes } from "../model/param-names.js";
import { streams } from "../random/streams.js";
import { type Batch, epochBatches, gatherBatch, type TrainData } from "./batches.js";
import { updateRunningStats } from "./batchnorm-stats.js";
import {
  type CheckpointSettings,
  type EpochRecord,
  type LoopPosition,
  readCheckpoint,
  settingsMismatch,
  writeCheckpoint,
} from "./checkpoint.js";
import { logitMetrics } from "./classification-metrics.js";
import { microBatchedStep } from "./micro-batch.js";
import { RAdam } from "./radam.js";
import { stratifiedSplit } from "./stratified-split.js";
import { drawDropoutMasks, type StepOutput, trainStep } from "./tst-step.js";

/**
 * The training loop: shuffled mini-batches (seeded), one runtime call of the forward+backward
 * graph per step, RAdam in TypeScript, BatchNorm running statistics, per-epoch metrics, early
 * stopping on a stratified validation split with the best epoch restored, resumable checkpoints,
 * Ctrl-C handling, and a stop with a clear message when the loss diverges.
 *
 * Defaults are the reference setup (RAdam lr 1e-3, weight decay 1e-4, batch 32, up to 100
 * epochs, cross-entropy) plus early stopping (validation share 0.1, patience 20).
 */
export interface TrainLoopOptions {
  /** Maximum epochs (default 100). */
  epochs?: number;
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  /** Share of each class held out for early stopping (default 0.1; 0 = train on all for `epochs`). */
  valFraction?: number;
  /** Stop after this many epochs without a lower validation loss (default 20). */
  patience?: number;
  /**
   * Rows per runtime call when a batch is larger (default: the whole batch in one call): the
   * batch's step is computed in micro-batches whose gradients, BatchNorm statistics included,
   * are the whole batch's up to float32 rounding (see micro-batch.ts), so the weights are too.
   */
  microBatch?: number;
  /** Seeds the split, the shuffling and the dropout masks (the weights are initialised by the caller). */
  seed?: number;
  /** Write a resumable checkpoint here after every epoch and when interrupted. */
  checkpointPath?: string;
  /** Continue from `checkpointPath` (which must exist). */
  resume?: boolean;
  /** When aborted, the loop finishes the current step, writes the checkpoint and throws InterruptedError. */
  signal?: AbortSignal;
  /** Steps done in the current epoch, with the running loss and accuracy as detail. */
  onProgress?: (done: number, total: number, detail?: string) => void;
  /** Called after each epoch. */
  onEpoch?: (record: EpochRecord, epochs: number) => void;
}

export interface TrainLoopResult {
  history: EpochRecord[];
  /** 1-based epoch whose weights the model holds now (the best by validation loss, else the last). */
  bestEpoch: number;
  /** True when early stopping ended the run before `epochs`. */
  stoppedEarly: boolean;
  /** Optimiser steps taken. */
  steps: number;
  /** Batches the restored BatchNorm statistics have seen (PyTorch's num_batches_tracked). */
  numBatchesTracked: number;
  /** Cases used for training and for validation. */
  split: { train: number; validation: number };
  /** Wall time over all sessions (a resumed run adds to the time before the interruption). */
  wallSeconds: number;
  /** Where the run resumed from, or null. */
  resumedFrom: { epoch: number; step: number } | null;
}

/**
 * Train `model` in place on `data`.
 *
 * @example
 * const model = HookedTST.fromConfig(config, seed, { preprocess, labelMap });
 * const result = await trainLoop(model, data, { seed, checkpointPath: "models/jv/checkpoint.safetensors" });
 * result.bestEpoch; // the weights in model.params are this epoch's
 */
export async function trainLoop(
  model: HookedTST,
  data: TrainData,
  options: TrainLoopOptions = {},
): Promise<TrainLoopResult> {
  const settings: CheckpointSettings = {
    batchSize: options.batchSize ?? 32,
    lr: options.lr ?? 1e-3,
    weightDecay: options.weightDecay ?? 1e-4,
    valFraction: options.valFraction ?? 0.1,
    patience: options.patience ?? 20,
    seed: options.seed ?? 0,
    normalize: model.preprocess?.normalize.method ?? "none",
    modelSetup: createHash("sha256")
      .update(JSON.stringify([model.config, model.preprocess]))
      .digest("hex")
      .slice(0, 16),
    threads: model.runtime.threads,
  };
  const epochs = options.epochs ?? 100;
  const microBatch = options.microBatch ?? settings.batchSize;
  validateOptions(settings, epochs, model, data);
  if (!Number.isInteger(microBatch) || microBatch < 1) {
    throw inputError(`microBatch must be a positive integer, got ${microBatch}`, { field: "microBatch" });
  }
  const { seed } = settings;
  const masked = data.valid.some((v) => v === 0);
  const split =
    settings.valFraction > 0
      ? stratifiedSplit(data.labels, settings.valFraction, streams.split(seed))
      : { train: Int32Array.from({ length: data.cases }, (_, i) => i), validation: new Int32Array(0) };
  const useValidation = split.validation.length > 0;
  const validation = useValidation ? gatherBatch(data, split.validation) : null;

  const shapes = paramShapes(model.config);
  const trainable = new Map(
    shapes.filter((p) => p.trainable).map((p) => [p.name, model.params.get(p.name)!]),
  );
  const optimizer = new RAdam(trainable, { lr: settings.lr, weightDecay: settings.weightDecay });
  const fingerprint = dataFingerprint(data);

  let best: Map<string, Float32Array> | null = null;
  let pos: LoopPosition = {
    settings,
    data: fingerprint,
    epoch: 0,
    stepInEpoch: 0,
    globalStep: 0,
    partial: { lossSum: 0, correct: 0, seen: 0, seconds: 0 },
    history: [],
    best: null,
    epochsSinceBest: 0,
    numBatchesTracked: {},
    elapsedSeconds: 0,
  };
  let resumedFrom: TrainLoopResult["resumedFrom"] = null;
  if (options.resume) {
    const path = options.checkpointPath;
    if (path === undefined)
      throw inputError("cannot resume: no checkpoint path given", { field: "checkpointPath" });
    const ckpt = readCheckpoint(path);
    const changed = settingsMismatch(ckpt.position.settings, settings);
    if (changed.length > 0) {
      throw inputError(`the checkpoint was written with other settings:\n  ${changed.join("\n  ")}`, {
        file: path,
        hint: "resume with the original settings (--normalize, --threads, --batch-size, …), or train again without --resume",
      });
    }
    if (ckpt.position.data !== fingerprint) {
      throw inputError("the checkpoint was written for other training data", {
        file: path,
        hint: "resume with the same dataset and --normalize, or train again without --resume",
      });
    }
    for (const [name, value] of model.params) {
      const saved = ckpt.params.get(name);
      if (saved === undefined || saved.length !== value.length) {
        throw inputError(`the checkpoint does not fit the model (parameter ${name})`, { file: path });
      }
      value.set(saved);
    }
    optimizer.loadState(ckpt.optimizer);
    best = ckpt.best;
    pos = ckpt.position;
    resumedFrom = { epoch: pos.epoch + 1, step: pos.stepInEpoch };
  }

  const bnLayers = shapes.filter((p) => p.name.endsWith(".running_mean")).map((p) => p.name.slice(0, -13));
  const save = () => {
    if (options.checkpointPath === undefined) return;
    writeCheckpoint(options.checkpointPath, {
      position: pos,
      params: model.params,
      optimizer: optimizer.saveState(),
      best,
    });
  };
  // A micro-batched step runs seven graphs (the stem to each BatchNorm, each layer's reductions,
  // the step), and with ONNX Runtime's arena each keeps its own pool of freed blocks: 40 × 361 in
  // micro-batches of 8 peaked at 3.88 GiB with the arena and memory pattern, 0.95 GiB without.
  const stepModel = microBatch < settings.batchSize ? withoutArena(model) : model;
  let sessionStart = performance.now();
  const patienceRunOut = () => useValidation && pos.epochsSinceBest >= settings.patience;

  while (pos.epoch < epochs && !patienceRunOut()) {
    const epoch = pos.epoch;
    const batches = epochBatches(split.train, settings.batchSize, streams.shuffle(seed, epoch));
    for (let k = pos.stepInEpoch; k < batches.length; k++) {
      const stepStart = performance.now();
      const batch = gatherBatch(data, batches[k]);
      const masks = drawDropoutMasks(model, batch.size, streams.dropout(seed, pos.globalStep));
      const out =
        microBatch < batch.size
          ? await microBatchedStep(stepModel, batch, masks, masked, microBatch)
          : await trainStep(stepModel, batch, masks, masked);
      const bad = nonFinite(out);
      if (bad !== null) throw diverged(bad, epoch + 1, k + 1, batches.length, pos, options.checkpointPath);
      optimizer.step(out.grads);
      for (const layer of bnLayers) {
        const stats = out.batchNorm.get(layer);
        if (stats === undefined)
          throw new Error(`trainLoop: the training graph gave no batch statistics for ${layer}`);
        const buffers = {
          runningMean: model.params.get(`${layer}.running_mean`)!,
          runningVar: model.params.get(`${layer}.running_var`)!,
          numBatchesTracked: pos.numBatchesTracked[layer] ?? 0,
        };
        updateRunningStats(buffers, stats.mean, stats.variance, stats.count);
        pos.numBatchesTracked[layer] = buffers.numBatchesTracked;
      }
      const m = logitMetrics(out.logits, batch.labels, model.config.classes);
      pos.partial.lossSum += out.loss * batch.size;
      pos.partial.correct += m.correct;
      pos.partial.seen += batch.size;
      pos.partial.seconds += (performance.now() - stepStart) / 1000;
      pos.globalStep += 1;
      pos.stepInEpoch = k + 1;
      options.onProgress?.(
        k + 1,
        batches.length,
        `loss ${(pos.partial.lossSum / pos.partial.seen).toFixed(4)} acc ${(pos.partial.correct / pos.partial.seen).toFixed(3)}`,
      );
      if (options.signal?.aborted) {
        pos.elapsedSeconds += (performance.now() - sessionStart) / 1000;
        sessionStart = performance.now();
        save();
        const where = `epoch ${epoch + 1}, step ${k + 1} of ${batches.length}`;
        throw new InterruptedError(
          options.checkpointPath === undefined
            ? `training interrupted at ${where}`
            : `training interrupted at ${where}; checkpoint written to ${options.checkpointPath}; run the same command with --resume to continue`,
        );
      }
    }

    // End of epoch: validation, early stopping, checkpoint.
    const validationStart = performance.now();
    let valLoss: number | null = null;
    let valAccuracy: number | null = null;
    if (validation !== null) {
      const v = await evaluateBatch(model, validation, masked);
      valLoss = v.loss;
      valAccuracy = v.correct / v.n;
    }
    const record: EpochRecord = {
      epoch: epoch + 1,
      trainLoss: pos.partial.lossSum / pos.partial.seen,
      trainAccuracy: pos.partial.correct / pos.partial.seen,
      valLoss,
      valAccuracy,
      seconds: pos.partial.seconds + (performance.now() - validationStart) / 1000,
    };
    pos.history.push(record);
    if (valLoss !== null) {
      if (pos.best === null || valLoss < pos.best.valLoss) {
        pos.best = { epoch: epoch + 1, valLoss, globalStep: pos.globalStep };
        pos.epochsSinceBest = 0;
        best = new Map([...model.params].map(([name, value]) => [name, value.slice()]));
      } else {
        pos.epochsSinceBest += 1;
      }
    }
    pos.epoch = epoch + 1;
    pos.stepInEpoch = 0;
    pos.partial = { lossSum: 0, correct: 0, seen: 0, seconds: 0 };
    pos.elapsedSeconds += (performance.now() - sessionStart) / 1000;
    sessionStart = performance.now();
    save();
    options.onEpoch?.(record, epochs);
  }
  const stoppedEarly = pos.epoch < epochs;

  let bestEpoch = pos.history.length;
  let numBatchesTracked = pos.globalStep;
  if (best !== null && pos.best !== null) {
    for (const [name, value] of model.params) value.set(best.get(name)!);
    bestEpoch = pos.best.epoch;
    numBatchesTracked = pos.best.globalStep;
  }
  pos.elapsedSeconds += (performance.now() - sessionStart) / 1000;
  return {
    history: pos.history,
    bestEpoch,
    stoppedEarly,
    steps: pos.globalStep,
    numBatchesTracked,
    split: { train: split.train.length, validation: split.validation.length },
    wallSeconds: pos.elapsedSeconds,
    resumedFrom,
  };
}

/**
 * Eval-mode loss and accuracy of the model on a batch (running statistics, no dropout).
 *
 * @example
 * const { loss, correct, n } = await evaluateBatch(model, gatherBatch(data, indices), true);
 */
export async function evaluateBatch(
  model: HookedTST,
  batch: Batch,
  masked: boolean,
): Promise<{ loss: number; correct: number; n: number; logits: Float32Array }> {
  const { logits } = await model.run(batch.x, { mask: masked ? batch.valid : null });
  return { ...logitMetrics(logits, batch.labels, model.config.classes), logits };
}

/**
 * A short hash of the training data (values, padding mask, labels, shape), so a checkpoint is
 * never resumed on other data.
 */
export function dataFingerprint(data: TrainData): string {
  const hash = createHash("sha256");
  hash.update(JSON.stringify([data.cases, data.seqLen, data.channels, data.classes]));
  for (const a of [data.x, data.valid, data.labels])
    hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return hash.digest("hex").slice(0, 16);
}

function nonFinite(out: StepOutput): string | null {
  if (!Number.isFinite(out.loss)) return `the loss is ${out.loss}`;
  for (const [name, g] of out.grads) {
    for (let i = 0; i < g.length; i++)
      if (!Number.isFinite(g[i])) return `the gradient of ${name} is ${g[i]}`;
  }
  return null;
}

function diverged(
  what: string,
  epoch: number,
  step: number,
  steps: number,
  pos: LoopPosition,
  checkpointPath: string | undefined,
) {
  const kept =
    checkpointPath === undefined
      ? ""
      : pos.history.length > 0
        ? `; the last good checkpoint (end of epoch ${pos.history.length}) is kept at ${checkpointPath}`
        : "; no epoch had finished, so there is no checkpoint";
  return inputError(`training diverged: ${what} at epoch ${epoch}, step ${step} of ${steps}${kept}`, {
    hint: "lower the learning rate (e.g. --lr 1e-4) or check the normalisation (--normalize zscore)",
  });
}

function validateOptions(s: CheckpointSettings, epochs: number, model: HookedTST, data: TrainData): void {
  const positiveInt = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1)
      throw inputError(`${name} must be a positive integer, got ${v}`, { field: name });
  };
  positiveInt("epochs", epochs);
  positiveInt("batchSize", s.batchSize);
  positiveInt("patience", s.patience);
  if (!(s.lr > 0 && Number.isFinite(s.lr)))
    throw inputError(`lr must be a positive number, got ${s.lr}`, { field: "lr" });
  if (!(s.weightDecay >= 0 && Number.isFinite(s.weightDecay))) {
    throw inputError(`weightDecay must be a non-negative number, got ${s.weightDecay}`, {
      field: "weightDecay",
    });
  }
  if (!(s.valFraction >= 0 && s.valFraction < 1)) {
    throw inputError(`valFraction must be in [0, 1), got ${s.valFraction}`, {
      field: "valFraction",
      hint: "0 trains on all of TRAIN for the given epochs",
    });
  }
  if (!Number.isSafeInteger(s.seed) || s.seed < 0) {
    throw inputError(`seed must be a non-negative integer, got ${s.seed}`, { field: "seed" });
  }
  const { seqLen, channels, classes } = model.config;
  if (data.seqLen !== seqLen || data.channels !== channels || data.classes !== classes) {
    throw inputError(
      `the data (${data.seqLen} steps × ${data.channels} channels, ${data.classes} classes) does not fit the model (${seqLen} × ${channels}, ${classes})`,
    );
  }
  if (data.cases < 2) throw inputError(`need at least 2 training cases, got ${data.cases}`);
  for (let i = 0; i < data.cases; i++) {
    if (!(data.labels[i] >= 0 && data.labels[i] < classes)) {
      throw inputError(`case ${i + 1} has no class label (index ${data.labels[i]})`, {
        hint: "training needs a labelled TRAIN split",
      });
    }
  }
}
