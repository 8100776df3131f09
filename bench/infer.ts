/**
 * Inference throughput (samples/s at batch 256) of the three reference checkpoints on their TEST
 * splits: our engine (HookedTST.run → ONNX Runtime) against PyTorch on the same machine in the
 * same run (scripts/bench/torch_infer.py --serve through /usr/bin/python3, when torch is
 * installed). Both use 2 threads and do not spin while idle (PyTorch OMP_WAIT_POLICY=PASSIVE, our
 * runtime's default). After one warm-up pass each, ROUNDS rounds of one full pass per side are
 * interleaved (the order alternates per round), so both sides see the same machine load; the
 * figures are the min and the median over rounds, and the ratios compare min with min and median
 * with median. Our CPU time (all threads) per pass is printed too.
 */
import { loadDataset } from "../src/data/registry.js";
import { loadModel } from "../src/model/model-dir.js";
import { prepareInputs } from "../src/model/prepare-inputs.js";
import { Runtime } from "../src/runtime/session.js";
import { REFERENCE_CASES, REPO, SHARED, THREADS } from "./setup.js";
import { minMedian, TorchServer } from "./torch-server.js";

const BATCH = 256;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

interface Side {
  /** Samples/s of the best and of the median pass. */
  best: number;
  median: number;
}

export interface InferBenchRow {
  n: number;
  accuracy: number;
  ours: Side & { cpuMsPerPass: number };
  torch?: Side & { accuracy: number };
  /** ours / PyTorch samples/s: best vs best, median vs median. */
  ratioBest?: number;
  ratioMedian?: number;
}

export async function benchInfer(): Promise<Record<string, InferBenchRow>> {
  const torch = await TorchServer.start(`${REPO}scripts/bench/torch_infer.py`, [
    "--threads",
    String(THREADS),
    "--batch",
    String(BATCH),
  ]);
  const torchReady = (torch?.ready.ready ?? {}) as Record<string, { n: number; accuracy: number }>;
  // BENCH_SPINNING=1: ONNX Runtime's default busy-waiting pool (to compare on a quiet machine).
  const runtime = new Runtime({ threads: THREADS, spinning: process.env.BENCH_SPINNING === "1" });
  const cases = [];
  for (const c of REFERENCE_CASES) {
    const data = await loadDataset(`${SHARED}${c.test}`);
    const { model } = loadModel(`${SHARED}models/reference/${c.pth}`, { data, runtime });
    const { x, mask, labelIndex: labels } = prepareInputs(model, data);
    const K = model.config.classes;
    const warm = await model.run(x, { mask, chunkSize: BATCH });
    let correct = 0;
    for (let i = 0; i < data.cases; i++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (warm.logits[i * K + k] > warm.logits[i * K + best]) best = k;
      if (best === labels[i]) correct++;
    }
    const ours = async () => {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await model.run(x, { mask, chunkSize: BATCH });
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      return { seconds, cpuMs: (cpu.user + cpu.system) / 1000 };
    };
    cases.push({ ...c, n: data.cases, accuracy: correct / data.cases, ours });
  }

  const results: Record<string, InferBenchRow> = {};
  for (const c of cases) {
    const mine: number[] = [];
    const cpu: number[] = [];
    const theirs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const runOurs = async () => {
        const t = await c.ours();
        mine.push(t.seconds);
        cpu.push(t.cpuMs);
      };
      const runTorch = async () => {
        if (torch !== undefined) theirs.push((await torch.request<{ seconds: number }>(c.name)).seconds);
      };
      if (r % 2 === 0) {
        await runTorch();
        await runOurs();
      } else {
        await runOurs();
        await runTorch();
      }
    }
    const o = minMedian(mine);
    const row: InferBenchRow = {
      n: c.n,
      accuracy: c.accuracy,
      ours: { best: c.n / o.min, median: c.n / o.median, cpuMsPerPass: minMedian(cpu).median },
    };
    if (theirs.length > 0) {
      const t = minMedian(theirs);
      row.torch = {
        best: c.n / t.min,
        median: c.n / t.median,
        accuracy: torchReady[c.name]?.accuracy ?? NaN,
      };
      row.ratioBest = row.ours.best / row.torch.best;
      row.ratioMedian = row.ours.median / row.torch.median;
    }
    results[c.name] = row;
  }
  await torch?.stop();
  await runtime.release();

  process.stdout.write(
    `inference, batch ${BATCH}, ${THREADS} threads, ${ROUNDS} interleaved rounds of one pass over TEST per side; samples/s best / median\n`,
  );
  for (const [name, r] of Object.entries(results)) {
    const ours = `ours ${r.ours.best.toFixed(0)} / ${r.ours.median.toFixed(0)} (acc ${r.accuracy.toFixed(4)}, cpu ${r.ours.cpuMsPerPass.toFixed(0)} ms/pass)`;
    const theirs =
      r.torch === undefined
        ? "PyTorch n/a"
        : `PyTorch ${r.torch.best.toFixed(0)} / ${r.torch.median.toFixed(0)}  ratio ${r.ratioBest!.toFixed(2)}x / ${r.ratioMedian!.toFixed(2)}x`;
    process.stdout.write(`${name.padEnd(15)} n=${String(r.n).padEnd(5)} ${ours}  ${theirs}\n`);
  }
  return results;
}
