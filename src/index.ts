/**
 * tspatch: find which parts of a time-series Transformer classifier cause its
 * decisions, by activation patching, with statistics a reviewer would accept.
 *
 * The common entry points are exported by name; each layer is also exported
 * whole as a namespace (`data`, `graph`, `runtime`, `model`, `train`,
 * `patching`, `stats`, `stability`, `baselines`, `report`).
 *
 * @example
 * import { loadDatasetSplits, loadModel, sweep, stats } from "tspatch";
 * const { test } = await loadDatasetSplits("JapaneseVowels");
 * const { model } = loadModel("models/JapaneseVowels");
 */

export * as baselines from "./baselines/index.js";
export { runBaselines } from "./baselines/index.js";
export * as data from "./data/index.js";
export { type Dataset, loadDataset, loadDatasetSplits } from "./data/index.js";
export { InputError, InterruptedError } from "./errors.js";
export * as graph from "./graph/index.js";
export * as model from "./model/index.js";
export {
  HookedTST,
  type HookName,
  loadModel,
  makeConfig,
  type RunOptions,
  type RunResult,
  saveModel,
  type TSTConfig,
} from "./model/index.js";
export * as patching from "./patching/index.js";
export { makePairs, patchPair, sweep } from "./patching/index.js";
export * as report from "./report/index.js";
export * as runtime from "./runtime/index.js";
export * as stability from "./stability/index.js";
export { runStability } from "./stability/index.js";
export * as stats from "./stats/index.js";
export * as train from "./train/index.js";
export { evaluate, trainModel } from "./train/index.js";
export { version } from "./version.js";
