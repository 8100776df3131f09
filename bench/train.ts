/**
 * Training speed at batch 32: step time (median) and the time of one full epoch over TRAIN, for
 * the reference TST on the three study datasets, ours (one ONNX Runtime call of the
 * forward+backward graph per step + RAdam in TypeScript, through the real `trainLoop`) against
 * PyTorch 1.13 (scripts/bench/torch_train.py through /usr/bin/python3), in the same run, 2 threads.
 * Same data as the PyTorch script: JapaneseVowels_eq (25 steps), PenDigits, LSST; z-scored; no
 * validation split (an epoch is every TRAIN case once).
 *
 * A per-part breakdown of our step (dropout masks, runtime call, optimiser, rest) shows what
 * dominates. The machine may be shared: PyTorch runs before and after ours and its faster run
 * counts (per dataset), so a load spike does not flatter us.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";
import { fitPreprocess } from "../src/data/preprocess.js";
import { loadDataset } from "../src/data/registry.js";
import { makeConfig } from "../src/model/config.js";
import { HookedTST } from "../src/model/hooked-tst.js";
import { paramShapes } from "../src/model/param-names.js";
import { Rng } from "../src/random/rng.js";
import { Runtime } from "../src/runtime/session.js";
import { gatherBatch } from "../src/train/batches.js";
import { trainLoop } from "../src/train/loop.js";
import { RAdam } from "../src/train/radam.js";
import { trainData } from "../src/train/train-model.js";
import { drawDropoutMasks, trainStep } from "../src/train/tst-step.js";
import { REPO, SHARED, THREADS } from "./setup.js";

const CASES = [
  { name: "JapaneseVowels", train: "datasets/JapaneseVowels/JapaneseVowels_eq_TRAIN.ts" },
  { name: "PenDigits", train: "datasets/PenDigits/PenDigits_TRAIN.ts" },
  { name: "LSST", train: "datasets/LSST/LSST_TRAIN.ts" },
];
const BATCH = 32;
const PROFILE_STEPS = 20;

interface Figure {
  stepMs: number;
  epochS: number;
}
interface Breakdown {
  masksMs: number;
  runtimeMs: number;
  optimizerMs: number;
  otherMs: number;
}

export async function benchTrain(): Promise<
  Record<
    string,
    { ours: Figure; torch?: Figure; stepRatio?: number; epochRatio?: number; breakdown: Breakdown }
  >
> {
  const before = await torchFigures();
  const runtime = new Runtime({ threads: THREADS });
  const results: Awaited<ReturnType<typeof benchTrain>> = {};
  for (const c of CASES) {
    const train = await loadDataset(`${SHARED}${c.train}`);
    const spec = fitPreprocess(train, { normalize: "zscore" });
    const config = makeConfig({
      channels: train.channels,
      seqLen: spec.padLength,
      classes: train.labelMap.outputs,
    });
    const model = HookedTST.fromConfig(config, 0, { preprocess: spec, labelMap: train.labelMap }, runtime);
    const data = trainData(model, train);
    const masked = data.valid.some((v) => v === 0);
    // Warm-up: compile the training session (cached per runtime) and run one step.
    const first = gatherBatch(
      data,
      Int32Array.from({ length: BATCH }, (_, i) => i),
    );
    await trainStep(model, first, drawDropoutMasks(model, BATCH, new Rng(0)), masked);

    const breakdown = await profileSteps(model, data, masked);
    const stamps: number[] = [];
    const t0 = performance.now();
    await trainLoop(model, data, {
      epochs: 1,
      valFraction: 0,
      batchSize: BATCH,
      onProgress: () => stamps.push(performance.now()),
    });
    const epochS = (performance.now() - t0) / 1000;
    const steps = stamps.map((t, i) => t - (i === 0 ? t0 : stamps[i - 1]));
    results[c.name] = { ours: { stepMs: median(steps), epochS }, breakdown };
  }
  await runtime.release();
  const after = await torchFigures();
  for (const c of CASES) {
    const runs = [before?.[c.name], after?.[c.name]].filter((f): f is Figure => f !== undefined);
    if (runs.length === 0) continue;
    const t = {
      stepMs: Math.min(...runs.map((f) => f.stepMs)),
      epochS: Math.min(...runs.map((f) => f.epochS)),
    };
    const r = results[c.name];
    Object.assign(r, { torch: t, stepRatio: t.stepMs / r.ours.stepMs, epochRatio: t.epochS / r.ours.epochS });
  }
  process.stdout.write(
    `training, batch ${BATCH}, ${THREADS} threads, one epoch over TRAIN; PyTorch = faster of a run before and after ours (ratio = PyTorch time / our time; > 1 = we are faster)\n`,
  );
  for (const c of CASES) {
    const r = results[c.name];
    const theirs =
      r.torch === undefined
        ? "PyTorch n/a"
        : `PyTorch step ${r.torch.stepMs.toFixed(1)} ms epoch ${r.torch.epochS.toFixed(2)} s  ratio step ${r.stepRatio?.toFixed(2)}x epoch ${r.epochRatio?.toFixed(2)}x`;
    const b = r.breakdown;
    process.stdout.write(
      `${c.name.padEnd(15)} ours step ${r.ours.stepMs.toFixed(1)} ms epoch ${r.ours.epochS.toFixed(2)} s  ${theirs}\n` +
        `${"".padEnd(15)} our step: runtime call ${b.runtimeMs.toFixed(1)} ms, dropout masks ${b.masksMs.toFixed(1)} ms, RAdam ${b.optimizerMs.toFixed(1)} ms, batch/BN/metrics ${b.otherMs.toFixed(1)} ms\n`,
    );
  }
  return results;
}

/** Mean time per part of a training step over PROFILE_STEPS steps (the loop's parts, timed apart). */
async function profileSteps(
  model: HookedTST,
  data: ReturnType<typeof trainData>,
  masked: boolean,
): Promise<Breakdown> {
  const params = new Map([...model.params].map(([k, v]) => [k, v.slice()]));
  const trainable = new Map(
    paramShapes(model.config)
      .filter((p) => p.trainable)
      .map((p) => [p.name, model.params.get(p.name)!]),
  );
  const optimizer = new RAdam(trainable, { lr: 1e-3, weightDecay: 1e-4 });
  const sum = { masksMs: 0, runtimeMs: 0, optimizerMs: 0, otherMs: 0 };
  for (let s = 0; s < PROFILE_STEPS; s++) {
    const a = performance.now();
    const start = (s * BATCH) % Math.max(1, data.cases - BATCH);
    const batch = gatherBatch(
      data,
      Int32Array.from({ length: BATCH }, (_, i) => start + i),
    );
    const b = performance.now();
    const masks = drawDropoutMasks(model, BATCH, new Rng(0, s));
    const c = performance.now();
    const out = await trainStep(model, batch, masks, masked);
    const d = performance.now();
    optimizer.step(out.grads);
    const e = performance.now();
    sum.otherMs += b - a;
    sum.masksMs += c - b;
    sum.runtimeMs += d - c;
    sum.optimizerMs += e - d;
  }
  // Leave the model as it was, so the timed epoch starts from the initial weights.
  for (const [k, v] of params) model.params.get(k)!.set(v);
  return {
    masksMs: sum.masksMs / PROFILE_STEPS,
    runtimeMs: sum.runtimeMs / PROFILE_STEPS,
    optimizerMs: sum.optimizerMs / PROFILE_STEPS,
    otherMs: sum.otherMs / PROFILE_STEPS,
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function torchFigures(): Promise<Record<string, Figure> | undefined> {
  const script = `${REPO}scripts/bench/torch_train.py`;
  if (!existsSync("/usr/bin/python3") || !existsSync(script)) return undefined;
  try {
    const { stdout } = await promisify(execFile)(
      "/usr/bin/python3",
      [script, "--threads", String(THREADS), "--batch", String(BATCH), "--epochs", "1"],
      { env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE" }, maxBuffer: 1 << 20 },
    );
    const parsed = JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as {
      results: Record<string, { step_ms_median: number; epoch_s: number }>;
    };
    return Object.fromEntries(
      Object.entries(parsed.results).map(([k, v]) => [k, { stepMs: v.step_ms_median, epochS: v.epoch_s }]),
    );
  } catch (error) {
    process.stdout.write(`(PyTorch baseline unavailable: ${(error as Error).message.split("\n")[0]})\n`);
    return undefined;
  }
}
