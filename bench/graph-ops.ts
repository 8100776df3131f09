/**
 * Design measurements for src/graph (run: `node --import tsx bench/graph-ops.ts`).
 *
 * 1. conv1d: the IR builds it as im2col from primitives (pad + k slices +
 *    concat + MatMul). The alternative is one ONNX Conv between two
 *    Transposes (time-major → channel-major and back), with its own VJP. Both run
 *    here on the TST embedding stack (C→32 k5, 32→64 k3, 64→128 k3, ReLU
 *    between) at batch 256 × S 36, forward and forward + weight gradients.
 * 2. softmax: the IR's Softmax raises -Infinity to the lowest float32 first
 *    (one Max) so fully masked rows give no NaN; measured against a bare ONNX
 *    Softmax and against an exact guard after it (ReduceMax, Equal, Where) on
 *    an attention-pattern-sized tensor [256, 8, 36, 36].
 *
 * 3. the weight gradient of a linear layer: one Gemm over all rows (what
 *    MatMul's VJP emits) against a batched MatMul + ReduceSum.
 * 4. layerNorm: one ONNX LayerNormalization (what the IR emits) against the
 *    composition from primitives.
 *
 * Each figure is the CPU time of one run (user + system, ms) with one
 * intra-op thread: the work done, robust to other processes competing for
 * the cores (wall time on a shared machine was too noisy to rank variants).
 * Per-run CPU times are bimodal under load (a second mode ~3× the first, in
 * every variant alike), so the minimum is the figure to compare; medians are
 * printed too. Nothing is asserted.
 */
import onnxProto from "onnx-proto";
import ort from "onnxruntime-node";
import { grad } from "../src/graph/autodiff.js";
import { Graph, type Value } from "../src/graph/ir.js";
import { toOnnx } from "../src/graph/onnx.js";
import {
  add,
  contractLeading,
  conv,
  conv1d,
  div,
  layerNorm,
  matmul,
  mul,
  reduceMean,
  reduceSum,
  relu,
  softmax,
  sqrt,
  sub,
  swapLast,
  transpose,
} from "../src/graph/ops/index.js";

const { onnx } = onnxProto;
const BATCH = 256;
const THREADS = 1;
const S = 36;
const C = 12;
const LAYERS: [number, number, number][] = [
  [C, 32, 5],
  [32, 64, 3],
  [64, 128, 3],
];

function randomData(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  });
}

function tensorInfo(name: string, dims: (number | string)[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: 1,
        shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

const T = onnx.AttributeProto.AttributeType;
const ints = (name: string, v: number[]) => ({ name, type: T.INTS, ints: v });

function encode(
  nodes: onnxProto.onnx.INodeProto[],
  inputs: onnxProto.onnx.IValueInfoProto[],
  output: onnxProto.onnx.IValueInfoProto,
): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: "", version: 17 }],
      graph: { name: "bench", node: nodes, input: inputs, output: [output] },
    }),
  ).finish();
}

/** conv1d as Transpose → ONNX Conv (the `conv` op and its VJP) → Transpose. */
function convOpConv1d(x: Value, weight: Value, bias: Value, padding: number): Value {
  return transpose(conv(transpose(x, [0, 2, 1]), weight, bias, padding), [0, 2, 1]);
}

type Conv1d = (x: Value, weight: Value, bias: Value, padding: number) => Value;

/** The TST conv stack (ReLU between); with `train`, also d Σ out⊙r / d every weight. */
function convStack(conv: Conv1d, train: boolean): Uint8Array {
  const g = new Graph();
  let h = g.input("x", ["batch", S, C]);
  const params: Value[] = [];
  LAYERS.forEach(([cin, cout, k], i) => {
    const w = g.input(`w${i}`, [cout, cin, k]);
    const b = g.input(`b${i}`, [cout]);
    params.push(w, b);
    h = relu(conv(h, w, b, Math.floor(k / 2)));
  });
  g.output("y", h);
  if (train) {
    const loss = reduceSum(mul(h, g.input("r", h.shape)), [0, 1, 2]);
    for (const [i, d] of grad(loss, params).entries()) g.output(`d${i}`, d);
  }
  return toOnnx(g);
}

/**
 * The weight gradient of x · W (x [batch, S, 128], W [128, 256]) as MatMul's
 * VJP emits it (contractLeading: one Gemm over batch × time rows) or as a
 * batched xᵀ · G followed by a ReduceSum over the batch.
 */
