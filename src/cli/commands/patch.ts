import type { Command } from "commander";
import { indexToLabel } from "../../data/labels.js";
import { inputError } from "../../errors.js";
import { checkAlignment } from "../../patching/align.js";
import { forPatching } from "../../patching/inputs.js";
import { argmax } from "../../patching/metrics.js";
import { patchPair } from "../../patching/patch-pair.js";
import { HEAD_MODES, type HeadMode } from "../../patching/types.js";
import { type CommandContext, printJson } from "../context.js";
import { MEMORY_BUDGET_OPTION, memoryBudget, patchedRunCost, planMemory } from "../memory-plan.js";
import { openModelAndData } from "../model-data.js";
import { parseNumericFlag } from "../numeric-flag.js";

interface PatchFlags {
  model: string;
  data: string;
  split: "train" | "test";
  source: string;
  target: string;
  headMode: string;
  align: string;
  dataDir?: string;
  offline?: boolean;
  json?: boolean;
  memoryBudget?: string;
}

/**
 * `tspatch patch`: patch one pair (source → target) for every head, attention
 * layer and MLP, and print the target's probabilities under each patch.
 *
 * @example
 * await runCli(["patch", "--model", "TST_japanesevowels.pth", "--data", "JapaneseVowels_eq_TEST.ts",
 *   "--source", "58", "--target", "31", "--head-mode", "slice", "--json"], memoryIO());
 */
export function register(program: Command, ctx: CommandContext): void {
  program
    .command("patch")
    .description(
      "Patch one pair: the target's run with each head, attention layer and MLP taken from the source's run",
    )
    .requiredOption("--model <dir|file.pth>", "model directory or reference PyTorch checkpoint")
    .requiredOption("--data <file|name>", "data file (.ts/.arff) or dataset name")
    .option("--split <split>", "split when --data is a name (train|test)", "test")
    .requiredOption(
      "--source <row>",
      "row id of the source input (0-based, column row of eval --predictions)",
    )
    .requiredOption(
      "--target <row>",
      "row id of the target input (0-based, column row of eval --predictions)",
    )
    .option(
      "--head-mode <mode>",
      "z: true per-head (attn.hook_z); slice: the study's 16-wide slices of attn_out",
      "z",
    )
    .option("--align <how>", ALIGN_HELP, "overlap")
    .option("--data-dir <dir>", "search this directory for datasets first")
    .option("--offline", "never download datasets")
    .option("--json", "print JSON")
    .option(...MEMORY_BUDGET_OPTION)
    .action(async (flags: PatchFlags) => {
      const budget = memoryBudget(flags.memoryBudget);
      const headMode = parseHeadMode(flags.headMode);
      const align = checkAlignment(flags.align, "--align");
      const source = parseRow(flags.source, "--source");
      const target = parseRow(flags.target, "--target");
      const opened = await openModelAndData(ctx, flags);
      const inputs = forPatching(opened.inputs);
      const plan = planMemory(
        opened.model,
        patchedRunCost(opened.model, opened.inputs.mask !== null),
        budget,
        256,
      );
      const model = plan.model;
      if (plan.binds && !flags.json) ctx.io.stderr(`tspatch: ${plan.note}\n`);
      const result = await patchPair(model, inputs, source, target, {
        headMode,
        align,
        batchRows: plan.rows,
      });
      const predSource = argmax(result.sourceProbs);
      const predTarget = argmax(result.baselineProbs);
      const labelMap = inputs.labelMap;
      const label = (k: number) => (k < 0 || labelMap === null ? null : (indexToLabel(labelMap, k) ?? null));
      const trueIndex = inputs.trueClass[target];
      const output = {
        source,
        target,
        head_mode: headMode,
        align,
        source_steps: result.alignment.sourceSteps,
        target_steps: result.alignment.targetSteps,
        patched_steps: result.alignment.patchedSteps,
        overlap: result.alignment.overlap,
        no_overlap: result.alignment.noOverlap,
        true_label: label(trueIndex),
        true_index: trueIndex,
        source_true_label: label(inputs.trueClass[source]),
        predicted: { source: label(predSource), target: label(predTarget) },
        predicted_index: { source: predSource, target: predTarget },
        baseline_probs: result.baselineProbs,
        source_probs: result.sourceProbs,
        head_probs: result.headProbs,
        layer_probs: result.layerProbs,
        mlp_probs: result.mlpProbs,
        head_mode_note:
          headMode === "slice"
            ? "slice: the study's compatibility mode; dims h*dh..h*dh+dh-1 of hook_attn_out mix all heads, so these are not per-head effects"
            : "z: true per-head patching of blocks.l.attn.hook_z[:, :, h, :]",
      };
      if (flags.json) {
        printJson(ctx, output);
        return;
      }
      ctx.io.stdout(renderText(output, trueIndex));
    });
}

