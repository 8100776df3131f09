import type { Command } from "commander";
import {
  isDatasetPath,
  type LoadOptions,
  listDatasets,
  loadDataset,
  loadDatasetSplits,
} from "../../data/registry.js";
import { type DatasetSummary, summarizeDataset } from "../../data/summary.js";
import { type CommandContext, printJson } from "../context.js";
import { checkDataDir } from "../data-dir-flag.js";
import { progressBar } from "../progress.js";
import { textTable } from "../table.js";

interface CommonFlags {
  dataDir?: string;
  json?: boolean;
  offline?: boolean;
}

/**
 * `tspatch datasets list` and `tspatch datasets info <name|path>`.
 *
 * @example
 * await runCli(["datasets", "info", "JapaneseVowels", "--json"], memoryIO());
 */
export function register(program: Command, ctx: CommandContext): void {
  const datasets = program
    .command("datasets")
    .description("List the datasets tspatch can find, or describe one (cases, channels, lengths, classes).");

  datasets
    .command("list")
    .description(
      "Known datasets and where each was found (bundled, --data-dir, TSPATCH_DATA, ./data, cache, or downloadable)",
    )
    .option("--data-dir <dir>", "search this directory first")
    .option("--json", "print JSON")
    .action((flags: CommonFlags) => {
      const listing = listDatasets(loadOptions(ctx, flags));
      if (flags.json) {
        printJson(ctx, listing);
        return;
      }
      const rows = listing.map((d) => [d.name, d.origin, d.dir ?? "", d.files.join(" ")]);
      ctx.io.stdout(table(["name", "found in", "directory", "files"], rows));
    });

  datasets
    .command("info")
    .description("Describe a dataset (TRAIN and TEST) by name, or one .ts/.arff file by path")
    .argument("<name|path>", "dataset name (e.g. JapaneseVowels, JapaneseVowels_eq) or a file path")
    .option("--data-dir <dir>", "search this directory first")
    .option("--offline", "never download (also TSPATCH_OFFLINE=1)")
    .option("--json", "print JSON")
    .action(async (target: string, flags: CommonFlags) => {
      const options = loadOptions(ctx, flags);
      if (isDatasetPath(target, ctx.io.cwd)) {
        const summary = summarizeDataset(await loadDataset(target, options));
        if (flags.json) printJson(ctx, summary);
        else ctx.io.stdout(renderSummaries(summary.name, [["file", summary]]));
        return;
      }
      const bar = progressBar(ctx.io, `download ${target}`, { unit: "kB" });
      const { train, test } = await loadDatasetSplits(target, {
        ...options,
        onProgress: (done, total) => bar(Math.round(done / 1024), Math.round(total / 1024)),
      });
      bar.finish();
      const result = { name: train.name, train: summarizeDataset(train), test: summarizeDataset(test) };
      if (flags.json) printJson(ctx, result);
      else
        ctx.io.stdout(
          renderSummaries(result.name, [
            ["train", result.train],
            ["test", result.test],
          ]),
        );
    });
}

function loadOptions(ctx: CommandContext, flags: CommonFlags): LoadOptions {
  checkDataDir(flags.dataDir, ctx.io.cwd);
  return {
    dataDir: flags.dataDir,
    env: ctx.io.env,
    cwd: ctx.io.cwd,
    download: flags.offline ? false : undefined,
  };
}

function renderSummaries(name: string, parts: [string, DatasetSummary][]): string {
  const lines: string[] = [`${name}`, ""];
  lines.push(
    table(
      ["split", "cases", "channels", "length", "classes", "missing", "file"],
      parts.map(([split, s]) => [
        split,
        String(s.cases),
        String(s.channels),
        s.length.min === s.length.max ? String(s.length.min) : `${s.length.min}..${s.length.max}`,
        String(s.classes.length),
        String(s.missing),
        s.file ?? "",
      ]),
    ),
  );
  const labels = parts[0][1].classes.map((c) => c.label);
  for (const [, s] of parts) for (const c of s.classes) if (!labels.includes(c.label)) labels.push(c.label);
  lines.push(
    "cases per class",
    table(
      ["label", ...parts.map(([split]) => split)],
      labels.map((label) => [
        label,
        ...parts.map(([, s]) => String(s.classes.find((c) => c.label === label)?.count ?? 0)),
      ]),
    ),
  );
  lines.push(
    "value range per channel",
    table(
      ["channel", ...parts.flatMap(([split]) => [`${split} min`, `${split} max`])],
      parts[0][1].valueRange.map((_, c) => [
        String(c + 1),
        ...parts.flatMap(([, s]) => {
          const r = s.valueRange[c];
          return r ? [String(r.min), String(r.max)] : ["(no values)", ""];
        }),
      ]),
    ),
  );
  return lines.join("\n");
}

function table(head: string[], rows: string[][]): string {
  return `${textTable(head, rows)}\n\n`;
}
