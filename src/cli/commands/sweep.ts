import { existsSync, readFileSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { writeFileAtomic } from "../../atomic-write.js";
import { type LabelMap, labelToIndex } from "../../data/labels.js";
import { InterruptedError, inputError } from "../../errors.js";
import { buildPairs } from "../../patching/build-pairs.js";
import { effectsLongCsv } from "../../patching/effects-long.js";
import { forPatching } from "../../patching/inputs.js";
import { RECOVERY_EPSILON } from "../../patching/metrics.js";
import type { DirectionChoice } from "../../patching/pairs.js";
import { parsePairsFile } from "../../patching/pairs-file.js";
import { parseComponents, parseGroups } from "../../patching/presets.js";
import { sweep } from "../../patching/sweep.js";
import { PAIR_STRATEGIES, type PairStrategy } from "../../patching/types.js";
import { type CommandContext, printJson } from "../context.js";
import { MEMORY_BUDGET_OPTION, memoryBudget, patchedRunCost, planMemory } from "../memory-plan.js";
import { openModelAndData } from "../model-data.js";
import { progressBar } from "../progress.js";
import { parseHeadMode } from "./patch.js";

interface SweepFlags {
  model: string;
  data: string;
  split: "train" | "test";
  strategy: string;
  pairsFile?: string;
  pairsDataset?: string;
  direction: string;
  components: string;
  groups?: string;
  headMode: string;
  maxSources: string;
  maxTargetsPerClass?: string;
  classes?: string;
  seed: string;
  snr: string;
  recomputeMlps?: boolean;
  batchRows?: string;
  pairsPerBatch?: string;
  memoryBudget?: string;
  out: string;
  checkpoint?: string;
  dataDir?: string;
  offline?: boolean;
  quiet?: boolean;
  json?: boolean;
}

const DIRECTIONS = ["denoise", "noise", "both"];

/**
 * `tspatch sweep`: build pairs with a strategy (or read a pairs file), patch
 * every requested component for every pair, write the effects CSV (`effects-long` format)
 * atomically, and print a JSON summary.
 *
 * @example
 * await runCli(["sweep", "--model", "m.pth", "--data", "JapaneseVowels_eq_TEST.ts", "--out", "effects.csv"], memoryIO());
 */
export function register(program: Command, ctx: CommandContext): void {
  program
    .command("sweep")
    .description(
      "Patch every component of the chosen kinds for many pairs; writes an effects-long CSV (one line per pair × component)",
    )
    .requiredOption("--model <dir|file.pth>", "model directory or reference PyTorch checkpoint")
    .requiredOption("--data <file|name>", "data file (.ts/.arff) or dataset name")
    .option("--split <split>", "split when --data is a name (train|test)", "test")
    .option("--strategy <name>", `pair strategy: ${PAIR_STRATEGIES.join(", ")}`, "misclassified")
    .option(
      "--pairs-file <file.csv>",
      "CSV with columns source,target (row indices of the data file) instead of a strategy",
    )
    .option("--pairs-dataset <name>", "with a dataset column in the pairs file: use this dataset's rows")
    .option(
      "--direction <dir>",
      "denoise (correct → misclassified), noise (reverse) or both (never pooled)",
      "denoise",
    )
    .option(
      "--components <list>",
      "comma-separated: heads, layers, mlp, resid-pre, resid-mid, resid-post, head-pos, layer-pos, mlp-pos, resid-pos, path-q, path-k, path-v",
      "heads",
    )
    .option("--groups <groups>", 'head groups patched together, e.g. "0.1+0.5;2.3"')
    .option("--head-mode <mode>", "z (true per-head) or slice (the study's compatibility mode)", "z")
    .option("--max-sources <n>", "sources per target", "1")
    .option("--max-targets-per-class <n>", "targets per true class (default: all)")
    .option("--classes <labels>", "only these class labels (comma-separated)")
    .option("--seed <n>", "seed for sampling pairs and noise", "0")
    .option("--snr <dB>", "noised strategy: signal-to-noise ratio in dB", "10")
    .option(
      "--recompute-mlps",
      "path patching: let MLPs between sender and receiver recompute (default: frozen)",
    )
    .option(
      "--batch-rows <n>",
      "at most this many patched runs per runtime call (default 256, fewer when --memory-budget needs)",
    )
    .option("--pairs-per-batch <n>", "pairs per chunk (and checkpoint step)", "16")
    .option("--out <file.csv>", "effects CSV (written atomically)", "effects.csv")
    .option(
      "--checkpoint <file>",
      "checkpoint of finished pairs (default <out>.checkpoint; resumed when present)",
    )
    .option("--data-dir <dir>", "search this directory for datasets first")
    .option("--offline", "never download datasets")
    .option("--quiet", "no progress bar")
    .option("--json", "print the summary as JSON (it is JSON with or without this flag)")
    .option(...MEMORY_BUDGET_OPTION)
    .action(async (flags: SweepFlags) => {
      const started = performance.now();
      const budget = memoryBudget(flags.memoryBudget);
      const batchRowsCap = parseInteger(flags.batchRows ?? "256", "--batch-rows", 1);
      const pairsPerBatch = parseInteger(flags.pairsPerBatch ?? "16", "--pairs-per-batch", 1);
      const headMode = parseHeadMode(flags.headMode);
      const strategy = parseChoice(flags.strategy, PAIR_STRATEGIES, "--strategy") as Exclude<
        PairStrategy,
        "file"
      >;
      const direction = parseChoice(flags.direction, DIRECTIONS, "--direction") as DirectionChoice;
      const seed = parseInteger(flags.seed, "--seed", 0);
      const snrDb = Number(flags.snr);
      if (!Number.isFinite(snrDb))
        throw inputError(`--snr must be a number of dB, got "${flags.snr}"`, { field: "--snr" });
      const opened = await openModelAndData(ctx, { ...flags, quiet: false });
      const inputs = forPatching(opened.inputs);
      const plan = planMemory(
        opened.model,
        patchedRunCost(opened.model, opened.inputs.mask !== null),
        budget,
        batchRowsCap,
      );
      const model = plan.model;
      if (plan.binds && !flags.quiet) ctx.io.stderr(`tspatch: ${plan.note}\n`);
      const components = [
        ...(flags.components.trim() === "" && flags.groups
          ? []
          : parseComponents(model.config, flags.components, headMode)),
        ...(flags.groups ? parseGroups(model.config, flags.groups, headMode) : []),
      ];
      const classes = flags.classes?.split(",").map((l) => labelToIndex(requireLabels(inputs), l.trim()));
      const list = flags.pairsFile
        ? parsePairsFile(
            readFileSync(resolve(ctx.io.cwd, flags.pairsFile), "utf8"),
            flags.pairsFile,
            inputs.rows,
            {
              dataset: flags.pairsDataset ?? inputs.dataset.file ?? inputs.dataset.name,
            },
          )
        : undefined;
      const built = await buildPairs(model, inputs, {
        strategy,
        direction,
        seed,
        snrDb,
        classes,
        list,
        maxSourcesPerTarget: parseInteger(flags.maxSources, "--max-sources", 1),
        maxTargetsPerClass:
          flags.maxTargetsPerClass === undefined
            ? undefined
            : parseInteger(flags.maxTargetsPerClass, "--max-targets-per-class", 1),
      });
      const recoveryBasis = built.pairs.strategy === "cross-class" ? "logit_diff" : "p_true";
      const out = resolve(ctx.io.cwd, flags.out);
      const checkpoint = resolve(ctx.io.cwd, flags.checkpoint ?? `${flags.out}.checkpoint`);
      if (existsSync(checkpoint)) ctx.io.stderr(`tspatch: resuming from ${checkpoint}\n`);
      const bar = progressBar(ctx.io, "sweep", { unit: "pairs", quiet: flags.quiet });
      const result = await sweep(model, built.inputs, built.pairs.pairs, {
        signal: ctx.signal,
        components,
        recoveryBasis,
        batchRows: plan.rows,
        pairsPerBatch,
        freezeMlps: !flags.recomputeMlps,
        checkpoint,
        fingerprint: JSON.stringify([
          resolve(ctx.io.cwd, flags.model),
          inputs.dataset.file ?? flags.data,
          seed,
          snrDb,
        ]),
        onProgress: bar,
      }).catch((error: unknown) => {
        bar.finish();
        if (error instanceof InterruptedError) {
          throw new InterruptedError(
            `sweep interrupted; finished pairs are saved in ${checkpoint}: rerun the same command to resume`,
          );
        }
        throw error;
      });
      bar.finish();
      writeFileAtomic(out, effectsLongCsv(result.rows, inputs.labelMap));
      rmSync(checkpoint, { force: true });
      const seconds = (performance.now() - started) / 1000;
      const pairs = built.pairs.pairs;
      printJson(ctx, {
        out,
        rows: result.rows.length,
        strategy: built.pairs.strategy,
        direction,
        pairs: pairs.length,
        pairs_by_direction: {
          denoise: pairs.filter((p) => p.direction === "denoise").length,
          noise: pairs.filter((p) => p.direction === "noise").length,
        },
        pair_counts: built.pairs.counts,
        components: flags.components,
        groups: flags.groups ?? null,
        head_mode: headMode,
        recovery_basis: recoveryBasis,
        recovery_undefined: result.undefinedRecovery,
        recovery_note:
          result.undefinedRecovery > 0
            ? `${result.undefinedRecovery} rows have an empty recovery cell: |M_source - M_target| < ${RECOVERY_EPSILON} (the pair has nothing to recover)`
            : null,
        path_mlps: components.some((c) => c.kind === "path")
          ? flags.recomputeMlps
            ? "recomputed"
            : "frozen"
          : null,
        resumed_pairs: result.resumedPairs,
        seed,
        snr_db: strategy === "noised" && list === undefined ? snrDb : null,
        seconds: Number(seconds.toFixed(3)),
        pairs_per_second: Number(((pairs.length - result.resumedPairs) / seconds).toFixed(3)),
        note: "denoise and noise rows answer different questions; analyse them separately (column direction)",
      });
    });
}

/** The label map `--classes` is read with; data without labels has no classes to name. */
function requireLabels(inputs: { labelMap: LabelMap | null; dataset: { file?: string } }): LabelMap {
  if (inputs.labelMap === null) {
    throw inputError("--classes names class labels, but neither the model nor the data has any", {
      file: inputs.dataset.file,
      field: "--classes",
      hint: "leave out --classes, or use labelled data",
    });
  }
  return inputs.labelMap;
}

function parseChoice(value: string, choices: readonly string[], field: string): string {
  if (!choices.includes(value)) {
    throw inputError(`unknown value "${value}"`, { field, hint: `use one of: ${choices.join(", ")}` });
  }
  return value;
}

function parseInteger(value: string, field: string, min: number): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || n < min) {
    throw inputError(`${field} must be an integer ≥ ${min}, got "${value}"`, { field });
  }
  return n;
}
