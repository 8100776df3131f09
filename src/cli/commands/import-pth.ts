import { resolve } from "node:path";
import type { Command } from "commander";
import { inputError } from "../../errors.js";
import { importPth } from "../../model/import-pth.js";
import { saveModel } from "../../model/model-dir.js";
import { type CommandContext, printJson } from "../context.js";
import { loadData } from "../model-data.js";

interface ImportFlags {
  out: string;
  labelMap?: string;
  data?: string;
  dataDir?: string;
  offline?: boolean;
  json?: boolean;
}

/**
 * `tspatch import-pth <file.pth> --out <dir> [--label-map dense|int] [--data <name|file>]`:
 * a reference PyTorch checkpoint as a model directory (raw inputs, no normalisation).
 *
 * @example
 * await runCli(["import-pth", "TST_lsst.pth", "--out", "models/lsst-ref", "--data", "LSST"], memoryIO());
 */
export function register(program: Command, ctx: CommandContext): void {
  program
    .command("import-pth")
    .description("Import a reference TST PyTorch checkpoint (.pth state dict) as a model directory")
    .argument("<file.pth>", "checkpoint written by torch.save(model.state_dict(), path)")
    .requiredOption("--out <dir>", "model directory to write (config.json, weights.safetensors)")
    .option(
      "--label-map <dense|int>",
      "class index of a label: dense 0..K-1, or int(label) as the reference (default: detect)",
    )
    .option(
      "--data <name|file>",
      "the data the checkpoint belongs to (gives the class labels; TRAIN split for a name)",
    )
    .option("--data-dir <dir>", "search this directory for datasets first")
    .option("--offline", "never download datasets")
    .option("--json", "print JSON")
    .action(async (file: string, flags: ImportFlags) => {
      const kind = flags.labelMap;
      if (kind !== undefined && kind !== "dense" && kind !== "int") {
        throw inputError(`unknown label map "${kind}"`, { field: "--label-map", hint: "use dense or int" });
      }
      const data =
        flags.data === undefined ? undefined : await loadData(ctx, flags.data, { ...flags, split: "train" });
      const { model, note } = importPth(resolve(ctx.io.cwd, file), { data, labelMap: kind ?? "auto" });
      const out = resolve(ctx.io.cwd, flags.out);
      saveModel(model, out);
      const { channels, seqLen, classes } = model.config;
      if (flags.json) {
        printJson(ctx, {
          file,
          out,
          config: model.config,
          label_map: model.labelMap,
          note,
          preprocess: model.preprocess,
        });
        return;
      }
      if (note !== null) ctx.io.stdout(`${note}\n`);
      const labels =
        model.labelMap === null
          ? "no label map (indices only; pass --data for labels)"
          : `label map ${model.labelMap.kind}`;
      ctx.io.stdout(
        `imported ${file}: ${channels} channels, ${seqLen} steps, ${classes} outputs, ${labels}, raw inputs (no normalisation) -> ${flags.out}\n`,
      );
    });
}
