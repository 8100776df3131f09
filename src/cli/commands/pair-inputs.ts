import { resolve } from "node:path";
import type { Command } from "commander";
import { readTextFile } from "../../fs-error.js";
import type { HookedTST } from "../../model/hooked-tst.js";
import { GRADIENT_ROWS_CAP } from "../../model/memory-cost.js";
import { buildPairs } from "../../patching/build-pairs.js";
import { forPatching, type ModelInputs } from "../../patching/inputs.js";
import type { DirectionChoice, PairSet } from "../../patching/pairs.js";
import { parsePairsFile } from "../../patching/pairs-file.js";
import type { CommandContext } from "../context.js";
import { parseChoice, parseInteger } from "../flags.js";
import { MEMORY_BUDGET_OPTION, memoryBudget, patchedRunCost, planMemory } from "../memory-plan.js";
import { openModelAndData } from "../model-data.js";

/** Flags shared by commands that analyse a model on pairs (stability, baselines). */
export interface PairInputFlags {
  model: string;
  data: string;
  split: "train" | "test";
  strategy: string;
  pairsFile?: string;
  pairsDataset?: string;
  direction: string;
  seed: string;
  dataDir?: string;
  offline?: boolean;
  memoryBudget?: string;
}

const STRATEGIES = ["misclassified", "cross-class"];
const DIRECTIONS = ["denoise", "noise", "both"];

/** Add the model, data and pair flags. */
export function pairInputOptions(command: Command): Command {
  return command
    .requiredOption("--model <dir|file.pth>", "model directory or reference PyTorch checkpoint")
    .requiredOption("--data <file|name>", "data file (.ts/.arff) or dataset name")
    .option("--split <split>", "split when --data is a name (train|test)", "test")
    .option("--strategy <name>", `pair strategy: ${STRATEGIES.join(", ")}`, "misclassified")
    .option("--pairs-file <file.csv>", "CSV with columns source,target (row indices) instead of a strategy")
    .option("--pairs-dataset <name>", "with a dataset column in the pairs file: use this dataset's rows")
    .option("--direction <dir>", "denoise, noise or both (never pooled)", "both")
    .option("--seed <n>", "seed of every random step", "0")
    .option("--data-dir <dir>", "search this directory for datasets first")
    .option("--offline", "never download datasets")
    .option(...MEMORY_BUDGET_OPTION);
}

/**
 * Open the model and data and build the pairs the flags ask for. `model` runs within the memory
 * budget with `batchRows` forward rows and `gradientRows` backward rows per runtime call.
 */
export async function openPairInputs(
  flags: PairInputFlags,
  ctx: CommandContext,
): Promise<{
  model: HookedTST;
  inputs: ModelInputs;
  pairs: PairSet;
  seed: number;
  direction: DirectionChoice;
  batchRows: number;
  /** Rows per call of the backward graphs (builds a training graph for its cost: call when needed). */
  gradientRows: () => number;
}> {
  const budget = memoryBudget(flags.memoryBudget);
  const strategy = parseChoice(flags.strategy, STRATEGIES, "--strategy") as "misclassified" | "cross-class";
  const direction = parseChoice(flags.direction, DIRECTIONS, "--direction") as DirectionChoice;
  const seed = parseInteger(flags.seed, "--seed", 0);
  const opened = await openModelAndData(ctx, flags);
  const { model } = opened;
  const inputs = forPatching(opened.inputs);
  const list = readPairsList(flags, inputs, ctx);
  const built = await buildPairs(model, inputs, {
    strategy,
    direction: strategy === "cross-class" ? "denoise" : direction,
    seed,
    list,
  });
  const masked = built.inputs.mask !== null;
  const plan = planMemory(model, patchedRunCost(model, masked), budget, 256);
  if (plan.binds && budget.strict) ctx.io.stderr(`tspatch: ${plan.note}\n`);
  return {
    model: plan.model,
    inputs: built.inputs,
    pairs: built.pairs,
    seed,
    direction,
    batchRows: plan.rows,
    gradientRows: () => plan.gradientRows(masked, GRADIENT_ROWS_CAP),
  };
}

/** The `--pairs-file` rows (of `--pairs-dataset`, else of this data file), or undefined without the flag. */
export function readPairsList(
  flags: { pairsFile?: string; pairsDataset?: string; data: string },
  inputs: ModelInputs,
  ctx: CommandContext,
): { source: number; target: number }[] | undefined {
  if (!flags.pairsFile) return undefined;
  return parsePairsFile(
    readTextFile(resolve(ctx.io.cwd, flags.pairsFile), flags.pairsFile),
    flags.pairsFile,
    inputs.rows,
    {
      dataset: flags.pairsDataset ?? inputs.dataset.file ?? inputs.dataset.name,
    },
  );
}

/** `0.123 [0.05, 0.2]` */
export function withInterval(
  e: { estimate: number; ci: { low: number; high: number } } | null | undefined,
): string {
  if (e === null || e === undefined || !Number.isFinite(e.estimate)) return "-";
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : "-");
  return `${f(e.estimate)} [${f(e.ci.low)}, ${f(e.ci.high)}]`;
}
