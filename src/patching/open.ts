import { isAbsolute, resolve } from "node:path";
import { type LoadOptions, loadDataset } from "../data/registry.js";
import type { HookedTST } from "../model/hooked-tst.js";
import { loadModel } from "../model/model-dir.js";
import { type ModelInputs, modelInputs } from "./inputs.js";

/**
 * Load a model (directory or reference `.pth`) and a dataset (file path or
 * name + split) and make the data ready for patching.
 *
 * @example
 * const { model, inputs } = await openForPatching("TST_japanesevowels.pth", "JapaneseVowels_eq", { split: "test" });
 */
export async function openForPatching(
  modelPath: string,
  data: string,
  options: LoadOptions = {},
): Promise<{ model: HookedTST; inputs: ModelInputs; note: string | null }> {
  const cwd = options.cwd ?? process.cwd();
  const dataset = await loadDataset(data, { ...options, split: options.split ?? "test", cwd });
  const path = isAbsolute(modelPath) ? modelPath : resolve(cwd, modelPath);
  const { model, note } = loadModel(path, { data: dataset });
  return { model, inputs: modelInputs(model, dataset), note };
}
