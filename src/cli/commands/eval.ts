import { resolve } from "node:path";
import type { Command } from "commander";
import { type LoadOptions, loadDataset, type Split } from "../../data/registry.js";
import { InterruptedError, inputError } from "../../errors.js";
import { loadModel } from "../../model/model-dir.js";
import { type EvalResult, evaluate } from "../../train/evaluate.js";
import { type CommandContext, printJson } from "../context.js";
import { checkDataDir } from "../data-dir-flag.js";
import { parseNumericFlag } from "../numeric-flag.js";
import { progressBar } from "../progress.js";

interface EvalFlags {
  model: string;
  data: string;
  split: string;
  resample?: string;
  dataDir?: string;
  offline?: boolean;
  json?: boolean;
  quiet?: boolean;
}

/**
 * `tspatch eval --model <dir|file.pth> --data <file.ts|name> [--json]`:
 * accuracy, per-class precision/recall and the confusion matrix.
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
    .option("--data-dir <dir>", "search this directory for datasets first")
    .option("--offline", "never download datasets")
    .option("--quiet", "no progress output")
    .option("--json", "print JSON")
    .action(async (flags: EvalFlags) => {
      parseSteps(flags.resample, Number.MAX_SAFE_INTEGER);
      const data = await loadData(ctx, flags.data, flags);
      const { model, note } = loadModel(resolve(ctx.io.cwd, flags.model), { data });
      if (note !== null && !flags.quiet) ctx.io.stderr(`${note}\n`);
      const resample = parseSteps(flags.resample, model.config.seqLen);
      const bar = progressBar(ctx.io, "eval", { unit: "cases", quiet: flags.quiet || flags.json });
      const result = await evaluate(model, data, {
        resample,
        onProgress: (done, total) => {
          // Between runtime calls: Ctrl-C stops a long evaluation (nothing is written, so nothing is lost).
          if (ctx.signal?.aborted) throw new InterruptedError("eval interrupted");
          bar(done, total);
        },
      }).finally(() => bar.finish());
      if (flags.json) printJson(ctx, evalJson(result, flags.model, data.file ?? data.name));
      else ctx.io.stdout(renderEval(result, flags.model, data.file ?? data.name));
    });
}

/** Load `--data` (a file, or a dataset name's split) with the CLI's search options. */
export async function loadData(
  ctx: CommandContext,
  nameOrPath: string,
  flags: { split?: string; dataDir?: string; offline?: boolean },
) {
  checkDataDir(flags.dataDir, ctx.io.cwd);
  const split = (flags.split ?? "test").toLowerCase();
  if (split !== "train" && split !== "test") {
    throw inputError(`unknown split "${flags.split}"`, { field: "--split", hint: "use train or test" });
  }
  const options: LoadOptions = {
    split: split as Split,
    dataDir: flags.dataDir,
    env: ctx.io.env,
    cwd: ctx.io.cwd,
    download: flags.offline ? false : undefined,
  };
  return loadDataset(nameOrPath, options);
}

/** `--resample`: longer than the model's input it could never run (and 1e9 steps would not fit in memory). */
function parseSteps(value: string | undefined, seqLen: number): number | undefined {
  if (value === undefined) return undefined;
  return parseNumericFlag(value, {
    flag: "--resample",
    integer: true,
    min: 1,
    max: seqLen,
    hint: `the model takes at most ${seqLen} steps; e.g. --resample ${Math.min(seqLen, 100)}`,
  });
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
