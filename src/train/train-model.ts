import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { Dataset } from "../data/dataset.js";
import { fitPreprocess, type NormalizeMethod } from "../data/preprocess.js";
import {
  isDatasetPath,
  type LoadOptions,
  loadDataset,
  loadDatasetSplits,
  withLabelMap,
} from "../data/registry.js";
import { inputError } from "../errors.js";
import { makeConfig, type TSTConfig } from "../model/config.js";
import { saveOnnx } from "../model/export.js";
import { HookedTST } from "../model/hooked-tst.js";
import { fitToBudget, tstRowCost } from "../model/memory-cost.js";
import { saveModel } from "../model/model-dir.js";
import { prepareInputs } from "../model/prepare-inputs.js";
import type { Runtime } from "../runtime/session.js";
import { version } from "../version.js";
import type { TrainData } from "./batches.js";
import type { EpochRecord } from "./checkpoint.js";
import { type EvalResult, evaluate } from "./evaluate.js";
import { type TrainLoopOptions, type TrainLoopResult, trainLoop } from "./loop.js";

export interface TrainModelOptions extends Omit<TrainLoopOptions, "checkpointPath"> {
  /** Dataset name (searched on the data path, downloaded if needed) or a TRAIN file path. */
  dataset: string;
  /** Model directory to write (config.json, weights.safetensors, metrics.json, model.onnx). */
  out: string;
  /** Per-channel normalisation fitted on TRAIN (default "zscore"). */
  normalize?: NormalizeMethod;
  /** Model length; default the longest case of TRAIN and TEST (the positional table has this many rows). */
  seqLen?: number;
  /** Architecture overrides (defaults: the reference TST); channels, seqLen and classes come from the data. */
  architecture?: Partial<Omit<TSTConfig, "channels" | "seqLen" | "classes">>;
  /** Where to find datasets (as `loadDataset`). */
  data?: Omit<LoadOptions, "split" | "labelMap">;
  /** Also write `model.onnx` (default true). */
  exportOnnx?: boolean;
  runtime?: Runtime;
  /**
   * Peak memory in bytes to stay within (the CLI's `--memory-budget`): a batch whose
   * forward+backward does not fit is an input error before training starts, and ONNX Runtime's
   * arena is turned off when it would not fit. Default: no budget.
   */
  memoryBudget?: number;
  /** The budget is the default, not the user's: a batch that does not fit still trains. */
  memoryBudgetIsDefault?: boolean;
  /** Told, before training, when a batch will run in micro-batches of `rows` rows. */
  onMicroBatch?: (rows: number, batchSize: number) => void;
}

/** What `metrics.json` holds. */
export interface TrainMetrics {
  format: "tspatch-train-metrics";
  tspatch: string;
  dataset: string;
  seed: number;
  settings: {
    epochs: number;
    batchSize: number;
    lr: number;
    weightDecay: number;
    valFraction: number;
    patience: number;
    normalize: NormalizeMethod;
    optimizer: "RAdam (PyTorch 1.13 semantics)";
    loss: "cross-entropy";
  };
  config: TSTConfig;
  split: { train: number; validation: number; test: number | null };
  epochs: EpochRecord[];
  bestEpoch: number;
  stoppedEarly: boolean;
  steps: number;
  numBatchesTracked: number;
  /** Null when there is no TEST split. */
  test: Pick<EvalResult, "accuracy" | "n" | "correct" | "classes" | "confusion" | "perClass"> | null;
  wallSeconds: number;
  threads: number;
  resumedFrom: TrainLoopResult["resumedFrom"];
}

export interface TrainModelResult {
  dir: string;
  model: HookedTST;
  metrics: TrainMetrics;
  files: string[];
  /** Rows per runtime call of a training step (the batch size unless a budget or the caller split it). */
  microBatch: number;
}

/** The checkpoint file of a model directory being trained. */
export function checkpointPathOf(out: string): string {
  return join(out, "checkpoint.safetensors");
}

/**
 * Load a dataset, fit the preprocessing on TRAIN, initialise a TST (seeded), train it with
 * {@link trainLoop}, evaluate it on TEST and write the model directory. The checkpoint in the
 * directory is removed once the model is written.
 *
 * @example
 * const { metrics } = await trainModel({ dataset: "JapaneseVowels", out: "models/JapaneseVowels", seed: 0 });
 * metrics.test?.accuracy; // ≈ 0.98
 */
