/**
 * tspatch: find which parts of a time-series Transformer classifier cause its
 * decisions, by activation patching, with statistics a reviewer would accept.
 *
 * @example
 * import { loadDataset } from "tspatch";
 * const train = await loadDataset("JapaneseVowels", { split: "train" });
 */
export { InputError, InterruptedError } from "./errors.js";
export { version } from "./version.js";
