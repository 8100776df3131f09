/**
 * Loads one file the way tspatch does and prints {outcome, message, peakRssMB} as JSON: run in a
 * child process (`node --import tsx test/model/peak-rss-child.ts <kind> <path>`), so the peak RSS
 * (getrusage ru_maxrss) is that load's alone.
 */
import { readDatasetFile } from "../../src/data/registry.js";
import { InputError } from "../../src/errors.js";
import { loadModel } from "../../src/model/model-dir.js";
import { readPth } from "../../src/model/pth.js";
import { importReferenceStateDict } from "../../src/model/reference-keys.js";
import { readSafetensors } from "../../src/model/safetensors.js";

const [kind, path] = process.argv.slice(2);
const load: Record<string, () => unknown> = {
  baseline: () => null,
  pth: () => importReferenceStateDict(readPth(path), { file: path }),
  safetensors: () => readSafetensors(path),
  model: () => loadModel(path),
  data: () => readDatasetFile(path),
};
let outcome = "ok";
let message = "";
try {
  await load[kind]();
} catch (error) {
  outcome = error instanceof InputError ? "InputError" : `other: ${(error as Error).name}`;
  message = (error as Error).message.split("\n")[0];
}
const peakRssMB = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify({ outcome, message, peakRssMB })}\n`);
