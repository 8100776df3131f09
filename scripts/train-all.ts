/**
 * Train the three study datasets with the default settings, seeds 0-2, and print the test
 * accuracies (a long run; not a test).
 *
 *     node --import tsx scripts/train-all.ts [--out models] [--data-dir DIR] [--threads N] [Dataset ...]
 *
 * Defaults: JapaneseVowels (unequal length, masks), PenDigits, LSST (14 classes); `--data-dir`
 * defaults to ../shared/datasets when it exists. Re-running resumes interrupted seeds and skips
 * finished ones (`tspatch train --resume`). `--summary-only` skips training and prints the table;
 * a seed still in training is shown with the TEST accuracy of its best weights so far (from its
 * checkpoint), marked "interim". Targets: JapaneseVowels ≥ 0.97, PenDigits ≥ 0.97,
 * LSST ≥ 0.58 (the reference reports 0.616).
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { processIO } from "../src/cli/io.js";
import { runCli } from "../src/cli/main.js";
import { readCheckpoint } from "../src/train/checkpoint.js";
import { evaluate } from "../src/train/evaluate.js";
import { checkpointPathOf, prepareTraining, type TrainMetrics } from "../src/train/train-model.js";

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const value = args[i + 1];
  args.splice(i, 2);
  return value;
};
const outRoot = resolve(option("--out") ?? "models");
const shared = resolve("../shared/datasets");
const dataDir = option("--data-dir") ?? (existsSync(shared) ? shared : undefined);
const threads = option("--threads");
const summaryOnly = args.includes("--summary-only");
if (summaryOnly) args.splice(args.indexOf("--summary-only"), 1);
const datasets = args.length > 0 ? args : ["JapaneseVowels", "PenDigits", "LSST"];
const seeds = [0, 1, 2];
const targets: Record<string, number> = { JapaneseVowels: 0.97, PenDigits: 0.97, LSST: 0.58 };

const controller = new AbortController();
process.on("SIGINT", () => controller.abort());
// Seed-major order: one model of every dataset first, so a cut-short run still covers all three.
training: for (const seed of summaryOnly ? [] : seeds) {
  for (const dataset of datasets) {
    const argv = [
      "train",
      "--dataset",
      dataset,
      "--out",
      join(outRoot, dataset),
      "--seeds",
      String(seed),
      "--resume",
    ];
    if (dataDir !== undefined) argv.push("--data-dir", dataDir);
    if (threads !== undefined) argv.push("--threads", threads);
    const code = await runCli(argv, processIO(), { signal: controller.signal });
    if (code !== 0) {
      process.stderr.write(`train-all: ${dataset} seed ${seed} stopped with exit code ${code}\n`);
      process.exitCode = code;
      break training;
    }
  }
}

process.stdout.write("\ndataset          seed  test acc  best epoch  epochs  wall\n");
for (const dataset of datasets) {
  const accs: number[] = [];
  for (const seed of seeds) {
    const dir = join(outRoot, dataset, `seed-${seed}`);
    const file = join(dir, "metrics.json");
    if (existsSync(file)) {
      const m = JSON.parse(readFileSync(file, "utf8")) as TrainMetrics;
      const acc = m.test?.accuracy ?? Number.NaN;
      accs.push(acc);
      process.stdout.write(
        `${dataset.padEnd(16)} ${String(seed).padStart(4)}  ${acc.toFixed(4)}  ${String(m.bestEpoch).padStart(10)}  ${String(m.epochs.length).padStart(6)}  ${(m.wallSeconds / 60).toFixed(1)} min\n`,
      );
    } else if (existsSync(checkpointPathOf(dir))) {
      const interim = await interimAccuracy(dataset, seed, dir);
      process.stdout.write(
        `${dataset.padEnd(16)} ${String(seed).padStart(4)}  ${interim.accuracy.toFixed(4)}  ${String(interim.bestEpoch).padStart(10)}  ${String(interim.epochs).padStart(6)}  ${(interim.wallSeconds / 60).toFixed(1)} min  interim: still training, best weights so far\n`,
      );
    }
  }
  if (accs.length > 0) {
    const mean = accs.reduce((a, b) => a + b, 0) / accs.length;
    const verdict = mean >= (targets[dataset] ?? 0) ? "meets" : "below";
    process.stdout.write(
      `${dataset.padEnd(16)} mean  ${mean.toFixed(4)}  (${accs.length} finished seeds; ${verdict} target ${targets[dataset]})\n`,
    );
  }
}

/** TEST accuracy of the best weights so far of a run that has not finished (from its checkpoint). */
async function interimAccuracy(dataset: string, seed: number, dir: string) {
  const ckpt = readCheckpoint(checkpointPathOf(dir));
  const { model, test } = await prepareTraining({ dataset, seed, data: { dataDir } });
  const weights = ckpt.best ?? ckpt.params;
  for (const [name, value] of model.params) value.set(weights.get(name)!);
  const result = test === null ? null : await evaluate(model, test);
  return {
    accuracy: result?.accuracy ?? Number.NaN,
    bestEpoch: ckpt.position.best?.epoch ?? ckpt.position.history.length,
    epochs: ckpt.position.history.length,
    wallSeconds: ckpt.position.elapsedSeconds,
  };
}