export async function trainModel(options: TrainModelOptions): Promise<TrainModelResult> {
  const cwd = options.data?.cwd ?? process.cwd();
  const prepared = await prepareTraining(options);
  const { data, train, test } = prepared;
  const batchSize = options.batchSize ?? 32;
  const fit =
    options.memoryBudget === undefined
      ? { model: prepared.model, rows: batchSize }
      : fitTrainingToBudget(
          prepared.model,
          batchSize,
          options.memoryBudget,
          options.memoryBudgetIsDefault ?? false,
        );
  const model = fit.model;
  // A forced --micro-batch wins over the budget's (tests and measurements use it).
  const microBatch = Math.min(options.microBatch ?? fit.rows, batchSize);
  if (microBatch < batchSize) options.onMicroBatch?.(microBatch, batchSize);
  const normalize = options.normalize ?? "zscore";
  const seed = options.seed ?? 0;
  const seqLen = model.config.seqLen;
  const out = resolve(cwd, options.out);
  const checkpointPath = checkpointPathOf(out);
  if (!options.resume && existsSync(checkpointPath)) rmSync(checkpointPath);
  const created = mkdirSync(out, { recursive: true });
  const result = await trainLoop(model, data, { ...options, seed, checkpointPath, microBatch }).catch(
    (error: unknown) => {
      // A run refused before its first checkpoint leaves no empty directory behind.
      if (created !== undefined && readdirSync(out).length === 0) rmSync(created, { recursive: true });
      throw error;
    },
  );
  const testResult = test === null ? null : await evaluate(model, test);
  const metrics: TrainMetrics = {
    format: "tspatch-train-metrics",
    tspatch: version,
    dataset: train.name,
    seed,
    settings: {
      epochs: options.epochs ?? 100,
      batchSize: options.batchSize ?? 32,
      lr: options.lr ?? 1e-3,
      weightDecay: options.weightDecay ?? 1e-4,
      valFraction: options.valFraction ?? 0.1,
      patience: options.patience ?? 20,
      normalize,
      optimizer: "RAdam (PyTorch 1.13 semantics)",
      loss: "cross-entropy",
    },
    config: model.config,
    split: { ...result.split, test: test?.cases ?? null },
    epochs: result.history,
    bestEpoch: result.bestEpoch,
    stoppedEarly: result.stoppedEarly,
    steps: result.steps,
    numBatchesTracked: result.numBatchesTracked,
    test:
      testResult === null
        ? null
        : {
            accuracy: testResult.accuracy,
            n: testResult.n,
            correct: testResult.correct,
            classes: testResult.classes,
            confusion: testResult.confusion,
            perClass: testResult.perClass,
          },
    wallSeconds: result.wallSeconds,
    threads: model.runtime.threads,
    resumedFrom: result.resumedFrom,
  };
  saveModel(model, out, { metrics });
  const files = ["config.json", "weights.safetensors", "metrics.json"];
  if (options.exportOnnx ?? true) {
    // The `mask` input only when some series are shorter than the model (unequal-length data).
    const unequal = [train, test].some((d) => d?.lengths.some((n) => n < seqLen));
    saveOnnx(model, join(out, "model.onnx"), { mask: unequal });
    files.push("model.onnx");
  }
  rmSync(checkpointPath, { force: true });
  return { dir: out, model, metrics, files, microBatch };
}

/**
 * The model on a runtime, and the rows per runtime call, that train within `budget` bytes (see
 * `fitToBudget`): a batch whose forward+backward does not fit is split into micro-batches
 * (exact, BatchNorm included: see micro-batch.ts), sized by the cost of the graph they run.
 * Only when not even one row fits is it an input error. A default budget (half the free
 * memory) only turns the arena off: micro-batches change the weights in the last bits, and a
 * seed must give the same bytes whatever memory happens to be free.
 */
function fitTrainingToBudget(
  model: HookedTST,
  batchSize: number,
  budget: number,
  isDefault: boolean,
): { model: HookedTST; rows: number } {
  const cost = tstRowCost(model.config, { mode: "train", batchNormStats: "fed" });
  const shorter = "train on series resampled to fewer steps";
  const fit = fitToBudget(model, cost, budget, batchSize, "--memory-budget", { shorter, strict: !isDefault });
  return { model: fit.model, rows: isDefault ? batchSize : fit.rows };
}

