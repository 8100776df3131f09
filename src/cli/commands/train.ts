import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, join, resolve } from "node:path";
import type { Command } from "commander";
import { NORMALIZE_METHODS, type NormalizeMethod } from "../../data/preprocess.js";
import { isDatasetPath } from "../../data/registry.js";
import { inputError } from "../../errors.js";
import { Runtime } from "../../runtime/session.js";
import type { EpochRecord } from "../../train/checkpoint.js";
import { checkpointPathOf, type TrainModelResult, trainModel } from "../../train/train-model.js";
import {
  type ArchitectureFlags,
  addArchitectureOptions,
  architectureError,
  parseArchitectureFlags,
} from "../architecture-flags.js";
import { checkOutputs } from "../check-outputs.js";
import type { CommandContext } from "../context.js";
import { checkDataDir } from "../data-dir-flag.js";
import { MEMORY_BUDGET_OPTION, memoryBudget } from "../memory-plan.js";
import { parseNumericFlag } from "../numeric-flag.js";
import { formatSeconds, progressBar } from "../progress.js";

/** Bounds that only catch typing errors: a larger value would run for days or exhaust memory. */
const MAX_EPOCHS = 1_000_000;
const MAX_BATCH_SIZE = 1 << 20;

interface TrainFlags extends ArchitectureFlags {
  data?: string;
  /** The older name of --data. */
  dataset?: string;
  out?: string;
  epochs: string;
  batchSize: string;
  lr: string;
  weightDecay: string;
  valFraction: string;
  patience: string;
  seed?: string;
  seeds?: string;
  normalize: string;
  threads?: string;
  memoryBudget?: string;
  microBatch?: string;
  dataDir?: string;
  offline?: boolean;
  resume?: boolean;
  json?: boolean;
  quiet?: boolean;
}

/**
 * `tspatch train`: train a TST on a dataset (RAdam, early stopping on a stratified validation
 * split), evaluate it on TEST and write a model directory; `--seeds` trains one model per seed.
 *
 * @example
 * await runCli(["train", "--data", "JapaneseVowels", "--seeds", "0,1,2", "--json"], memoryIO());
 */
export function register(program: Command, ctx: CommandContext): void {
  const command = program
    .command("train")
    .description(
      "Train a Time Series Transformer on a dataset and write a model directory (config.json, weights.safetensors, metrics.json, model.onnx)",
    )
    .option("--data <name|path>", "dataset name (e.g. JapaneseVowels) or a *_TRAIN.ts file")
    .option("--dataset <name|path>", "the same as --data (its older name)")
    .option("--out <dir>", "model directory (default models/<dataset>)")
    .option("--epochs <n>", "maximum epochs", "100")
    .option("--batch-size <n>", "cases per step", "32")
    .option("--lr <x>", "RAdam learning rate", "1e-3")
    .option("--weight-decay <x>", "L2 weight decay (added to the gradient, as PyTorch's RAdam)", "1e-4")
    .option(
      "--val-fraction <x>",
      "share of each class held out for early stopping; 0 = train on all of TRAIN",
      "0.1",
    )
    .option("--patience <n>", "stop after this many epochs without a lower validation loss", "20")
    .option("--seed <n>", "seed of the weights, split, shuffling and dropout (default 0)")
    .option("--seeds <list>", "train one model per seed into <out>/seed-<k>, e.g. 0,1,2")
    .option(
      "--normalize <method>",
      `per-channel normalisation fitted on TRAIN: ${NORMALIZE_METHODS.join("|")}`,
      "zscore",
    )
    .option("--threads <n>", "ONNX Runtime threads (default: all cores; same seed + threads = same weights)")
    .option("--data-dir <dir>", "search this directory for datasets first")
    .option("--offline", "never download datasets (also TSPATCH_OFFLINE=1)")
    .option("--resume", "continue an interrupted run from <out>/checkpoint.safetensors")
    .option("--json", "print one JSON object per line (epochs and results) on stdout")
    .option("--quiet", "no progress output")
    .option(...MEMORY_BUDGET_OPTION)
    .option(
      "--micro-batch <n>",
      "rows per runtime call of a training step (default: what --memory-budget holds); the same weights up to float32 rounding",
    );
  addArchitectureOptions(command).action(async (flags: TrainFlags) => {
    const settings = parseFlags(flags, ctx.io.cwd);
    checkDataDir(flags.dataDir, ctx.io.cwd);
    const outs = settings.seeds.map((seed) => outDir(settings, flags, seed));
    checkOutputs({
      outputs: outs.map((path) => ({ path, flag: "--out", kind: "directory" })),
      inputs: isDatasetPath(settings.data, ctx.io.cwd)
        ? [{ path: resolve(ctx.io.cwd, settings.data), flag: "--data" }]
        : [],
    });
    const runtime = new Runtime(settings.threads === undefined ? {} : { threads: settings.threads });
    try {
      for (const [k, seed] of settings.seeds.entries()) {
        await trainOneSeed(ctx, flags, settings, seed, outs[k], runtime);
      }
    } finally {
      await runtime.release();
    }
  });
}

