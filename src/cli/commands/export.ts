import { resolve } from "node:path";
import type { Command } from "commander";
import { OPSET } from "../../graph/onnx.js";
import { saveOnnx } from "../../model/export.js";
import { loadModel } from "../../model/model-dir.js";
import { type CommandContext, printJson } from "../context.js";

interface ExportFlags {
  model: string;
  onnx: string;
  mask: boolean;
  json?: boolean;
}

/**
 * `tspatch export --model <dir|file.pth> --onnx <out.onnx> [--no-mask]`: a
 * standalone ONNX file (raw input x [batch, seqLen, channels], mask [batch,
 * seqLen] unless --no-mask, output logits) for stock ONNX Runtime.
 *
 * @example
 * await runCli(["export", "--model", "models/jv", "--onnx", "jv.onnx"], memoryIO());
 */
export function register(program: Command, ctx: CommandContext): void {
  program
    .command("export")
    .description(
      "Write a standalone ONNX model (weights and input normalisation inside) for stock ONNX Runtime",
    )
    .requiredOption("--model <dir|file.pth>", "model directory, or a reference PyTorch checkpoint (.pth)")
    .requiredOption("--onnx <out.onnx>", "output file")
    .option("--no-mask", "leave out the padding-mask input (for full-length input only)")
    .option("--json", "print JSON")
    .action((flags: ExportFlags) => {
      const { model } = loadModel(resolve(ctx.io.cwd, flags.model));
      const out = resolve(ctx.io.cwd, flags.onnx);
      saveOnnx(model, out, { mask: flags.mask });
      const { channels, seqLen, classes } = model.config;
      if (flags.json) {
        printJson(ctx, {
          onnx: out,
          inputs: {
            x: { type: "float32", shape: ["batch", seqLen, channels] },
            ...(flags.mask ? { mask: { type: "bool", shape: ["batch", seqLen] } } : {}),
          },
          outputs: { logits: { type: "float32", shape: ["batch", classes] } },
          opset: OPSET,
          label_map: model.labelMap,
        });
        return;
      }
      const inputs = flags.mask
        ? `x float32 [batch, ${seqLen}, ${channels}], mask bool [batch, ${seqLen}] (true = real step)`
        : `x float32 [batch, ${seqLen}, ${channels}]`;
      ctx.io.stdout(`wrote ${flags.onnx}: inputs ${inputs}; output logits [batch, ${classes}]\n`);
    });
}
