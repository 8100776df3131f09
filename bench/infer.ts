/**
 * Inference throughput (samples/s at batch 256) of the three reference checkpoints on their TEST
 * splits: our engine (HookedTST.run → ONNX Runtime) against PyTorch on the same machine in the
 * same run (scripts/bench/torch_infer.py through /usr/bin/python3, when torch is installed).
 * Both: best of `repeats` full passes after one warm-up pass, 2 threads. PyTorch runs before and
 * after ours and keeps its better figure, so a change in machine load during the run can only
 * make our ratio smaller, not larger.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { LabelMap } from "../src/data/labels.js";
import { loadDataset, withLabelMap } from "../src/data/registry.js";
import { loadModel } from "../src/model/model-dir.js";
import { modelInput } from "../src/model/model-input.js";
import { Runtime } from "../src/runtime/session.js";

const REPO = fileURLToPath(new URL("../", import.meta.url));
const SHARED = process.env.TSPATCH_SHARED ?? fileURLToPath(new URL("../../shared/", import.meta.url));
const CASES = [
  {
    name: "JapaneseVowels",
    pth: "TST_japanesevowels.pth",
    test: "datasets/JapaneseVowels/JapaneseVowels_eq_TEST.ts",
  },
  { name: "PenDigits", pth: "TST_pendigits.pth", test: "datasets/PenDigits/PenDigits_TEST.ts" },
  { name: "LSST", pth: "TST_lsst.pth", test: "datasets/LSST/LSST_TEST.ts" },
];
const BATCH = 256;
const REPEATS = 5;
const THREADS = 2;

interface Figure {
  n: number;
  samplesPerS: number;
  accuracy: number;
}

export async function benchInfer(): Promise<
  Record<string, { ours: Figure; torch?: Figure; ratio?: number }>
> {
  const torchBefore = await torchFigures();
  const runtime = new Runtime({ threads: THREADS });
  const results: Record<string, { ours: Figure; torch?: Figure; ratio?: number }> = {};
  const ours = new Map<string, Figure>();
  for (const c of CASES) {
    const data = await loadDataset(`${SHARED}${c.test}`);
    const { model } = loadModel(`${SHARED}models/reference/${c.pth}`, { data, runtime });
    const { x, mask } = modelInput(model, data);
    const K = model.config.classes;
    const warm = await model.run(x, { mask, chunkSize: BATCH });
    let correct = 0;
    const labels = withLabelMap(data, model.labelMap as LabelMap).labelIndex;
    for (let i = 0; i < data.cases; i++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (warm.logits[i * K + k] > warm.logits[i * K + best]) best = k;
      if (best === labels[i]) correct++;
    }
    let bestSeconds = Number.POSITIVE_INFINITY;
    for (let r = 0; r < REPEATS; r++) {
      const t0 = performance.now();
      await model.run(x, { mask, chunkSize: BATCH });
      bestSeconds = Math.min(bestSeconds, (performance.now() - t0) / 1000);
    }
    ours.set(c.name, {
      n: data.cases,
      samplesPerS: data.cases / bestSeconds,
      accuracy: correct / data.cases,
    });
  }
  await runtime.release();
  const torchAfter = torchBefore === undefined ? undefined : await torchFigures();
  for (const c of CASES) {
    const mine = ours.get(c.name) as Figure;
    const candidates = [torchBefore?.[c.name], torchAfter?.[c.name]].filter(
      (f): f is Figure => f !== undefined,
    );
    const t = candidates.sort((a, b) => b.samplesPerS - a.samplesPerS)[0];
    results[c.name] = {
      ours: mine,
      torch: t,
      ratio: t === undefined ? undefined : mine.samplesPerS / t.samplesPerS,
    };
  }
  const line = (name: string) => {
    const r = results[name];
    const theirs = r.torch === undefined ? "PyTorch n/a" : `PyTorch ${r.torch.samplesPerS.toFixed(0)}/s`;
    const ratio = r.ratio === undefined ? "" : `  ratio ${r.ratio.toFixed(2)}x`;
    return `${name.padEnd(15)} n=${String(r.ours.n).padEnd(5)} ours ${r.ours.samplesPerS.toFixed(0)}/s (acc ${r.ours.accuracy.toFixed(4)})  ${theirs}${ratio}`;
  };
  process.stdout.write(
    `inference, batch ${BATCH}, ${THREADS} threads, best of ${REPEATS} passes over TEST\n`,
  );
  for (const c of CASES) process.stdout.write(`${line(c.name)}\n`);
  return results;
}

async function torchFigures(): Promise<Record<string, Figure> | undefined> {
  const script = `${REPO}scripts/bench/torch_infer.py`;
  if (!existsSync("/usr/bin/python3") || !existsSync(script)) return undefined;
  try {
    const { stdout } = await promisify(execFile)(
      "/usr/bin/python3",
      [script, "--threads", String(THREADS), "--batch", String(BATCH), "--repeats", String(REPEATS)],
      { env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE" }, maxBuffer: 1 << 20 },
    );
    const parsed = JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as {
      results: Record<string, { n: number; samples_per_s: number; accuracy: number }>;
    };
    return Object.fromEntries(
      Object.entries(parsed.results).map(([k, v]) => [
        k,
        { n: v.n, samplesPerS: v.samples_per_s, accuracy: v.accuracy },
      ]),
    );
  } catch (error) {
    process.stdout.write(`(PyTorch baseline unavailable: ${(error as Error).message.split("\n")[0]})\n`);
    return undefined;
  }
}
