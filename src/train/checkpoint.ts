import { existsSync } from "node:fs";
import { inputError } from "../errors.js";
import { assertFiniteWeights } from "../model/finite-weights.js";
import { readSafetensors, type StoredTensor, writeSafetensors } from "../model/safetensors.js";
import type { RAdamState } from "./radam.js";

/**
 * A resumable training checkpoint: one safetensors file (written atomically) holding the weights
 * (parameters and BatchNorm running statistics), the optimiser's moments, the best weights so far
 * (for early stopping), and in its metadata the loop's position and history as JSON.
 *
 * Randomness needs no saved generator state: every stream is derived from (seed, epoch, global
 * step), see `rng-streams.ts`, so the position is the RNG state.
 */

/** Hyperparameters a resumed run must share with the run that wrote the checkpoint. */
export interface CheckpointSettings {
  batchSize: number;
  lr: number;
  weightDecay: number;
  valFraction: number;
  patience: number;
  seed: number;
  /** Input normalisation (`--normalize`). */
  normalize: string;
  /** Hash of the model config and the fitted preprocessing (statistics, padding, resampling). */
  modelSetup: string;
  /** Runtime threads: another count sums in another order, so the weights differ in the last bits. */
  threads: number;
}

/** Per-epoch metrics; validation fields are null when no validation split is used. */
export interface EpochRecord {
  /** 1-based. */
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  valLoss: number | null;
  valAccuracy: number | null;
  /** Wall time of the epoch (training steps + validation). */
  seconds: number;
}

/** Where the loop stands and everything it has accumulated. */
export interface LoopPosition {
  settings: CheckpointSettings;
  /** Identifies the training data (see `dataFingerprint`). */
  data: string;
  /** 0-based epoch in progress (or the next one, when `stepInEpoch` is 0). */
  epoch: number;
  /** Next batch index within `epoch`. */
  stepInEpoch: number;
  /** Steps taken over all epochs. */
  globalStep: number;
  /** Running sums of the epoch in progress. */
  partial: { lossSum: number; correct: number; seen: number; seconds: number };
  history: EpochRecord[];
  /** The best epoch so far by validation loss, and the step count its weights had seen. */
  best: { epoch: number; valLoss: number; globalStep: number } | null;
  epochsSinceBest: number;
  numBatchesTracked: Record<string, number>;
  /** Wall time spent so far (over all sessions). */
  elapsedSeconds: number;
}

export interface Checkpoint {
  position: LoopPosition;
  params: Map<string, Float32Array>;
  optimizer: RAdamState;
  /** Weights of the best epoch so far (null without validation or before the first epoch). */
  best: Map<string, Float32Array> | null;
}

const FORMAT = "tspatch-train-checkpoint";
const VERSION = "1";

/**
 * Write a checkpoint atomically (temporary file + rename), so an interrupted write leaves the
 * previous checkpoint intact.
 *
 * @example
 * writeCheckpoint("models/jv/checkpoint.safetensors", { position, params, optimizer: opt.saveState(), best: null });
 */
export function writeCheckpoint(path: string, checkpoint: Checkpoint): void {
  const tensors = new Map<string, StoredTensor>();
  const put = (name: string, data: Float32Array) =>
    tensors.set(name, { dtype: "F32", shape: [data.length], data });
  for (const [name, data] of checkpoint.params) put(`param.${name}`, data);
  for (const [name, data] of checkpoint.optimizer.expAvg) put(`exp_avg.${name}`, data);
  for (const [name, data] of checkpoint.optimizer.expAvgSq) put(`exp_avg_sq.${name}`, data);
  if (checkpoint.best !== null) for (const [name, data] of checkpoint.best) put(`best.${name}`, data);
  writeSafetensors(path, tensors, {
    format: FORMAT,
    version: VERSION,
    optimizer_step: String(checkpoint.optimizer.step),
    position: JSON.stringify(checkpoint.position),
  });
}

