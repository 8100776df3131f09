import { existsSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { writeFileAtomic } from "../../atomic-write.js";
import { type LabelMap, labelToIndex } from "../../data/labels.js";
import { type Finding, formatFinding } from "../../diagnostics/finding.js";
import { patchSanity } from "../../diagnostics/patch-sanity.js";
import { sweepFindings } from "../../diagnostics/sweep-findings.js";
import { InterruptedError, inputError } from "../../errors.js";
import { checkAlignment } from "../../patching/align.js";
import { buildPairs } from "../../patching/build-pairs.js";
import { datasetDigest, modelDigest } from "../../patching/content-digest.js";
import { effectsLongCsv } from "../../patching/effects-long.js";
import { forPatching } from "../../patching/inputs.js";
import { RECOVERY_EPSILON } from "../../patching/metrics.js";
import type { DirectionChoice } from "../../patching/pairs.js";
import { parseComponents, parseGroups } from "../../patching/presets.js";
import { prepareSweepSideBySide, sideBySideCheckpoints } from "../../patching/side-by-side.js";
import { cacheHooksFor, type SweepResult } from "../../patching/sweep.js";
import { PAIR_STRATEGIES, type PairStrategy } from "../../patching/types.js";
import { quantileSorted } from "../../stats/descriptives.js";
import { checkOutputs, modelFiles } from "../check-outputs.js";
import { type CommandContext, printJson } from "../context.js";
import { checkDataDir } from "../data-dir-flag.js";
import { parseChoice } from "../flags.js";
import { MEMORY_BUDGET_OPTION, memoryBudget, patchedRunCost, planMemory } from "../memory-plan.js";
import { openModelAndData } from "../model-data.js";
import { parseNumericFlag } from "../numeric-flag.js";
import { phaseClock } from "../phase-clock.js";
import { progressBar } from "../progress.js";
import { readPairsList } from "./pair-inputs.js";
import { ALIGN_HELP, parseHeadMode } from "./patch.js";

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
  align: string;
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
/** Larger runtime batches only cost memory (every run holds a full activation set). */
const MAX_BATCH_ROWS = 65536;
const MAX_PAIRS_PER_BATCH = 65536;
/** Pairs per chunk unless --pairs-per-batch or the memory budget says fewer. */
const DEFAULT_PAIRS_PER_BATCH = 16;

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
    .option("--align <how>", ALIGN_HELP, "overlap")
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
    .option(
      "--pairs-per-batch <n>",
      "pairs per chunk (and checkpoint step; default 16, fewer when --memory-budget needs)",
    )
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
      const headMode = parseHeadMode(flags.headMode);
      const align = checkAlignment(flags.align, "--align");
      checkDataDir(flags.dataDir, ctx.io.cwd);
      const strategy = parseChoice(flags.strategy, PAIR_STRATEGIES, "--strategy") as Exclude<
        PairStrategy,
        "file"
      >;
      const direction = parseChoice(flags.direction, DIRECTIONS, "--direction") as DirectionChoice;
      const seed = parseNumericFlag(flags.seed, { flag: "--seed", integer: true, min: 0 });
      // Beyond ±100 dB the noise (or the signal) underflows float32 relative to the other.
      const snrDb = parseNumericFlag(flags.snr, {
        flag: "--snr",
        min: -100,
        max: 100,
        hint: "a signal-to-noise ratio in dB, e.g. --snr 10 (or 0, or -10 for more noise)",
      });
      const maxSources = parseNumericFlag(flags.maxSources, { flag: "--max-sources", integer: true, min: 1 });
      const maxTargetsPerClass =
        flags.maxTargetsPerClass === undefined
          ? undefined
          : parseNumericFlag(flags.maxTargetsPerClass, {
              flag: "--max-targets-per-class",
              integer: true,
              min: 1,
            });
      const batchRowsCap = parseNumericFlag(flags.batchRows ?? "256", {
        flag: "--batch-rows",
        integer: true,
        min: 1,
        max: MAX_BATCH_ROWS,
      });
      const pairsPerBatchFlag =
        flags.pairsPerBatch === undefined
          ? undefined
          : parseNumericFlag(flags.pairsPerBatch, {
              flag: "--pairs-per-batch",
              integer: true,
              min: 1,
              max: MAX_PAIRS_PER_BATCH,
            });
      const out = resolve(ctx.io.cwd, flags.out);
      const checkpoint = resolve(ctx.io.cwd, flags.checkpoint ?? `${flags.out}.checkpoint`);
      const phases = phaseClock(started);
      const opened = await openModelAndData(ctx, { ...flags, quiet: false });
      phases.mark("open");
      const inputs = forPatching(opened.inputs);
      const modelPath = resolve(ctx.io.cwd, flags.model);
      checkOutputs({
        outputs: [
          { path: out, flag: "--out", kind: "file" },
          { path: checkpoint, flag: "--checkpoint", kind: "file" },
        ],
        inputs: [
          ...modelFiles(modelPath).map((path) => ({ path, flag: "--model" })),
          ...(inputs.dataset.file === undefined
            ? []
            : [{ path: resolve(ctx.io.cwd, inputs.dataset.file), flag: "--data" }]),
          ...(flags.pairsFile === undefined
            ? []
            : [{ path: resolve(ctx.io.cwd, flags.pairsFile), flag: "--pairs-file" }]),
        ],
      });
      const plan = planMemory(
        opened.model,
        patchedRunCost(opened.model, opened.inputs.mask !== null),
        budget,
        batchRowsCap,
      );
      const model = plan.model;
      const components = [
        ...(flags.components.trim() === "" && flags.groups
          ? []
          : parseComponents(model.config, flags.components, headMode)),
        ...(flags.groups ? parseGroups(model.config, flags.groups, headMode) : []),
      ];
      const cacheHooks = cacheHooksFor(model, components);
      // Each pair of a chunk keeps its two inputs' cached activations until the chunk is done.
      const pairsPerBatch = pairsPerBatchFlag ?? plan.pairsPerChunk(cacheHooks, DEFAULT_PAIRS_PER_BATCH);
      if ((plan.binds || pairsPerBatch < DEFAULT_PAIRS_PER_BATCH) && !flags.quiet) {
        ctx.io.stderr(`tspatch: ${plan.note}, ${pairsPerBatch} pairs per chunk\n`);
      }
      const classes = flags.classes?.split(",").map((l) => labelToIndex(requireLabels(inputs), l.trim()));
      const list = readPairsList(flags, inputs, ctx);
      const built = await buildPairs(model, inputs, {
        strategy,
        direction,
        seed,
        snrDb,
        classes,
        list,
        maxSourcesPerTarget: maxSources,
        maxTargetsPerClass,
        cacheHooks,
      });
      phases.mark("pairs");
      const recoveryBasis = built.pairs.strategy === "cross-class" ? "logit_diff" : "p_true";
      const checkpoints = sideBySideCheckpoints(checkpoint);
      if (checkpoints.some((file) => existsSync(file)))
        ctx.io.stderr(`tspatch: resuming from ${checkpoint}\n`);
      // The bar starts with the sweep, after the sanity checks (their findings print first).
      let bar: ReturnType<typeof progressBar> | undefined;
      // Two halves on two threads (side-by-side.ts); the second half's worker starts loading now,
      // while the sanity checks run.
      const prepared = prepareSweepSideBySide(
        model,
        built.inputs,
        built.pairs.pairs,
        {
          signal: ctx.signal,
          components,
          recoveryBasis,
          batchRows: plan.rows,
          pairsPerBatch,
          freezeMlps: !flags.recomputeMlps,
          align,
          checkpoint,
          // By content, not path: files swapped behind a path between interrupt and resume are refused.
          fingerprint: JSON.stringify([modelDigest(model), datasetDigest(inputs.dataset), seed, snrDb]),
          onProgress: (done, total) => bar?.(done, total),
        },
        // Side by side only when the budget holds both halves' calls at once.
        { threads: plan.halvesFit ? undefined : 1 },
      );
      // A few seconds on 3 pairs; not interruptible, so Ctrl-C always lands in the checkpointed sweep.
      const sanity = await patchSanity(model, built.inputs, built.pairs.pairs, components, {
        lengths: built.inputs.lengths,
        batchRows: plan.rows,
      }).catch(async (error: unknown) => {
        await prepared.cancel();
        throw error;
      });
      phases.mark("sanity");
      if (reportFindings(ctx, sanity)) {
        await prepared.cancel();
        return;
      }
      bar = progressBar(ctx.io, "sweep", { unit: "pairs", quiet: flags.quiet });
      const result = await prepared.run().catch((error: unknown) => {
        bar?.finish();
        if (error instanceof InterruptedError) {
          throw new InterruptedError(
            `sweep interrupted; finished pairs are saved in ${checkpoint}: rerun the same command to resume`,
          );
        }
        throw error;
      });
      bar?.finish();
      phases.mark("sweep");
      if (result.grouping.pairsPerBatch !== pairsPerBatch || result.grouping.batchRows !== plan.rows) {
        ctx.io.stderr(
          `tspatch: resumed with the checkpoint's grouping (--pairs-per-batch ${result.grouping.pairsPerBatch} --batch-rows ${result.grouping.batchRows}), so the results match an uninterrupted run\n`,
        );
      }
      writeFileAtomic(out, effectsLongCsv(result.rows, inputs.labelMap));
      for (const file of checkpoints) rmSync(file, { force: true });
      phases.mark("write");
      const seconds = (performance.now() - started) / 1000;
      const pairs = built.pairs.pairs;
      const diagnostics = [
        ...sanity,
        ...sweepFindings(result, built.pairs, model.config.classes, built.inputs.trueClass),
      ];
      reportFindings(ctx, diagnostics.slice(sanity.length));
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
        ...alignmentSummary(result, components.length),
        recovery_basis: recoveryBasis,
        recovery_undefined: result.undefinedRecovery,
        recovery_note:
          result.undefinedRecovery > 0
            ? `${result.undefinedRecovery} rows have an empty recovery cell: |M_source - M_target| < ${RECOVERY_EPSILON} (the pair has nothing to recover) or a non-finite metric`
            : null,
        rows_non_finite: result.nonFiniteRows,
        non_finite_note:
          result.nonFiniteRows > 0
            ? `${result.nonFiniteRows} rows have empty metric cells: the model's logits were not finite for them`
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
        phase_seconds: phases.seconds(),
        phase_cpu_seconds: phases.cpuSeconds(),
        pairs_per_second: Number(((pairs.length - result.resumedPairs) / seconds).toFixed(3)),
        note: "denoise and noise rows answer different questions; analyse them separately (column direction)",
        diagnostics,
      });
    });
}

