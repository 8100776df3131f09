import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import onnxProto from "onnx-proto";
import ort from "onnxruntime-node";
import { afterAll, describe, expect, it } from "vitest";
import { grad } from "../../src/graph/autodiff.js";
import { Graph } from "../../src/graph/ir.js";
import { OPSET, toOnnx } from "../../src/graph/onnx.js";
import {
  add,
  concat,
  conv1d,
  crossEntropy,
  gather,
  layerNorm,
  linear,
  maskedFill,
  matmul,
  not,
  reduceMax,
  relu,
  reshape,
  slice,
  softmax,
  swapLast,
} from "../../src/graph/ops/index.js";

/** A small attention classifier touching most ops, with its training gradients. */
function buildModel(): Graph {
  const g = new Graph();
  const x = g.input("x", ["batch", 6, 2]);
  const valid = g.input("valid", ["batch", 6], "bool");
  const labels = g.input("labels", ["batch", 3]);
  const convW = g.input("conv.weight", [4, 2, 3]);
  const convB = g.input("conv.bias", [4]);
  const lnW = g.input("ln.weight", [4]);
  const lnB = g.input("ln.bias", [4]);
  const wq = g.input("W_Q", [4, 4]);
  const wu = g.input("W_U", [3, 4]);
  const table = g.input("pos", [6, 4]);
  const positions = g.constant(BigInt64Array.of(0n, 1n, 2n, 3n, 4n, 5n), [6]);
  const h = add(relu(conv1d(x, convW, convB, 1)), gather(table, positions, 0));
  const q = linear(h, wq);
  const keyMask = reshape(not(valid), ["batch", 1, 6]);
  const pattern = softmax(maskedFill(matmul(q, swapLast(h)), keyMask, Number.NEGATIVE_INFINITY), -1);
  const z = layerNorm(add(h, matmul(pattern, h)), lnW, lnB);
  const pooled = reduceMax(concat([z, z], 2), [1]);
  const logits = linear(slice(pooled, 1, 2, 6), wu);
  const loss = crossEntropy(logits, labels);
  g.output("logits", logits);
  g.output("loss", loss);
  for (const [i, d] of grad(loss, [convW, convB, lnW, lnB, wq, wu, table]).entries()) g.output(`grad${i}`, d);
  return g;
}

const dir = mkdtempSync(join(tmpdir(), "tspatch-onnx-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("ONNX serialisation", () => {
  it("is deterministic: the same graph built twice gives identical bytes", () => {
    const a = toOnnx(buildModel());
    const b = toOnnx(buildModel());
    expect(a.length).toBeGreaterThan(1000);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it("declares IR version 8 and opset 17 of the default domain only, with no custom ops", () => {
    const model = onnxProto.onnx.ModelProto.decode(toOnnx(buildModel()));
    expect(Number(model.irVersion)).toBe(8);
    expect(model.opsetImport.map((o) => [o.domain ?? "", Number(o.version)])).toEqual([["", OPSET]]);
    expect(OPSET).toBe(17);
    expect(model.graph?.node?.every((n) => (n.domain ?? "") === "")).toBe(true);
  });

  it("writes a file that stock onnxruntime loads and runs", async () => {
    const path = join(dir, "model.onnx");
    writeFileSync(path, toOnnx(buildModel(), { outputs: ["logits", "loss", "grad0"] }));
    const session = await ort.InferenceSession.create(path);
    const batch = 2;
    const feeds: Record<string, ort.Tensor> = {};
    const shapes: Record<string, number[]> = {
      x: [batch, 6, 2],
      labels: [batch, 3],
      "conv.weight": [4, 2, 3],
      "conv.bias": [4],
      "ln.weight": [4],
      "ln.bias": [4],
      W_Q: [4, 4],
      W_U: [3, 4],
      pos: [6, 4],
    };
    for (const [name, dims] of Object.entries(shapes)) {
      const n = dims.reduce((p, d) => p * d, 1);
      feeds[name] = new ort.Tensor(
        "float32",
        Float32Array.from({ length: n }, (_, i) => Math.sin(i + name.length)),
        dims,
      );
    }
    feeds.labels = new ort.Tensor("float32", Float32Array.of(1, 0, 0, 0, 0, 1), [batch, 3]);
    feeds.valid = new ort.Tensor("bool", Uint8Array.of(1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0), [batch, 6]);
    const out = await session.run(feeds);
    expect(out.logits.dims).toEqual([batch, 3]);
    expect(Array.from(out.logits.data as Float32Array).every(Number.isFinite)).toBe(true);
    expect(Number((out.loss.data as Float32Array)[0])).toBeGreaterThan(0);
    expect(out.grad0.dims).toEqual([4, 2, 3]);
    await session.release();
  });
});