type Settings = ReturnType<typeof parseFlags>;

/** `--out`, or `<out>/seed-<k>` with `--seeds`. */
function outDir(settings: Settings, flags: TrainFlags, seed: number): string {
  return settings.seeds.length > 1 || flags.seeds !== undefined
    ? join(settings.out, `seed-${seed}`)
    : settings.out;
}

async function trainOneSeed(
  ctx: CommandContext,
  flags: TrainFlags,
  settings: Settings,
  seed: number,
  out: string,
  runtime: Runtime,
): Promise<void> {
  const { io } = ctx;
  const quiet = flags.quiet ?? false;
  const note = (text: string) => {
    if (!quiet) io.stderr(`${text}\n`);
  };
  let resume = false;
  if (flags.resume) {
    if (existsSync(checkpointPathOf(out))) resume = true;
    else if (existsSync(join(out, "metrics.json"))) {
      note(`seed ${seed}: ${out} is already trained; nothing to resume`);
      if (flags.json)
        io.stdout(`${JSON.stringify({ event: "skipped", seed, dir: out, reason: "already trained" })}\n`);
      return;
    } else note(`seed ${seed}: no checkpoint in ${out}; starting from the beginning`);
  }
  const label = (epoch: number, epochs: number) => `seed ${seed} epoch ${epoch}/${epochs}`;
  let epochIndex = 0;
  let bar = progressBar(io, label(1, settings.epochs), { unit: "steps", quiet });
  const epochSeconds: number[] = [];
  // A combination that only fails against the data (a patch longer than the series) names its flag too.
  const result: TrainModelResult = await architectureError(() =>
    trainModel({
      architecture: settings.architecture,
      dataset: settings.data,
      out,
      epochs: settings.epochs,
      batchSize: settings.batchSize,
      lr: settings.lr,
      weightDecay: settings.weightDecay,
      valFraction: settings.valFraction,
      patience: settings.patience,
      seed,
      normalize: settings.normalize,
      resume,
      runtime,
      memoryBudget: settings.memoryBudget.bytes,
      memoryBudgetIsDefault: !settings.memoryBudget.strict,
      microBatch: settings.microBatch,
      onMicroBatch: (rows, batchSize) =>
        note(
          `seed ${seed}: batches of ${batchSize} run in micro-batches of ${rows} rows (the same weights up to float32 rounding, at one more pass over the batch per BatchNorm layer)`,
        ),
      signal: ctx.signal,
      data: { dataDir: flags.dataDir, env: io.env, cwd: io.cwd, download: flags.offline ? false : undefined },
      onProgress: (done, total, detail) => bar(done, total, detail),
      onEpoch: (record: EpochRecord, epochs: number) => {
        bar.finish();
        epochSeconds.push(record.seconds);
        epochIndex = record.epoch;
        const mean = epochSeconds.reduce((a, b) => a + b, 0) / epochSeconds.length;
        if (flags.json) io.stdout(`${JSON.stringify({ event: "epoch", seed, epochs, ...record })}\n`);
        else
          note(
            `${label(record.epoch, epochs)}  ${describeEpoch(record)}  ETA ≤ ${formatSeconds(mean * (epochs - record.epoch))}`,
          );
        bar = progressBar(io, label(epochIndex + 1, epochs), { unit: "steps", quiet });
      },
    }),
  );
  bar.finish();
  const m = result.metrics;
  if (flags.json) {
    io.stdout(
      `${JSON.stringify({
        event: "done",
        seed,
        dir: result.dir,
        files: result.files,
        testAccuracy: m.test?.accuracy ?? null,
        bestEpoch: m.bestEpoch,
        epochsRun: m.epochs.length,
        stoppedEarly: m.stoppedEarly,
        wallSeconds: m.wallSeconds,
      })}\n`,
    );
  } else {
    const test =
      m.test === null
        ? "no TEST split"
        : `test accuracy ${m.test.accuracy.toFixed(4)} (${m.test.correct}/${m.test.n})`;
    const stop = m.stoppedEarly ? `early stop after ${m.epochs.length} epochs` : `${m.epochs.length} epochs`;
    io.stdout(
      `seed ${seed}: ${test}; best epoch ${m.bestEpoch} (${stop}), ${formatSeconds(m.wallSeconds)}\n  wrote ${result.dir}/{${result.files.join(",")}}\n`,
    );
  }
}

