/**
 * How a command gets its data and model: `--data` through data/ (a file, or a dataset name's
 * split on the search path), `--model` and the prepared inputs through model/ (the one
 * label-map rule, padding, mask). Commands hand the result on (evaluation, patching) and never
 * go back to data/.
 */
import { resolve } from "node:path";
import type { Dataset } from "../data/dataset.js";
import { type LoadOptions, loadDataset, type Split } from "../data/registry.js";
import { inputError } from "../errors.js";
import type { HookedTST } from "../model/hooked-tst.js";
import { loadModel } from "../model/model-dir.js";
import { type PreparedInputs, prepareInputs } from "../model/prepare-inputs.js";
import type { CommandContext } from "./context.js";

/** The flags every command that reads data shares. */
export interface DataFlags {
  split?: string;
  dataDir?: string;
  offline?: boolean;
}

/**
 * Load `--data` (a file, or a dataset name's split) with the CLI's search options.
 *
 * @example
 * const data = await loadData(ctx, "JapaneseVowels", { split: "test" });
 */
export async function loadData(ctx: CommandContext, nameOrPath: string, flags: DataFlags): Promise<Dataset> {
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

/**
 * `--data` and `--model` made ready to run: the model (a `.pth` gets its label map from this
 * data) and the data prepared for it. Notes (a label map that was resolved) go to stderr.
 *
 * @example
 * const { model, inputs } = await openModelAndData(ctx, { model: "m.pth", data: "JapaneseVowels_eq" });
 */
export async function openModelAndData(
  ctx: CommandContext,
  flags: DataFlags & { model: string; data: string; quiet?: boolean },
  options: { resample?: number } = {},
): Promise<{ model: HookedTST; inputs: PreparedInputs }> {
  const data = await loadData(ctx, flags.data, flags);
  const { model, note } = loadModel(resolve(ctx.io.cwd, flags.model), { data });
  const inputs = prepareInputs(model, data, options);
  if (!flags.quiet)
    for (const line of [note, ...inputs.notes]) if (line !== null) ctx.io.stderr(`tspatch: ${line}\n`);
  return { model, inputs };
}
