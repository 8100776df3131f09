/**
 * How a head sweep's cost grows: time and peak memory of `tspatch sweep` (every head, z mode,
 * denoise) as pairs, sequence length, layers, heads and d_model grow one at a time from the
 * reference shape (3 layers, 8 heads, d_model 128, ff = 2·d_model, S = 25), each point against
 * (a) the FLOPs of the work ({@link sweepFlops}) and (b) ONNX Runtime's own MatMul throughput at
 * the model's GEMM shapes on this machine ({@link gemmThroughput}: a MatMul-only graph through our
 * runtime, same threads, same rows per call as the sweep's memory plan).
 *
 * Each point is a child process (`/usr/bin/time`: peak RSS = its maximum resident set) on a seeded
 * random-weight model and a seeded synthetic univariate dataset. The sweep's own time is its
 * JSON summary's `phase_seconds.sweep` (the steady state); the whole command's wall time is
 * beside it. Pairs per point are sized so that each point does a bounded amount of work (long
 * sequences get few pairs); the throughput columns do not depend on it.
 *
 * `npm run bench -- scaling [--quick] [--docs]`: --quick a smaller grid (a few minutes on an
 * idle 2-core machine); --docs writes docs/scaling.md and docs/scaling.svg / .png.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import { memoryBudget, patchedRunCost, planMemory } from "../src/cli/memory-plan.js";
import { Graph } from "../src/graph/ir.js";
import { matmul } from "../src/graph/ops/matmul.js";
import { reduceSum } from "../src/graph/ops/reduce-sum.js";
import { makeConfig, type TSTConfig } from "../src/model/config.js";
import { HookedTST } from "../src/model/hooked-tst.js";
import { saveModel } from "../src/model/model-dir.js";
import { Rng } from "../src/random/rng.js";
import { specToSvg, svgToPng } from "../src/report/render-figure.js";
import { Runtime } from "../src/runtime/session.js";
import { writeSynthetic } from "./memory.js";
import { REPO, spreadPairsCsv, THREADS } from "./setup.js";
import { minMedian } from "./torch-server.js";

type Axis = "pairs" | "seqLen" | "layers" | "heads" | "dModel";

interface Point {
  axis: Axis;
  value: number;
  config: TSTConfig;
  pairs: number;
  rows: number;
}

interface Measured extends Point {
  flops: number;
  sweepSeconds: number;
  sweepCpuSeconds: number;
  wallSeconds: number;
  peakMiB: number;
  gemmFlopsPerS: number;
  /** FLOPs per CPU second (all threads) of the MatMul graph. */
  gemmFlopsPerCpuS: number;
  batchRows: number;
}

const BASE = { layers: 3, heads: 8, dModel: 128, seqLen: 25 };

/** The grid: each axis varied alone from BASE. */
function grid(quick: boolean): { axis: Axis; values: number[] }[] {
  return quick
    ? [
        { axis: "pairs", values: [10, 100, 1000] },
        { axis: "seqLen", values: [25, 100, 400] },
        { axis: "layers", values: [3, 6] },
        { axis: "heads", values: [8, 16] },
        { axis: "dModel", values: [128, 256] },
      ]
    : [
        { axis: "pairs", values: [10, 100, 1000, 10000] },
        { axis: "seqLen", values: [25, 100, 500, 2000] },
        { axis: "layers", values: [3, 6, 12] },
        { axis: "heads", values: [8, 16] },
        { axis: "dModel", values: [128, 256, 512] },
      ];
}

/**
 * FLOPs of one patched run of head h at layer l (z mode, the engine's prefix reuse): the run starts
 * from the target's cached resid_pre and z of layer l, so layer l costs its W_O and feed-forward
 * block, every later layer a full layer, and the classifier reads the pooled stream. Counting
 * multiply-adds as 2 FLOPs, with S steps, d = d_model, f = ff, K classes:
 *
 *   W_O        2·S·d²              (z · W_Oᵀ)
 *   FFN        4·S·d·f             (linear1 and linear2)
 *   full layer 6·S·d² + 4·S²·d + 2·S·d² + 4·S·d·f   (Q, K, V; QKᵀ and P·V over all heads; W_O; FFN)
 *   run(l)     = 2·S·d² + 4·S·d·f + (L − 1 − l) · full layer + 2·d·K
 *
 * Layer norms, softmax, residual adds and biases are O(S·d) or O(S²·H) and left out (under 3 %
 * at the reference shape). A whole sweep adds one full forward (the convolutional front end and L
 * layers) per distinct row, the cache run that supplies the patch values and start points.
 */
