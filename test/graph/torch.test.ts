/**
 * The ops whose meaning is a convention, against PyTorch 1.13 (float64):
 * fixture from scripts/fixtures/graph_fixtures.py.
 */
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { grad } from "../../src/graph/autodiff.js";
import { type DType, Graph, type Value } from "../../src/graph/ir.js";
import {
  conv1d,
  crossEntropy,
  layerNorm,
  linear,
  logSoftmax,
  maskedFill,
  maximum,
  mul,
  not,
  reduceMax,
  reduceSum,
  softmax,
} from "../../src/graph/ops/index.js";
import { Runtime } from "../../src/runtime/session.js";

interface Encoded {
  shape: number[];
  data: number[];
}
interface TorchCase {
  inputs: Record<string, Encoded>;
  cotangent: Encoded;
  output: Encoded;
  grads: Record<string, Encoded>;
}
const fixture = JSON.parse(
  readFileSync(new URL("../fixtures/graph/torch-ops.json", import.meta.url), "utf8"),
) as { cases: Record<string, TorchCase> };

type Build = (v: Record<string, Value>) => Value;
const builds: Record<string, { build: Build; dtypes?: Record<string, DType> }> = {
  layerNorm: { build: (v) => layerNorm(v.x, v.w, v.b, 1e-5) },
  conv1d: { build: (v) => conv1d(v.x, v.w, v.b, 2) },
  linear: { build: (v) => linear(v.x, v.w, v.b) },
  crossEntropy: { build: (v) => crossEntropy(v.logits, v.labels) },
  amaxTies: { build: (v) => reduceMax(v.x, [1]) },
  maximumTies: { build: (v) => maximum(v.a, v.b) },
  maskedSoftmax: {
    build: (v) => softmax(maskedFill(v.s, not(v.valid), Number.NEGATIVE_INFINITY), -1),
    dtypes: { valid: "bool" },
  },
  logSoftmax: { build: (v) => logSoftmax(v.x, 1) },
};

const rt = new Runtime({ threads: 1 });
afterAll(() => rt.release());

/** Every entry within 1e-5 absolute + 1e-5 relative (float32 ORT vs float64 PyTorch). */
function expectClose(actual: ArrayLike<number>, expected: Encoded, what: string): void {
  expect(actual.length, what).toBe(expected.data.length);
  expected.data.forEach((e, i) => {
    expect(Math.abs(actual[i] - e), `${what}[${i}]: ${actual[i]} vs ${e}`).toBeLessThanOrEqual(
      1e-5 * (1 + Math.abs(e)),
    );
  });
}

describe("ops against PyTorch", () => {
  for (const [name, { build, dtypes = {} }] of Object.entries(builds)) {
    it(name, async () => {
      const c = fixture.cases[name];
      const g = new Graph();
      // The leading axis of each data input (not the weights w, b) is the symbolic batch.
      const batched = (k: string, shape: number[]) =>
        shape.length >= 2 && k !== "w" ? ["batch", ...shape.slice(1)] : shape;
      const values: Record<string, Value> = {};
      for (const [k, t] of Object.entries(c.inputs)) values[k] = g.input(k, batched(k, t.shape), dtypes[k]);
      const y = build(values);
      const cot = g.input("cotangent", y.shape);
      const wrt = Object.keys(c.grads);
      const prod = mul(y, cot);
      const loss =
        prod.rank === 0
          ? prod
          : reduceSum(
              prod,
              y.shape.map((_, i) => i),
            );
      g.output("y", y);
      for (const [i, d] of grad(
        loss,
        wrt.map((k) => values[k]),
      ).entries())
        g.output(`d_${wrt[i]}`, d);
      const feeds = Object.fromEntries(
        [...Object.entries(c.inputs), ["cotangent", c.cotangent] as const].map(([k, t]) => [
          k,
          {
            data: dtypes[k] === "bool" ? Uint8Array.from(t.data) : Float32Array.from(t.data),
            dims: t.shape,
          },
        ]),
      );
      const session = await rt.compile(g, ["y", ...wrt.map((k) => `d_${k}`)]);
      const out = await session.run(feeds);
      expect([...out.y.dims]).toEqual(c.output.shape);
      expectClose(out.y.data as Float32Array, c.output, `${name} output`);
      for (const k of wrt) expectClose(out[`d_${k}`].data as Float32Array, c.grads[k], `${name} d${k}`);
    });
  }
});