function linearWeightGradModel(oneGemm: boolean): Uint8Array {
  const g = new Graph();
  const x = g.input("x", ["batch", S, 128]);
  const grad = g.input("g", ["batch", S, 256]);
  g.output("y", oneGemm ? contractLeading(x, grad) : reduceSum(matmul(swapLast(x), grad), [0]));
  return toOnnx(g);
}

/**
 * layerNorm over the last axis of [batch, S, 128]: as the IR emits it (one
 * ONNX LayerNormalization) or composed from primitives.
 */
function layerNormModel(fused: boolean): Uint8Array {
  const g = new Graph();
  const x = g.input("x", ["batch", S, 128]);
  const [w, b] = [g.input("w", [128]), g.input("b", [128])];
  if (fused) {
    g.output("y", layerNorm(x, w, b));
  } else {
    const centred = sub(x, reduceMean(x, [-1], true));
    const variance = reduceMean(mul(centred, centred), [-1], true);
    g.output("y", add(mul(div(centred, sqrt(add(variance, 1e-5))), w), b));
  }
  return toOnnx(g);
}

function bareSoftmaxModel(dims: number[]): Uint8Array {
  return encode(
    [{ opType: "Softmax", input: ["x"], output: ["y"], attribute: [{ name: "axis", type: T.INT, i: 3 }] }],
    [tensorInfo("x", ["batch", ...dims.slice(1)])],
    tensorInfo("y", ["batch", ...dims.slice(1)]),
  );
}

function exactGuardSoftmaxModel(dims: number[]): Uint8Array {
  const axes: onnxProto.onnx.IAttributeProto = ints("axes", [3]);
  const scalar = (name: string, v: number): onnxProto.onnx.ITensorProto => ({
    name,
    dims: [],
    dataType: 1,
    rawData: new Uint8Array(Float32Array.of(v).buffer),
  });
  const bytes = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "bench",
      node: [
        { opType: "Softmax", input: ["x"], output: ["s"], attribute: [{ name: "axis", type: T.INT, i: 3 }] },
        { opType: "ReduceMax", input: ["x"], output: ["m"], attribute: [axes] },
        { opType: "Equal", input: ["m", "minusInf"], output: ["masked"] },
        { opType: "Where", input: ["masked", "zero", "s"], output: ["y"] },
      ],
      initializer: [scalar("minusInf", Number.NEGATIVE_INFINITY), scalar("zero", 0)],
      input: [tensorInfo("x", ["batch", ...dims.slice(1)])],
      output: [tensorInfo("y", ["batch", ...dims.slice(1)])],
    },
  });
  return onnx.ModelProto.encode(bytes).finish();
}

function guardedSoftmaxModel(dims: number[]): Uint8Array {
  const g = new Graph();
  g.output("y", softmax(g.input("x", ["batch", ...dims.slice(1)]), -1));
  return toOnnx(g);
}

interface Timing {
  median: number;
  min: number;
  y: Float32Array;
}

/**
 * Time several models on the same feeds, round-robin (one run of each per
 * round), so load from other processes hits all of them alike.
 */
async function timeInterleaved(
  models: Uint8Array[],
  feeds: Record<string, ort.Tensor>,
  rounds = 40,
): Promise<Timing[]> {
  const sessions = await Promise.all(
    models.map((bytes) =>
      ort.InferenceSession.create(bytes, {
        intraOpNumThreads: THREADS,
        interOpNumThreads: 1,
        executionMode: "sequential",
        graphOptimizationLevel: "all",
      }),
    ),
  );
  const outputs: Float32Array[] = [];
  for (const s of sessions) {
    for (let i = 0; i < 3; i++) outputs[sessions.indexOf(s)] = (await s.run(feeds)).y.data as Float32Array;
  }
  const times: number[][] = sessions.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (const [i, s] of sessions.entries()) {
      const t0 = process.cpuUsage();
      await s.run(feeds);
      const used = process.cpuUsage(t0);
      times[i].push((used.user + used.system) / 1000);
    }
  }
  await Promise.all(sessions.map((s) => s.release()));
  return times.map((t, i) => {
    t.sort((p, q) => p - q);
    return { median: t[Math.floor(t.length / 2)], min: t[0], y: outputs[i] };
  });
}

const fmt = (t: Timing): string => `${t.median.toFixed(1)} ms (min ${t.min.toFixed(1)})`;

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