function describeEpoch(r: EpochRecord): string {
  const train = `loss ${r.trainLoss.toFixed(4)} acc ${r.trainAccuracy.toFixed(3)}`;
  const val =
    r.valLoss === null ? "" : `  val loss ${r.valLoss.toFixed(4)} acc ${(r.valAccuracy ?? 0).toFixed(3)}`;
  return `${train}${val}  ${r.seconds.toFixed(1)}s`;
}

function parseFlags(flags: TrainFlags, cwd: string) {
  const int = (field: string, text: string, min: number, max?: number, hint?: string) =>
    parseNumericFlag(text, { flag: `--${field}`, integer: true, min, max, hint });
  const real = (field: string, text: string, range: { min?: number; above?: number; below?: number }) =>
    parseNumericFlag(text, { flag: `--${field}`, ...range });
  if (flags.data !== undefined && flags.dataset !== undefined && flags.data !== flags.dataset) {
    throw inputError("--data and --dataset name the same thing; give one", { field: "--data" });
  }
  const data = flags.data ?? flags.dataset;
  if (data === undefined) {
    throw inputError("which data to train on?", {
      field: "--data",
      hint: "pass --data <name|path>, e.g. --data JapaneseVowels or --data path/to/X_TRAIN.ts",
    });
  }
  if (flags.seed !== undefined && flags.seeds !== undefined) {
    throw inputError("give either --seed or --seeds, not both", { field: "--seeds" });
  }
  const seeds =
    flags.seeds !== undefined
      ? flags.seeds.split(",").map((s) => int("seeds", s.trim(), 0))
      : [int("seed", flags.seed ?? "0", 0)];
  if (new Set(seeds).size !== seeds.length) {
    throw inputError(`--seeds lists a seed twice: ${flags.seeds}`, { field: "--seeds" });
  }
  if (!NORMALIZE_METHODS.includes(flags.normalize as NormalizeMethod)) {
    throw inputError(`unknown --normalize "${flags.normalize}"`, {
      field: "--normalize",
      hint: `use one of ${NORMALIZE_METHODS.join(", ")}`,
    });
  }
  const cores = availableParallelism();
  return {
    architecture: parseArchitectureFlags(flags),
    data,
    out: resolve(cwd, flags.out ?? join("models", defaultName(data, cwd))),
    epochs: int("epochs", flags.epochs, 1, MAX_EPOCHS),
    batchSize: int("batch-size", flags.batchSize, 1, MAX_BATCH_SIZE),
    lr: real("lr", flags.lr, { above: 0, below: 1e3 }),
    weightDecay: real("weight-decay", flags.weightDecay, { min: 0, below: 1e3 }),
    valFraction: real("val-fraction", flags.valFraction, { min: 0, below: 1 }),
    patience: int("patience", flags.patience, 1, MAX_EPOCHS),
    seeds,
    normalize: flags.normalize as NormalizeMethod,
    // More threads than cores only adds contention (10000 threads run for minutes before the first step).
    threads:
      flags.threads === undefined
        ? undefined
        : int(
            "threads",
            flags.threads,
            1,
            cores,
            `this machine has ${cores} cores; omit --threads to use them all`,
          ),
    memoryBudget: memoryBudget(flags.memoryBudget),
    microBatch:
      flags.microBatch === undefined ? undefined : int("micro-batch", flags.microBatch, 1, MAX_BATCH_SIZE),
  };
}

/** models/<name>: the dataset name, or a file's name without `_TRAIN.ts`. */
function defaultName(dataset: string, cwd: string): string {
  if (!isDatasetPath(dataset, cwd)) return dataset;
  return basename(dataset).replace(/(_TRAIN)?\.[a-z]+$/i, "");
}
