/**
 * Shared machinery of the op tests: build a small graph, run it in ONNX
 * Runtime (float32) and in the float64 reference interpreter, and check the
 * autodiff gradients against central finite differences.
 */
import { expect } from "vitest";
import { grad } from "../../src/graph/autodiff.js";
import { Graph, type Value } from "../../src/graph/ir.js";
import { mul, reduceSum } from "../../src/graph/ops/index.js";
import { type HostTensor, Runtime } from "../../src/runtime/session.js";
import { evaluate, type Feed64, type Tensor64 } from "./reference-eval.js";

/** The batch size fed for the symbolic "batch" dimension. */
export const BATCH = 3;

/** mulberry32: a small seeded generator, so every test input is reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface OpCase {
  name: string;
  /** Declare inputs on `g`, return the output and the float inputs to differentiate. */
  build(g: Graph): { out: Value; wrt?: Value[] };
  /** Fixed data for some inputs (int64 indices, bool masks, positive values…). */
  feeds?: Record<string, number[]>;
  /** Range of the random float inputs (default [-1, 1]). */
  range?: [number, number];
  seed?: number;
}

export interface CaseRun {
  graph: Graph;
  out: Value;
  wrt: Value[];
  loss: Value | null;
  grads: Value[];
  feeds: Record<string, HostTensor>;
  feeds64: Record<string, Feed64>;
}

const runtime = new Runtime({ threads: 1 });

export async function releaseRuntime(): Promise<void> {
  await runtime.release();
}

/**
 * Build the case; when it has inputs to differentiate, add loss = Σ out ⊙ r
 * (r a random cotangent input) and its gradients, so every VJP is checked
 * against a general upstream gradient, not only ones.
 */
export function setUp(c: OpCase): CaseRun {
  const graph = new Graph();
  const { out, wrt = [] } = c.build(graph);
  let loss: Value | null = null;
  let grads: Value[] = [];
  if (wrt.length > 0) {
    const cot = graph.input("cotangent", out.shape);
    const prod = mul(out, cot);
    loss =
      prod.rank === 0
        ? prod
        : reduceSum(
            prod,
            out.shape.map((_, i) => i),
          );
    grads = grad(loss, wrt);
    for (const [i, d] of grads.entries()) graph.output(`d${i}`, d);
    graph.output("loss", loss);
  }
  graph.output("y", out);
  const random = rng(c.seed ?? 1);
  const [lo, hi] = c.range ?? [-1, 1];
  const feeds: Record<string, HostTensor> = {};
  const feeds64: Record<string, Feed64> = {};
  for (const { name, value } of graph.inputs) {
    const dims = value.shape.map((d) => (typeof d === "number" ? d : BATCH));
    const n = dims.reduce((p, d) => p * d, 1);
    const fixed = c.feeds?.[name];
    if (fixed !== undefined && fixed.length !== n)
      throw new Error(`${c.name}: feed ${name} needs ${n} values`);
    const values = fixed ?? Array.from({ length: n }, () => lo + (hi - lo) * random());
    const data =
      value.dtype === "int64"
        ? BigInt64Array.from(values.map((v) => BigInt(v)))
        : value.dtype === "bool"
          ? Uint8Array.from(values)
          : Float32Array.from(values);
    feeds[name] = { data, dims, dtype: value.dtype };
    // The reference sees exactly the float32-rounded values ORT sees.
    feeds64[name] = { data: Array.from(data as ArrayLike<number | bigint>, Number), dims };
  }
  return { graph, out, wrt, loss, grads, feeds, feeds64 };
}

export async function runOrt(run: CaseRun, names: readonly string[]): Promise<Record<string, HostTensor>> {
  const session = await runtime.compile(run.graph, names);
  return session.run(run.feeds, names);
}

/** max |actual − expected| / max |expected| over finite entries; non-finite entries must match exactly. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = Number(actual[i]);
    const e = Number(expected[i]);
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      expect(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)), `entry ${i}: ${a} vs ${e}`).toBe(true);
      continue;
    }
    diff = Math.max(diff, Math.abs(a - e));
    scale = Math.max(scale, Math.abs(e));
  }
  return diff / Math.max(scale, 1e-12);
}

function toNumbers(t: HostTensor | Tensor64): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, Number);
}

/** Forward in ORT equals the float64 reference within `tol` (relative to the output's scale). */
export async function checkForward(c: OpCase, tol = 1e-6): Promise<void> {
  const run = setUp(c);
  const { y } = await runOrt(run, ["y"]);
  const [ref] = evaluate(run.graph, run.feeds64, [run.out]);
  expect([...y.dims]).toEqual(ref.shape);
  expect(relativeError(toNumbers(y), toNumbers(ref)), c.name).toBeLessThanOrEqual(tol);
}

/** Central finite differences of the float64 reference loss w.r.t. every element of `input`. */
export function finiteDifferences(run: CaseRun, input: Value, eps = 1e-6): number[] {
  const name = run.graph.inputs.find((i) => i.value === input)?.name;
  if (name === undefined || run.loss === null) throw new Error("finiteDifferences: not a graph input");
  const base = run.feeds64[name];
  const values = Array.from(base.data as ArrayLike<number>);
  const lossAt = (data: number[]): number => {
    const feeds = { ...run.feeds64, [name]: { data, dims: base.dims } };
    return evaluate(run.graph, feeds, [run.loss as Value])[0].data[0];
  };
  return values.map((v, j) => {
    const plus = [...values];
    const minus = [...values];
    // A step relative to |x| (at least eps) keeps rounding of x + h small at large |x|.
    const h = eps * Math.max(1, Math.abs(v));
    plus[j] = v + h;
    minus[j] = v - h;
    // Divide by the step actually taken: at |x| ≫ 1 it differs from 2·eps by rounding.
    return (lossAt(plus) - lossAt(minus)) / (plus[j] - minus[j]);
  });
}

/**
 * Gradients of loss = Σ out ⊙ r: ORT (float32) vs finite differences of the
 * float64 reference within `ortTol`, and the same backward graph evaluated by
 * the reference vs finite differences within `refTol`.
 */
export async function checkGradients(c: OpCase, ortTol = 1e-3, refTol = 1e-6): Promise<void> {
  const run = setUp(c);
  const names = run.grads.map((_, i) => `d${i}`);
  const ort = await runOrt(run, names);
  const ref = evaluate(run.graph, run.feeds64, run.grads);
  run.wrt.forEach((w, i) => {
    const fd = finiteDifferences(run, w);
    const fromOrt = toNumbers(ort[`d${i}`]);
    const fromRef = toNumbers(ref[i]);
    expect(fromOrt.every(Number.isFinite), `${c.name}: d${i} finite`).toBe(true);
    expect(relativeError(fromOrt, fd), `${c.name}: ORT d${i} vs finite differences`).toBeLessThanOrEqual(
      ortTol,
    );
    expect(
      relativeError(fromRef, fd),
      `${c.name}: reference d${i} vs finite differences`,
    ).toBeLessThanOrEqual(refTol);
  });
}