/**
 * Read a checkpoint written by {@link writeCheckpoint}; an InputError if it is not one.
 *
 * @example
 * const ckpt = readCheckpoint("models/jv/checkpoint.safetensors");
 */
export function readCheckpoint(path: string): Checkpoint {
  if (!existsSync(path)) {
    throw inputError("no checkpoint to resume from", {
      file: path,
      hint: "run without --resume to start training",
    });
  }
  const { tensors, metadata } = readSafetensors(path);
  if (metadata.format !== FORMAT || metadata.version !== VERSION) {
    throw inputError(`not a tspatch training checkpoint (format "${metadata.format ?? "none"}")`, {
      file: path,
      hint: "delete it and train again without --resume",
    });
  }
  let position: LoopPosition;
  try {
    position = JSON.parse(metadata.position ?? "") as LoopPosition;
  } catch {
    throw inputError("the checkpoint's position record is not valid JSON", { file: path, field: "position" });
  }
  checkPosition(position, metadata.optimizer_step, path);
  const params = new Map<string, Float32Array>();
  const expAvg = new Map<string, Float32Array>();
  const expAvgSq = new Map<string, Float32Array>();
  const bestParams = new Map<string, Float32Array>();
  for (const [key, t] of tensors) {
    if (!(t.data instanceof Float32Array))
      throw inputError(`tensor ${key} is not float32`, { file: path, field: key });
    const dot = key.indexOf(".");
    const kind = key.slice(0, dot);
    const name = key.slice(dot + 1);
    if (kind === "param") params.set(name, t.data);
    else if (kind === "exp_avg") expAvg.set(name, t.data);
    else if (kind === "exp_avg_sq") expAvgSq.set(name, t.data);
    else if (kind === "best") bestParams.set(name, t.data);
    else throw inputError(`unexpected tensor ${key}`, { file: path, field: key });
  }
  assertFiniteWeights([...params, ...bestParams], path);
  const best = bestParams.size > 0 ? bestParams : null;
  return { position, params, optimizer: { step: Number(metadata.optimizer_step), expAvg, expAvgSq }, best };
}

/** The fields the loop reads from a position record have their types (a corrupt file is exit 2, not a crash). */
function checkPosition(position: unknown, optimizerStep: string | undefined, file: string): void {
  const count = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
  const object = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === "object" && !Array.isArray(v);
  const p = object(position) ? position : {};
  const checks: [string, boolean][] = [
    ["position", object(position)],
    ["position.settings", object(p.settings)],
    ["position.data", typeof p.data === "string"],
    ...(["epoch", "stepInEpoch", "globalStep", "epochsSinceBest"] as const).map((k): [string, boolean] => [
      `position.${k}`,
      count(p[k]),
    ]),
    ["position.partial", object(p.partial)],
    ["position.history", Array.isArray(p.history)],
    ["position.best", p.best === null || object(p.best)],
    ["position.numBatchesTracked", object(p.numBatchesTracked)],
    ["optimizer_step", count(Number(optimizerStep ?? ""))],
  ];
  const bad = checks.find(([, ok]) => !ok)?.[0] ?? null;
  if (bad !== null) {
    throw inputError(`the checkpoint's ${bad} record is missing or of the wrong type (the file is corrupt)`, {
      file,
      field: bad,
      hint: "delete it and train again without --resume",
    });
  }
}

/**
 * The settings that differ between a checkpoint and the current run, as "name: was → now" lines.
 *
 * @example
 * settingsMismatch(ckpt.position.settings, settings); // ["lr: 0.001 → 0.0001"]
 */
export function settingsMismatch(saved: CheckpointSettings, current: CheckpointSettings): string[] {
  const out: string[] = [];
  for (const key of Object.keys(current) as (keyof CheckpointSettings)[]) {
    if (saved[key] === current[key]) continue;
    out.push(
      key === "modelSetup"
        ? "the model config or the fitted preprocessing (normalisation statistics, length) differ"
        : `${key}: ${saved[key]} → ${current[key]}`,
    );
  }
  return out;
}
