import { resolve } from "node:path";
import type { Command } from "commander";
import { inputError } from "../../errors.js";
import { inspectStateDict } from "../../model/arch-inspect.js";
import { readArchMap, shippedArchMaps } from "../../model/arch-map.js";
import { importPth } from "../../model/import-pth.js";
import { saveModel } from "../../model/model-dir.js";
import { readPth } from "../../model/pth.js";
import { checkOutputs } from "../check-outputs.js";
import { type CommandContext, printJson } from "../context.js";
import { loadData } from "../model-data.js";
import { parseNumericFlag } from "../numeric-flag.js";

interface ImportFlags {
  out?: string;
  arch?: string;
  heads?: string;
  seqLen?: string;
  inspect?: boolean;
  labelMap?: string;
  data?: string;
  dataDir?: string;
  offline?: boolean;
  json?: boolean;
}

/**
 * `tspatch import-pth <file.pth> --out <dir> [--arch <name|map.json> --heads N --seq-len S]
 * [--label-map dense|int] [--data <name|file>]`: a PyTorch checkpoint as a model directory (raw
 * inputs, no normalisation): the reference TST, or any model of the family through a component
 * map (docs/arch-map.md). `--inspect` prints the checkpoint's keys and shapes and a suggested map.
 *
 * @example
 * await runCli(["import-pth", "TST_lsst.pth", "--out", "models/lsst-ref", "--data", "LSST"], memoryIO());
 * await runCli(["import-pth", "model.pth", "--arch", "torch-encoder", "--heads", "4", "--out", "models/mine"], memoryIO());
 */
export function register(program: Command, ctx: CommandContext): void {
  program
    .command("import-pth")
    .description(
      "Import a PyTorch checkpoint (.pth state dict) as a model directory: the reference TST, or a model of the family through --arch",
    )
    .argument("<file.pth>", "checkpoint written by torch.save(model.state_dict(), path)")
    .option("--out <dir>", "model directory to write (config.json, weights.safetensors)")
    .option(
      "--arch <name|map.json>",
      `component map saying which keys are which part (docs/arch-map.md); shipped: ${shippedArchMaps().join(", ")}`,
    )
    .option("--heads <n>", "attention heads (with --arch; weights cannot tell them)")
    .option(
      "--seq-len <steps>",
      "time steps the model takes (with --arch, when the weights cannot tell them)",
    )
    .option("--inspect", "print the checkpoint's keys and shapes by module, and a suggested --arch map")
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
      if (flags.inspect) {
        inspect(ctx, file, flags);
        return;
      }
      if (flags.out === undefined) {
        throw inputError("--out <dir> is required", {
          field: "--out",
          hint: "or pass --inspect to only look at the checkpoint",
        });
      }
      if (flags.arch === undefined && (flags.heads !== undefined || flags.seqLen !== undefined)) {
        throw inputError(`${flags.heads !== undefined ? "--heads" : "--seq-len"} applies only with --arch`, {
          field: flags.heads !== undefined ? "--heads" : "--seq-len",
          hint: "the reference TST's heads and steps are fixed; for another model give its component map with --arch",
        });
      }
      const arch = flags.arch === undefined ? undefined : readArchMap(flags.arch);
      const heads =
        flags.heads === undefined
          ? undefined
          : parseNumericFlag(flags.heads, { flag: "--heads", integer: true, min: 1 });
      const steps =
        flags.seqLen === undefined
          ? undefined
          : parseNumericFlag(flags.seqLen, { flag: "--seq-len", integer: true, min: 1 });
      const kind = flags.labelMap;
      if (kind !== undefined && kind !== "dense" && kind !== "int") {
        throw inputError(`unknown label map "${kind}"`, { field: "--label-map", hint: "use dense or int" });
      }
      const out = resolve(ctx.io.cwd, flags.out);
      checkOutputs({
        outputs: [{ path: out, flag: "--out", kind: "directory" }],
        inputs: [{ path: resolve(ctx.io.cwd, file), flag: "<file.pth>" }],
      });
      const data =
        flags.data === undefined ? undefined : await loadData(ctx, flags.data, { ...flags, split: "train" });
      const { model, note } = importPth(resolve(ctx.io.cwd, file), {
        data,
        labelMap: kind ?? "auto",
        arch: arch === undefined ? undefined : { map: arch.map, file: flags.arch! },
        heads,
        seqLen: steps,
      });
      saveModel(model, out);
      const { channels, classes } = model.config;
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
      const shape =
        arch === undefined
          ? ""
          : `, ${model.config.layers} layers × ${model.config.heads} heads, d_model ${model.config.dModel} (map ${flags.arch})`;
      ctx.io.stdout(
        `imported ${file}: ${channels} channels, ${model.config.seqLen} steps, ${classes} outputs${shape}, ${labels}, raw inputs (no normalisation) -> ${flags.out}\n`,
      );
    });
}

/** `--inspect`: keys and shapes by module (identical numbered layers folded), then a suggested map and its notes. */
function inspect(ctx: CommandContext, file: string, flags: ImportFlags): void {
  const info = inspectStateDict(readPth(resolve(ctx.io.cwd, file)));
  if (flags.json) {
    printJson(ctx, { file, ...info });
    return;
  }
  const lines = [`${file}: ${info.tensors} tensors, ${info.values} values`];
  let previous: { prefix: string; signature: string } | null = null;
  let folded: string[] = [];
  const flush = () => {
    if (folded.length > 0 && previous !== null) {
      lines.push(
        `  ${folded.length === 1 ? folded[0] : `${folded[0]} … ${folded.at(-1)}`}: same keys and shapes as ${previous.prefix}`,
      );
    }
    folded = [];
  };
  for (const group of info.groups) {
    const rel = group.tensors.map((t) => `${t.key.slice(group.prefix.length)} [${t.shape}]`);
    const signature = rel.join("\n");
    const numbered = /\.\d+$/.test(group.prefix);
    const samePattern =
      previous !== null &&
      numbered &&
      previous.prefix.replace(/\d+$/, "") === group.prefix.replace(/\d+$/, "");
    if (samePattern && previous!.signature === signature) {
      folded.push(group.prefix);
      continue;
    }
    flush();
    lines.push(`  ${group.prefix}`);
    for (const t of group.tensors) lines.push(`    ${t.key} [${t.shape}]`);
    previous = { prefix: group.prefix, signature };
  }
  flush();
  if (info.suggestedMap === null) {
    lines.push("", ...info.notes);
  } else {
    lines.push(
      "",
      `recognised: ${info.recognised}`,
      "suggested map (save it as map.json, check the notes against the model's code, then run",
      `  tspatch import-pth ${file} --arch map.json --heads N --out <dir>):`,
      JSON.stringify(info.suggestedMap, null, 2),
      "notes:",
      ...info.notes.map((n) => `  - ${n}`),
    );
  }
  ctx.io.stdout(`${lines.join("\n")}\n`);
}
