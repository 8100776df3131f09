/**
 * Patching throughput: a 24-head sweep (true per-head z patching, one direction = denoise) over the
 * study's pairs (../shared/models/reference/study_pairs.csv: JapaneseVowels 9, PenDigits 35, LSST 37)
 * of the three reference checkpoints. Ours: `sweep` (batched, prefix reuse, ONNX Runtime) against,
 * in the same run, scripts/bench/torch_patch.py: (a) the study's loop (per head one clean run + one
 * hooked run at batch 1, PyTorch) and (b) batched PyTorch true per-head patching with prefix reuse.
 * Ours: one sweep per round after a warm-up sweep (sessions compiled), 2 threads, including the
 * cached source/target runs and the metrics. PyTorch runs as a server (its --serve mode) so that
 * the sides interleave on the shared machine: ROUNDS rounds of one batched PyTorch pass and one
 * sweep of ours (order alternating), and one pass of the slow study loop in the middle round.
 * Figures are best / median over rounds; ratios compare best with best and median with median
 * (the study loop's single pass stands for both). Nothing is asserted.
 */
import { readFileSync } from "node:fs";
import { loadDataset } from "../src/data/registry.js";
import { loadModel } from "../src/model/model-dir.js";
import { predict } from "../src/patching/build-pairs.js";
import { modelInputs } from "../src/patching/inputs.js";
import { pairsFromList } from "../src/patching/pairs.js";
import { presetComponents } from "../src/patching/presets.js";
import { sweep } from "../src/patching/sweep.js";
import { Runtime } from "../src/runtime/session.js";
import { REFERENCE_CASES, REPO, SHARED, THREADS } from "./setup.js";
import { minMedian, TorchServer } from "./torch-server.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

export interface PatchBenchRow {
  pairs: number;
  /** Pairs/s, best and median round. */
  oursPairsPerS: number;
  oursMedianPairsPerS: number;
  studyLoopPairsPerS?: number;
  batchedTorchPairsPerS?: number;
  batchedTorchMedianPairsPerS?: number;
  vsStudyLoop?: number;
  vsStudyLoopMedian?: number;
  vsBatchedTorch?: number;
  vsBatchedTorchMedian?: number;
}

export async function benchPatch(): Promise<Record<string, PatchBenchRow>> {
  const torch = await TorchServer.start(`${REPO}scripts/bench/torch_patch.py`, [
    "--threads",
    String(THREADS),
  ]);
  // BENCH_SPINNING=1: ONNX Runtime's default busy-waiting pool (to compare on a quiet machine).
  const runtime = new Runtime({ threads: THREADS, spinning: process.env.BENCH_SPINNING === "1" });
  const studyPairs = readFileSync(`${SHARED}models/reference/study_pairs.csv`, "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((line) => line.split(","));
  const results: Record<string, PatchBenchRow> = {};
  for (const c of REFERENCE_CASES) {
    const data = await loadDataset(`${SHARED}${c.test}`);
    const { model } = loadModel(`${SHARED}models/reference/${c.pth}`, { data, runtime });
    const inputs = modelInputs(model, data);
    const list = studyPairs
      .filter((r) => r[0] === c.name)
      .map((r) => ({ source: Number(r[1]), target: Number(r[2]) }));
    const predicted = await predict(model, inputs.x, inputs.mask);
    const { pairs } = pairsFromList(list, { trueClass: inputs.trueClass, predicted });
    const components = presetComponents(model.config, "heads", "z");
    const options = { components, pairsPerBatch: 64, batchRows: 512 };
    await sweep(model, inputs, pairs, options); // warm-up: compiles the sessions
    const mine: number[] = [];
    const batched: number[] = [];
    let study: number | undefined;
    for (let r = 0; r < ROUNDS; r++) {
      const runOurs = async () => {
        const t0 = performance.now();
        const result = await sweep(model, inputs, pairs, options);
        mine.push((performance.now() - t0) / 1000);
        if (result.rows.length !== pairs.length * components.length)
          throw new Error("bench: wrong row count");
      };
      const runTorch = async () => {
        if (torch === undefined) return;
        batched.push((await torch.request<{ seconds: number }>(`batched ${c.name}`)).seconds);
        if (r === ROUNDS >> 1) study = (await torch.request<{ seconds: number }>(`study ${c.name}`)).seconds;
      };
      if (r % 2 === 0) {
        await runTorch();
        await runOurs();
      } else {
        await runOurs();
        await runTorch();
      }
    }
    const n = pairs.length;
    const o = minMedian(mine);
    const row: PatchBenchRow = { pairs: n, oursPairsPerS: n / o.min, oursMedianPairsPerS: n / o.median };
    if (study !== undefined && batched.length > 0) {
      const b = minMedian(batched);
      row.studyLoopPairsPerS = n / study;
      row.batchedTorchPairsPerS = n / b.min;
      row.batchedTorchMedianPairsPerS = n / b.median;
      row.vsStudyLoop = row.oursPairsPerS / row.studyLoopPairsPerS;
      row.vsStudyLoopMedian = row.oursMedianPairsPerS / row.studyLoopPairsPerS;
      row.vsBatchedTorch = row.oursPairsPerS / row.batchedTorchPairsPerS;
      row.vsBatchedTorchMedian = row.oursMedianPairsPerS / row.batchedTorchMedianPairsPerS;
    }
    results[c.name] = row;
  }
  await torch?.stop();
  await runtime.release();
  process.stdout.write(
    `24-head z sweep per pair (denoise), study pairs, ${THREADS} threads, ${ROUNDS} interleaved rounds; pairs/s best / median\n`,
  );
  for (const [name, r] of Object.entries(results)) {
    const f = (x: number | undefined, d = 1) => (x === undefined ? "n/a" : x.toFixed(d));
    process.stdout.write(
      `${name.padEnd(15)} pairs=${String(r.pairs).padEnd(3)} ours ${f(r.oursPairsPerS)} / ${f(r.oursMedianPairsPerS)}  study loop ${f(r.studyLoopPairsPerS, 2)}  batched PyTorch ${f(r.batchedTorchPairsPerS)} / ${f(r.batchedTorchMedianPairsPerS)}` +
        (r.vsStudyLoop === undefined
          ? "\n"
          : `  ${f(r.vsStudyLoop)}x / ${f(r.vsStudyLoopMedian)}x vs study loop (target 20x), ${f(r.vsBatchedTorch, 2)}x / ${f(r.vsBatchedTorchMedian, 2)}x vs batched PyTorch (target 1.5x)\n`),
    );
  }
  process.stdout.write(
    `peak RSS (this process): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB\n`,
  );
  return results;
}