export async function benchGraphOps(): Promise<void> {
  const feeds: Record<string, ort.Tensor> = {
    x: new ort.Tensor("float32", randomData(BATCH * S * C, 1), [BATCH, S, C]),
  };
  LAYERS.forEach(([cin, cout, k], i) => {
    feeds[`w${i}`] = new ort.Tensor("float32", randomData(cout * cin * k, 2 + i), [cout, cin, k]);
    feeds[`b${i}`] = new ort.Tensor("float32", randomData(cout, 7 + i), [cout]);
  });
  const [im2col, conv] = await timeInterleaved(
    [convStack(conv1d, false), convStack(convOpConv1d, false)],
    feeds,
  );
  process.stdout.write(
    `conv1d stack forward, batch ${BATCH} × S ${S}: im2col+MatMul ${fmt(im2col)}, Transpose+Conv ${fmt(conv)}; ` +
      `im2col / Conv = ${(im2col.median / conv.median).toFixed(2)} (medians), ${(im2col.min / conv.min).toFixed(2)} (minima); ` +
      `max |diff| ${maxAbsDiff(im2col.y, conv.y).toExponential(1)}\n`,
  );
  const trainFeeds = {
    ...feeds,
    r: new ort.Tensor("float32", randomData(BATCH * S * 128, 5), [BATCH, S, 128]),
  };
  const [im2colTrain, convTrain] = await timeInterleaved(
    [convStack(conv1d, true), convStack(convOpConv1d, true)],
    trainFeeds,
    15,
  );
  process.stdout.write(
    `conv1d stack forward + weight gradients: im2col ${fmt(im2colTrain)}, Conv ${fmt(convTrain)}; ` +
      `im2col / Conv = ${(im2colTrain.median / convTrain.median).toFixed(2)} (medians), ${(im2colTrain.min / convTrain.min).toFixed(2)} (minima)\n`,
  );

  const linearFeeds = {
    x: new ort.Tensor("float32", randomData(BATCH * S * 128, 3), [BATCH, S, 128]),
    g: new ort.Tensor("float32", randomData(BATCH * S * 256, 4), [BATCH, S, 256]),
  };
  const [gemm, batched] = await timeInterleaved(
    [linearWeightGradModel(true), linearWeightGradModel(false)],
    linearFeeds,
  );
  process.stdout.write(
    `linear weight gradient [${BATCH},${S},128]ᵀ·[${BATCH},${S},256]: contractLeading (one Gemm) ${fmt(gemm)}, ` +
      `batched MatMul + ReduceSum ${fmt(batched)}; ratio ${(batched.min / gemm.min).toFixed(2)} (minima); ` +
      `max |diff| ${maxAbsDiff(gemm.y, batched.y).toExponential(1)}\n`,
  );

  const lnFeeds = {
    x: new ort.Tensor("float32", randomData(BATCH * S * 128, 8), [BATCH, S, 128]),
    w: new ort.Tensor("float32", randomData(128, 9), [128]),
    b: new ort.Tensor("float32", randomData(128, 10), [128]),
  };
  const [lnComposed, lnFused] = await timeInterleaved([layerNormModel(false), layerNormModel(true)], lnFeeds);
  process.stdout.write(
    `layerNorm [${BATCH},${S},128]: composed from primitives ${fmt(lnComposed)}, ONNX LayerNormalization ${fmt(lnFused)}; ` +
      `composed / fused = ${(lnComposed.min / lnFused.min).toFixed(2)} (minima); max |diff| ${maxAbsDiff(lnComposed.y, lnFused.y).toExponential(1)}\n`,
  );

  const dims = [BATCH, 8, S, S];
  const x = {
    x: new ort.Tensor(
      "float32",
      randomData(
        dims.reduce((p, d) => p * d, 1),
        11,
      ),
      dims,
    ),
  };
  const [ir, bare, exact] = await timeInterleaved(
    [guardedSoftmaxModel(dims), bareSoftmaxModel(dims), exactGuardSoftmaxModel(dims)],
    x,
  );
  process.stdout.write(
    `softmax [${dims}]: IR (Max + Softmax) ${fmt(ir)}, bare ONNX Softmax ${fmt(bare)}, exact guard ${fmt(exact)}; ` +
      `IR / bare = ${(ir.median / bare.median).toFixed(2)}, exact guard / bare = ${(exact.median / bare.median).toFixed(2)} (medians)\n`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await benchGraphOps();
