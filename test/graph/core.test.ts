import { describe, expect, it } from "vitest";
import { grad } from "../../src/graph/autodiff.js";
import { Graph, ShapeError } from "../../src/graph/ir.js";
import { matmul, reduceSum, relu } from "../../src/graph/ops/index.js";
import { Runtime } from "../../src/runtime/session.js";

describe("graph core", () => {
  it("fails at build time on a shape mismatch, naming both shapes", () => {
    const g = new Graph();
    const a = g.input("a", ["batch", 3]);
    const b = g.input("b", [4, 2]);
    expect(() => matmul(a, b)).toThrow(ShapeError);
    expect(() => matmul(a, b)).toThrow("[batch,3] · b [4,2]");
  });

  it("runs matmul + relu in ONNX Runtime and caches the session", async () => {
    const g = new Graph();
    const x = g.input("x", ["batch", 2]);
    const w = g.input("w", [2, 2]);
    g.output("y", relu(matmul(x, w)));
    const rt = new Runtime({ threads: 1 });
    const s1 = await rt.compile(g, ["y"]);
    const s2 = await rt.compile(g, ["y"]);
    expect(s1).toBe(s2);
    const { y } = await s1.run({
      x: { data: Float32Array.from([1, 2, 3, 4, -1, 0]), dims: [3, 2] },
      w: { data: Float32Array.from([1, -1, 0.5, 1]), dims: [2, 2] },
    });
    expect(Array.from(y.data as Float32Array)).toEqual([2, 1, 5, 1, 0, 1]);
    await rt.release();
  });

  it("differentiates sum(relu(x·w)) w.r.t. w", async () => {
    const g = new Graph();
    const x = g.input("x", ["batch", 2]);
    const w = g.input("w", [2, 2]);
    const loss = reduceSum(relu(matmul(x, w)), [0, 1]);
    const [dw] = grad(loss, [w]);
    g.output("dw", dw);
    const rt = new Runtime({ threads: 1 });
    const s = await rt.compile(g, ["dw"]);
    const { dw: out } = await s.run({
      x: { data: Float32Array.from([1, 2, 3, 4, -1, 0]), dims: [3, 2] },
      w: { data: Float32Array.from([1, -1, 0.5, 1]), dims: [2, 2] },
    });
    // y = x·w; rows: [2,1], [5,1], [-1,1] → relu mask [[1,1],[1,1],[0,1]]; dW = xᵀ·mask.
    expect(Array.from(out.data as Float32Array)).toEqual([4, 3, 6, 6]);
    await rt.release();
  });
});