/**
 * The alignment part of the sweep summary: the pairs' overlap (share of the target's real steps
 * that are real in the source) as min / quartiles (numpy's linear quantile) / max, how many pairs
 * and rows overlap only partly, and the rows by status (not_applicable rows have empty metric cells
 * and stay out of statistics; no_overlap rows have effect 0).
 */
function alignmentSummary(result: SweepResult, perPair: number): Record<string, unknown> {
  const pairs = result.rows.filter((_, i) => perPair > 0 && i % perPair === 0).map((r) => r.overlap);
  const sorted = Float64Array.from(pairs).sort();
  const q = (p: number) => (sorted.length === 0 ? null : quantileSorted(sorted, p));
  const { not_applicable: notApplicable, no_overlap: noOverlap } = result.statusCounts;
  return {
    align: result.align,
    overlap: {
      over: "pairs",
      min: q(0),
      q1: q(0.25),
      median: q(0.5),
      q3: q(0.75),
      max: q(1),
      partial_pairs: pairs.filter((o) => o < 1).length,
      partial_rows: result.rows.filter((r) => r.overlap < 1).length,
    },
    rows_by_status: result.statusCounts,
    alignment_note:
      notApplicable + noOverlap === 0
        ? null
        : [
            notApplicable > 0
              ? `${notApplicable} rows are not_applicable (a position that is padding in the source or the target): their metric cells are empty and they stay out of statistics`
              : "",
            noOverlap > 0
              ? `${noOverlap} rows are no_overlap (source and target share no real step): nothing was patched, effect 0`
              : "",
          ]
            .filter((t) => t !== "")
            .join("; "),
  };
}

/** Warnings and errors on stderr; an error sets exit code 1. Returns true when there was an error. */
function reportFindings(ctx: CommandContext, findings: readonly Finding[]): boolean {
  for (const f of findings) if (f.severity !== "info") ctx.io.stderr(`${formatFinding(f)}\n`);
  const failed = findings.some((f) => f.severity === "error");
  if (failed) ctx.exitCode = 1;
  return failed;
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
