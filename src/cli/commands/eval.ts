import { resolve } from "node:path";
import type { Command } from "commander";
import { writeFileAtomic } from "../../atomic-write.js";
import { InterruptedError } from "../../errors.js";
import { tstRowCost } from "../../model/memory-cost.js";
import { type EvalResult, evaluate, type PredictionRow, predictionRows } from "../../train/evaluate.js";
import { checkOutputs, modelFiles } from "../check-outputs.js";
import { type CommandContext, printJson } from "../context.js";
import { csvLine } from "../csv.js";
import { MEMORY_BUDGET_OPTION, memoryBudget, planMemory } from "../memory-plan.js";
import { openModelAndData } from "../model-data.js";
import { parseNumericFlag } from "../numeric-flag.js";
import { progressBar } from "../progress.js";

interface EvalFlags {
  model: string;
  data: string;
  split: string;
  resample?: string;
  predictions?: string;
  dataDir?: string;
  offline?: boolean;
  json?: boolean;
  quiet?: boolean;
  memoryBudget?: string;
}

/**
 * `tspatch eval --model <dir|file.pth> --data <file.ts|name> [--predictions out.csv] [--json]`:
 * accuracy, per-class precision/recall, the confusion matrix, and per row the true and
 * predicted label with their probabilities (to choose pairs for `patch --source/--target`).
 *
 * @example
 * await runCli(["eval", "--model", "TST_pendigits.pth", "--data", "PenDigits", "--json"], memoryIO());
 */
export function register(program: Command, ctx: CommandContext): void {
  program
    .command("eval")
    .description("Evaluate a model on labelled data: accuracy, per-class precision/recall, confusion matrix")
    .requiredOption("--model <dir|file.pth>", "model directory, or a reference PyTorch checkpoint (.pth)")
    .requiredOption(
      "--data <file.ts|name>",
      "a .ts/.arff file, or a dataset name (its TEST split unless --split)",
    )
    .option("--split <train|test>", "split to use when --data is a name", "test")
    .option(
      "--resample <steps>",
      "resample every series to this many steps first (for data of another length)",
    )
    .option(
      "--predictions <out.csv>",
      "write one line per row: row (the id patch --source/--target take), true and predicted label, P(true), P(predicted), correct",
    )
    .option("--data-dir <dir>", "search this directory for datasets first")
    .option("--offline", "never download datasets")
    .option("--quiet", "no progress output")
    .option("--json", "print JSON (with the per-row predictions)")
    .option(...MEMORY_BUDGET_OPTION)
    .action(async (flags: EvalFlags) => {
      const budget = memoryBudget(flags.memoryBudget);
      const resample = parseSteps(flags.resample);
      const predictionsPath =
        flags.predictions === undefined ? undefined : resolve(ctx.io.cwd, flags.predictions);
      if (predictionsPath !== undefined) {
        checkOutputs({
          outputs: [{ path: predictionsPath, flag: "--predictions", kind: "file" }],
          inputs: modelFiles(resolve(ctx.io.cwd, flags.model)).map((path) => ({ path, flag: "--model" })),
        });
      }
      const opened = await openModelAndData(ctx, flags, { resample });
      const { inputs } = opened;
      const plan = planMemory(
        opened.model,
        tstRowCost(opened.model.config, { mask: inputs.mask !== null }),
        budget,
        256,
      );
      const model = plan.model;
      if (plan.binds && !flags.quiet && !flags.json) ctx.io.stderr(`tspatch: ${plan.note}\n`);
      const bar = progressBar(ctx.io, "eval", { unit: "cases", quiet: flags.quiet || flags.json });
      const result = await evaluate(model, inputs, {
        chunkSize: plan.rows,
        onProgress: (done, total) => {
          // Between runtime calls: Ctrl-C stops a long evaluation (nothing is written, so nothing is lost).
          if (ctx.signal?.aborted) throw new InterruptedError("eval interrupted");
          bar(done, total);
        },
      }).finally(() => bar.finish());
      const rows = predictionRows(result);
      if (flags.predictions !== undefined) {
        writeFileAtomic(predictionsPath!, predictionsCsv(rows));
        if (!flags.quiet) ctx.io.stderr(`tspatch: wrote ${flags.predictions} (${rows.length} rows)\n`);
      }
      const data = inputs.dataset.file ?? inputs.dataset.name;
      if (flags.json)
        printJson(ctx, { ...evalJson(result, flags.model, data), predictions: predictionsJson(rows) });
      else ctx.io.stdout(renderEval(result, flags.model, data));
    });
}

/** The columns of `eval --predictions`. */
export const PREDICTION_COLUMNS = [
  "row",
  "true_label",
  "predicted_label",
  "p_true",
  "p_predicted",
  "correct",
];

/** Predictions as CSV text: header + one line per row; an output without a label is an empty cell. */
export function predictionsCsv(rows: readonly PredictionRow[]): string {
  const lines = [PREDICTION_COLUMNS.join(",")];
  for (const r of rows) {
    lines.push(
      csvLine([
        r.row,
        r.trueLabel,
        r.predictedLabel ?? "",
        r.pTrue,
        r.pPredicted,
        r.correct ? "correct" : "incorrect",
      ]),
    );
  }
  return `${lines.join("\n")}\n`;
}

function predictionsJson(rows: readonly PredictionRow[]) {
  return rows.map((r) => ({
    row: r.row,
    true_label: r.trueLabel,
    predicted_label: r.predictedLabel,
    p_true: r.pTrue,
    p_predicted: r.pPredicted,
    correct: r.correct,
  }));
}

/** `--resample`: a whole number of steps (checked against the model's length once it is loaded). */
function parseSteps(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  return parseNumericFlag(value, { flag: "--resample", integer: true, min: 1 });
}

function evalJson(r: EvalResult, model: string, data: string) {
  return {
    model,
    data,
    accuracy: r.accuracy,
    n: r.n,
    correct: r.correct,
    classes: r.classes,
    confusion: r.confusion,
    unlabeledPredictions: r.unlabeledPredictions,
    perClass: r.perClass,
  };
}

function renderEval(r: EvalResult, model: string, data: string): string {
  const pct = (v: number | null) => (v === null ? "-" : v.toFixed(4));
  const lines = [
    `model ${model}`,
    `data  ${data}`,
    `accuracy ${r.accuracy.toFixed(4)} (${r.correct}/${r.n})`,
    "",
    pad(["class", "precision", "recall", "support"]),
    ...r.perClass.map((c) => pad([c.label, pct(c.precision), pct(c.recall), String(c.support)])),
    "",
    "confusion matrix (rows = true class, columns = predicted)",
    pad(["", ...r.classes, ...(r.unlabeledPredictions.some((v) => v > 0) ? ["(no label)"] : [])]),
    ...r.confusion.map((row, i) =>
      pad([
        r.classes[i],
        ...row.map(String),
        ...(r.unlabeledPredictions.some((v) => v > 0) ? [String(r.unlabeledPredictions[i])] : []),
      ]),
    ),
  ];
  return `${lines.join("\n")}\n`;
}

function pad(cells: string[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(10) : c.padStart(9))).join(" ");
}