export function patchedRunFlops(c: TSTConfig, layer: number): number {
  const { seqLen: S, dModel: d, ff: f, classes: K, layers: L } = c;
  const full = 6 * S * d * d + 4 * S * S * d + 2 * S * d * d + 4 * S * d * f;
  return 2 * S * d * d + 4 * S * d * f + (L - 1 - layer) * full + 2 * d * K;
}

/** One full forward of a row: the conv front end (2·S·C_in·C_out·k per conv) and every layer. */
export function fullForwardFlops(c: TSTConfig): number {
  const { seqLen: S, dModel: d, ff: f, classes: K, layers: L } = c;
  const widths = [c.channels, ...c.convChannels];
  let conv = 0;
  for (let i = 0; i < 3; i++) conv += 2 * S * widths[i] * widths[i + 1] * c.kernels[i];
  const full = 6 * S * d * d + 4 * S * S * d + 2 * S * d * d + 4 * S * d * f;
  return conv + L * full + 2 * d * K;
}

/** The sweep's FLOPs: every (pair, layer, head) patched run plus one cache run per distinct row. */
export function sweepFlops(c: TSTConfig, pairs: number, distinctRows: number): number {
  let perPair = 0;
  for (let l = 0; l < c.layers; l++) perPair += c.heads * patchedRunFlops(c, l);
  return pairs * perPair + distinctRows * fullForwardFlops(c);
}

/**
 * ONNX Runtime's MatMul throughput (FLOP/s) at one encoder layer's GEMM shapes for `rows` rows a
 * call: Q/K/V [rows·S, d]·[d, 3d], QKᵀ [rows·H, S, d_h]·[rows·H, d_h, S], P·V [rows·H, S, S]·
 * [rows·H, S, d_h], W_O [rows·S, d]·[d, d], linear1 [rows·S, d]·[d, f], linear2 [rows·S, f]·[f, d].
 * A MatMul-only graph (each product summed to a scalar, so fetching costs nothing) through our
 * Runtime; best of `repeats` timed runs after a warm-up, per wall second and per CPU second.
 */
export async function gemmThroughput(
  c: TSTConfig,
  rows: number,
  runtime: Runtime,
  repeats = 5,
): Promise<{ wall: number; cpu: number }> {
  const { seqLen: S, dModel: d, ff: f, heads: H } = c;
  const dh = d / H;
  const m = rows * S;
  const shapes: [number[], number[]][] = [
    [
      [m, d],
      [d, 3 * d],
    ],
    [
      [rows * H, S, dh],
      [rows * H, dh, S],
    ],
    [
      [rows * H, S, S],
      [rows * H, S, dh],
    ],
    [
      [m, d],
      [d, d],
    ],
    [
      [m, d],
      [d, f],
    ],
    [
      [m, f],
      [f, d],
    ],
  ];
  const g = new Graph();
  const feeds: Record<string, { data: Float32Array; dims: number[] }> = {};
  const rng = new Rng(0, 1);
  let flops = 0;
  shapes.forEach(([a, b], i) => {
    const product = matmul(g.input(`a${i}`, a), g.input(`b${i}`, b));
    g.output(
      `y${i}`,
      reduceSum(
        product,
        product.shape.map((_, k) => k),
      ),
    );
    for (const [name, dims] of [
      [`a${i}`, a],
      [`b${i}`, b],
    ] as const) {
      const data = new Float32Array(dims.reduce((p, q) => p * q, 1));
      for (let k = 0; k < data.length; k++) data[k] = rng.normal();
      feeds[name] = { data, dims };
    }
    flops += 2 * a.reduce((p, q) => p * q, 1) * b[b.length - 1];
  });
  const session = await runtime.compile(
    g,
    shapes.map((_, i) => `y${i}`),
  );
  await session.run(feeds);
  const times: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await session.run(feeds);
    const used = process.cpuUsage(c0);
    times.push((performance.now() - t0) / 1000);
    cpu.push((used.user + used.system) / 1e6);
  }
  return { wall: flops / minMedian(times).min, cpu: flops / minMedian(cpu).min };
}