function renderText(
  o: {
    source: number;
    target: number;
    head_mode: HeadMode;
    align: string;
    source_steps: number;
    target_steps: number;
    patched_steps: number;
    overlap: number;
    no_overlap: boolean;
    true_label: string | null;
    baseline_probs: number[];
    source_probs: number[];
    head_probs: number[][][];
    layer_probs: number[][];
    mlp_probs: number[][];
  },
  y: number,
): string {
  const lines: string[] = [];
  const p = (probs: number[]) => (y >= 0 ? probs[y] : Number.NaN);
  const fmt = (v: number) => (v >= 0 ? "+" : "") + v.toFixed(4);
  lines.push(
    `pair: source ${o.source} → target ${o.target}, true label ${o.true_label ?? "(none)"}, head mode ${o.head_mode}`,
    `alignment ${o.align}: source ${o.source_steps} steps, target ${o.target_steps}, ${o.patched_steps} patched (overlap ${o.overlap.toFixed(3)})` +
      (o.no_overlap ? ": no shared real step, nothing was patched (every effect is 0)" : ""),
  );
  if (y < 0) {
    lines.push("the target has no class label: use --json for the probabilities");
    return `${lines.join("\n")}\n`;
  }
  lines.push(`P(true): target ${p(o.baseline_probs).toFixed(4)}, source ${p(o.source_probs).toFixed(4)}`);
  lines.push("", "ΔP(true) per head (rows: layers, columns: heads)");
  const H = o.head_probs[0]?.length ?? 0;
  lines.push(["layer", ...Array.from({ length: H }, (_, h) => `h${h}`.padStart(8))].join(" "));
  o.head_probs.forEach((row, l) => {
    lines.push(
      [`${l}`.padEnd(5), ...row.map((probs) => fmt(p(probs) - p(o.baseline_probs)).padStart(8))].join(" "),
    );
  });
  lines.push("", "ΔP(true) per attention layer / MLP");
  o.layer_probs.forEach((probs, l) => {
    lines.push(
      `layer ${l}: attn ${fmt(p(probs) - p(o.baseline_probs))}  mlp ${fmt(p(o.mlp_probs[l]) - p(o.baseline_probs))}`,
    );
  });
  return `${lines.join("\n")}\n`;
}

/** `--align` help, shared by patch and sweep. */
export const ALIGN_HELP =
  "inputs of different lengths: overlap (patch only steps real in both; default) or resample (source resampled onto the target's length)";

export function parseHeadMode(value: string): HeadMode {
  if (!(HEAD_MODES as readonly string[]).includes(value)) {
    throw inputError(`unknown head mode "${value}"`, {
      field: "--head-mode",
      hint: "use z (true per-head, default) or slice (the study's compatibility mode)",
    });
  }
  return value as HeadMode;
}

function parseRow(value: string, field: string): number {
  return parseNumericFlag(value, {
    flag: field,
    integer: true,
    min: 0,
    hint: "a 0-based row id (the row column of tspatch eval --predictions names the rows)",
  });
}
