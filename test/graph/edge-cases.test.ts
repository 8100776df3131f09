import { afterAll, describe, expect, it } from "vitest";
import { grad } from "../../src/graph/autodiff.js";
import { Graph, ShapeError, type Value } from "../../src/graph/ir.js";
import {
  concat,
  conv1d,
  gather,
  layerNorm,
  maximum,
  mul,
  pad,
  reduceMax,
  reduceSum,
  slice,
  softmax,
} from "../../src/graph/ops/index.js";
import { Runtime } from "../../src/runtime/session.js";
import { evaluate } from "./reference-eval.js";

const rt = new Runtime({ threads: 1 });
afterAll(() => rt.release());

/** d Σ f(x) / dx in ORT and in the float64 reference. */
async function gradOfSum(
  build: (g: Graph, x: Value) => Value,
  data: number[],
  dims: number[],
): Promise<{ ort: number[]; ref: number[] }> {
  const g = new Graph();
  const x = g.input("x", ["batch", ...dims.slice(1)]);
  const y = build(g, x);
  const [dx] = grad(
    reduceSum(
      y,
      y.shape.map((_, i) => i),
    ),
    [x],
  );
  g.output("dx", dx);
  const session = await rt.compile(g, ["dx"]);
  const out = await session.run({ x: { data: Float32Array.from(data), dims } }, ["dx"]);
  const [ref] = evaluate(g, { x: { data, dims } }, [dx]);
  return { ort: Array.from(out.dx.data as Float32Array), ref: Array.from(ref.data) };
}

describe("named edge cases", () => {
  it("reduceMax splits the gradient evenly among ties, as torch.amax", async () => {
    // torch.amax(torch.tensor([[1.,3,3],[2,2,2]]), 1).sum().backward() → [[0,.5,.5],[⅓,⅓,⅓]]
    const { ort, ref } = await gradOfSum((_g, x) => reduceMax(x, [1]), [1, 3, 3, 2, 2, 2], [2, 3]);
    const expected = [0, 0.5, 0.5, 1 / 3, 1 / 3, 1 / 3];
    for (const [i, v] of ort.entries()) expect(v).toBeCloseTo(expected[i], 6);
    for (const [i, v] of ref.entries()) expect(v).toBeCloseTo(expected[i], 12);
  });

  it("maximum halves the gradient at ties, as torch.maximum", async () => {
    // d Σ max(x, 2) / dx at x = [1, 2, 3] → [0, 0.5, 1]
    const { ort, ref } = await gradOfSum((_g, x) => maximum(x, 2), [1, 2, 3], [1, 3]);
    expect(ort).toEqual([0, 0.5, 1]);
    expect(ref).toEqual([0, 0.5, 1]);
  });

  it("a fully -Infinity softmax row gives the uniform distribution and finite gradients, never NaN", async () => {
    const inf = Number.NEGATIVE_INFINITY;
    const data = [inf, inf, inf, 0.5, inf, -0.5];
    const g = new Graph();
    const x = g.input("x", ["batch", 3]);
    const w = g.input("w", [3]);
    const y = softmax(x, 1);
    const [dw] = grad(reduceSum(mul(y, w), [0, 1]), [w]);
    g.output("y", y);
    g.output("dw", dw);
    const session = await rt.compile(g, ["y", "dw"]);
    const out = await session.run(
      {
        x: { data: Float32Array.from(data), dims: [2, 3] },
        w: { data: Float32Array.of(1, 2, 3), dims: [3] },
      },
      ["y", "dw"],
    );
    const yv = Array.from(out.y.data as Float32Array);
    for (const v of yv.slice(0, 3)) expect(v).toBeCloseTo(1 / 3, 6);
    expect(yv[4]).toBe(0);
    expect(yv[3] + yv[5]).toBeCloseTo(1, 6);
    expect(Array.from(out.dw.data as Float32Array).every(Number.isFinite)).toBe(true);
  });
});

describe("shape checks name the op, the argument, the expectation and what was found", () => {
  const g = new Graph();
  const x = g.input("x", ["batch", 5, 3]);
  it("slice out of range", () => {
    expect(() => slice(x, 1, 2, 7)).toThrow(ShapeError);
    expect(() => slice(x, 1, 2, 7)).toThrow("Slice: range 2:7 is not within axis 1 of size 5");
    expect(() => slice(x, 0, 0, 1)).toThrow("axis 0 of x [batch,5,3] is symbolic");
  });
  it("concat with mismatched axes", () => {
    const y = g.input("y", ["batch", 5, 4]);
    expect(() => concat([x, y], 1)).toThrow(
      "Concat: values[1] [batch,5,4] differs from values[0] [batch,5,3] off axis 1",
    );
  });
  it("pad with a negative width", () => {
    expect(() => pad(x, 1, -1, 0)).toThrow("Pad: before and after must be integers >= 0, got -1 and 0");
  });
  it("gather with float indices", () => {
    expect(() => gather(x, x, 1)).toThrow("Gather: indices must be int64, got float32");
  });
  it("a reduction over no axes", () => {
    expect(() => reduceMax(x, [])).toThrow(
      "ReduceMax: axes must name at least one axis of x [batch,5,3], got []",
    );
  });
  it("softmax axis out of range", () => {
    expect(() => softmax(x, 3)).toThrow("Softmax: axis 3 is out of range for x of shape [batch,5,3]");
  });
  it("layerNorm weight of the wrong size", () => {
    const w = g.input("w", [4]);
    expect(() => layerNorm(x, w, w)).toThrow(
      "layerNorm: weight must have shape [3] (last axis of x [batch,5,3]), got [4]",
    );
  });
  it("conv1d weight with the wrong input channels", () => {
    const w = g.input("cw", [8, 2, 3]);
    expect(() => conv1d(x, w, undefined, 1)).toThrow(
      "conv1d: weight must be [Cout, 3, k] for x [batch,5,3], got [8,2,3]",
    );
  });
});