/** The freshly initialised model and its data, before training (what {@link trainModel} starts from). */
export interface PreparedTraining {
  model: HookedTST;
  data: TrainData;
  train: Dataset;
  /** TEST encoded with TRAIN's label map, or null when there is none. */
  test: Dataset | null;
}

/**
 * Load the dataset, fit the preprocessing on TRAIN, and initialise the (seeded) model whose
 * length covers the longest TRAIN and TEST case.
 *
 * @example
 * const { model, test } = await prepareTraining({ dataset: "LSST", out: "models/LSST", seed: 0 });
 */
export async function prepareTraining(
  options: Pick<
    TrainModelOptions,
    "dataset" | "normalize" | "seed" | "seqLen" | "architecture" | "data" | "runtime"
  >,
): Promise<PreparedTraining> {
  const cwd = options.data?.cwd ?? process.cwd();
  const { train, test } = await loadSplits(options.dataset, { ...options.data, cwd });
  const seed = options.seed ?? 0;
  checkTrainable(train);
  const spec = fitPreprocess(train, { normalize: options.normalize ?? "zscore" });
  const seqLen = options.seqLen ?? Math.max(spec.padLength, test?.maxLength ?? 0);
  if (seqLen < spec.padLength) {
    throw inputError(`seqLen ${seqLen} is shorter than the longest TRAIN case (${spec.padLength} steps)`, {
      field: "seqLen",
      hint: `use at least ${spec.padLength}`,
    });
  }
  const config = makeConfig({
    ...options.architecture,
    channels: train.channels,
    seqLen,
    classes: train.labelMap.outputs,
  });
  const model = HookedTST.fromConfig(
    config,
    seed,
    {
      preprocess: { ...spec, padLength: seqLen },
      labelMap: train.labelMap,
      provenance: { source: "tspatch train", dataset: train.name, seed },
    },
    options.runtime,
  );
  return { model, data: trainData(model, train), train, test };
}

/** Refuse, naming the file, TRAIN data no model can be trained on. */
function checkTrainable(train: Dataset): void {
  const where = train.file ?? train.name;
  if (train.labelMap.outputs < 1 || train.labelIndex.every((k) => k < 0)) {
    throw inputError("the TRAIN data has no class labels (@classLabel false, or no label column)", {
      file: where,
      hint: "training needs a labelled TRAIN split: declare @classLabel true <labels> and end each case with its label",
    });
  }
  if (train.cases < 2) {
    throw inputError(`need at least 2 training cases, got ${train.cases}`, {
      file: where,
      hint: "use a TRAIN file with more cases (at least 2 per class for a validation split, or --val-fraction 0)",
    });
  }
}

/** TRAIN as the loop consumes it: raw values padded to the model's length, mask, class indices. */
export function trainData(model: HookedTST, train: Dataset): TrainData {
  const { x, mask, labelIndex } = prepareInputs(model, train);
  const { seqLen, channels, classes } = model.config;
  return {
    x,
    valid: mask ?? new Uint8Array(train.cases * seqLen).fill(1),
    labels: labelIndex,
    cases: train.cases,
    seqLen,
    channels,
    classes,
  };
}

async function loadSplits(
  nameOrPath: string,
  options: Omit<LoadOptions, "split" | "labelMap"> & { cwd: string },
): Promise<{ train: Dataset; test: Dataset | null }> {
  if (!isDatasetPath(nameOrPath, options.cwd)) return loadDatasetSplits(nameOrPath, options);
  const train = await loadDataset(nameOrPath, options);
  // A TRAIN file's TEST sibling (X_TRAIN.ts → X_TEST.ts), when there is one.
  const file = resolve(options.cwd, nameOrPath);
  const sibling = join(dirname(file), basename(file).replace(/_TRAIN(\.[a-z]+)$/i, "_TEST$1"));
  if (sibling === file || !existsSync(sibling)) return { train, test: null };
  const test = await loadDataset(sibling, options);
  return { train, test: withLabelMap(test, train.labelMap) };
}