/** Pairs for a point: the axis value on the pairs axis, else as many as keep the work near `budget` FLOPs. */
function pairsFor(axis: Axis, value: number, c: TSTConfig, budget: number): number {
  if (axis === "pairs") return value;
  return Math.max(2, Math.min(1000, Math.round(budget / sweepFlops(c, 1, 0))));
}

export async function benchScaling(flags: readonly string[] = []): Promise<Measured[]> {
  const quick = flags.includes("--quick");
  // Work per point (FLOPs): enough that the fixed part (sessions, the second half's worker) is small.
  const budget = quick ? 4e9 : 1e11;
  const work = mkdtempSync(join(tmpdir(), "tspatch-scaling-"));
  const runtime = new Runtime({ threads: THREADS });
  const results: Measured[] = [];
  process.stdout.write(
    `head sweep (z, denoise), ${THREADS} threads, ${quick ? "quick" : "full"} grid; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(", ")}\n${TABLE_HEADER}\n${TABLE_RULE}\n`,
  );
  try {
    for (const { axis, values } of grid(quick)) {
      for (const value of values) {
        const shape = axis === "pairs" ? BASE : { ...BASE, [axis]: value };
        const config = makeConfig({
          channels: 1,
          seqLen: shape.seqLen,
          classes: 2,
          dModel: shape.dModel,
          heads: shape.heads,
          layers: shape.layers,
          ff: 2 * shape.dModel,
        });
        const pairs = pairsFor(axis, value, config, budget);
        const rows = axis === "pairs" ? 200 : Math.min(64, 2 * pairs);
        const point: Point = { axis, value, config, pairs, rows };
        const measured = await measure(point, work, runtime);
        results.push(measured);
        process.stdout.write(`${tableRow(measured)}\n`);
      }
    }
  } finally {
    await runtime.release();
    rmSync(work, { recursive: true, force: true });
  }
  if (flags.includes("--docs")) await writeDocs(results, quick);
  return results;
}

async function measure(p: Point, work: string, runtime: Runtime): Promise<Measured> {
  const dir = join(work, `${p.axis}-${p.value}`);
  mkdirSync(dir, { recursive: true });
  const data = writeSynthetic(dir, p.config.seqLen, p.rows, 7);
  const modelDir = join(dir, "model");
  const labelMap = { kind: "dense" as const, classes: ["a", "b"], outputs: 2 };
  const model = HookedTST.fromConfig(p.config, 0, { labelMap });
  saveModel(model, modelDir);
  const { csv, distinct } = spreadPairsCsv(p.pairs, p.rows);
  const pairsFile = join(dir, "pairs.csv");
  writeFileSync(pairsFile, csv);
  const argv = ["sweep", "--model", modelDir, "--data", data, "--pairs-file", pairsFile];
  const cli = join(REPO, "bin/tspatch.js");
  const run = () => {
    const start = performance.now();
    const r = spawnSync(
      "/usr/bin/time",
      ["-f", "TSPATCH_PEAK_KB %M", process.execPath, cli, ...argv, "--out", join(dir, "e.csv"), "--quiet"],
      {
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, TSPATCH_CACHE: join(work, "cache") },
      },
    );
    if (r.status !== 0) throw new Error(`bench scaling: ${p.axis}=${p.value} failed:\n${r.stderr}`);
    const summary = JSON.parse(r.stdout) as {
      phase_seconds: { sweep: number };
      phase_cpu_seconds: { sweep: number };
    };
    return {
      wall: (performance.now() - start) / 1000,
      sweep: summary.phase_seconds.sweep,
      sweepCpu: summary.phase_cpu_seconds.sweep,
      peak: Number(/TSPATCH_PEAK_KB (\d+)/.exec(r.stderr)?.[1] ?? Number.NaN) / 1024,
    };
  };
  // The rows per runtime call the sweep's memory plan chose (same default budget in this process).
  const batchRows = planMemory(model, patchedRunCost(model, false), memoryBudget(undefined), 256).rows;
  // The MatMul reference right before and right after the sweep, averaged: on a shared VM the
  // processor's speed drifts, and one measurement beside a long sweep moved the ratio by 15 points.
  const before = await gemmThroughput(p.config, batchRows, runtime);
  const measured = run();
  const after = await gemmThroughput(p.config, batchRows, runtime);
  const gemm = { wall: (before.wall + after.wall) / 2, cpu: (before.cpu + after.cpu) / 2 };
  return {
    ...p,
    flops: sweepFlops(p.config, p.pairs, distinct),
    sweepSeconds: measured.sweep,
    sweepCpuSeconds: measured.sweepCpu,
    wallSeconds: measured.wall,
    peakMiB: measured.peak,
    gemmFlopsPerS: gemm.wall,
    gemmFlopsPerCpuS: gemm.cpu,
    batchRows,
  };
}

const TABLE_HEADER =
  "| axis | value | pairs | patched runs | GFLOP | sweep s | sweep CPU s | command s | sweep GFLOP/s | MatMul GFLOP/s | sweep ÷ MatMul (wall) | sweep ÷ MatMul (CPU) | peak RSS MiB |";
const TABLE_RULE = "|---|---|---|---|---|---|---|---|---|---|---|---|---|";

function tableRow(m: Measured): string {
  const runs = m.pairs * m.config.layers * m.config.heads;
  const achieved = m.flops / m.sweepSeconds;
  const perCpu = m.flops / m.sweepCpuSeconds;
  return `| ${m.axis} | ${m.value} | ${m.pairs} | ${runs} | ${(m.flops / 1e9).toFixed(1)} | ${m.sweepSeconds.toFixed(2)} | ${m.sweepCpuSeconds.toFixed(2)} | ${m.wallSeconds.toFixed(2)} | ${(achieved / 1e9).toFixed(1)} | ${(m.gemmFlopsPerS / 1e9).toFixed(1)} | ${((100 * achieved) / m.gemmFlopsPerS).toFixed(0)} % | ${((100 * perCpu) / m.gemmFlopsPerCpuS).toFixed(0)} % | ${m.peakMiB.toFixed(0)} |`;
}

async function writeDocs(results: readonly Measured[], quick: boolean): Promise<void> {
  const docs = join(REPO, "docs");
  const table = [TABLE_HEADER, TABLE_RULE, ...results.map(tableRow)].join("\n");
  writeFileSync(
    join(docs, "scaling.md"),
    `# How a head sweep's cost grows\n\nGenerated by \`npm run bench -- scaling${quick ? " --quick" : ""} --docs\` (bench/scaling.ts) on ${THREADS} threads, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(
        ", ",
      )} when it finished. Each axis varies alone from 3 layers, 8 heads, d_model 128, ff 2·d_model, S 25.\n\n${table}\n\n![scaling](scaling.svg)\n`,
  );
  const values = results.flatMap((m) => [
    {
      axis: m.axis,
      value: m.value,
      series: "sweep",
      metric: "GFLOP per CPU second",
      y: m.flops / m.sweepCpuSeconds / 1e9,
    },
    {
      axis: m.axis,
      value: m.value,
      series: "ORT MatMul, same shapes",
      metric: "GFLOP per CPU second",
      y: m.gemmFlopsPerCpuS / 1e9,
    },
    { axis: m.axis, value: m.value, series: "sweep", metric: "peak RSS (MiB)", y: m.peakMiB },
  ]);
  const spec: TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    data: { values },
    facet: {
      row: { field: "metric", type: "nominal", title: null },
      column: {
        field: "axis",
        type: "nominal",
        title: null,
        sort: ["pairs", "seqLen", "layers", "heads", "dModel"],
      },
    },
    spec: {
      width: 130,
      height: 110,
      mark: { type: "line", point: true },
      encoding: {
        x: { field: "value", type: "quantitative", scale: { type: "log" }, title: "value" },
        y: { field: "y", type: "quantitative", title: null },
        color: { field: "series", type: "nominal", title: null, legend: { labelLimit: 260 } },
      },
    },
    resolve: { scale: { x: "independent", y: "independent" } },
    config: { font: "DejaVu Sans" },
  };
  const svg = await specToSvg(spec);
  writeFileSync(join(docs, "scaling.svg"), svg);
  writeFileSync(join(docs, "scaling.png"), svgToPng(svg));
}
