import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import onnxProto from "onnx-proto";
import ort from "onnxruntime-node";
import { afterAll, describe, expect, it } from "vitest";
import { Graph } from "../../src/graph/ir.js";
import { type ToOnnxOptions, toOnnx } from "../../src/graph/onnx.js";
import { add, linear, matmul, reduceMax } from "../../src/graph/ops/index.js";
import { makeConfig } from "../../src/model/config.js";
import { initParams } from "../../src/model/init.js";
import { buildTSTGraph, dropoutInputs } from "../../src/model/tst-graph.js";

/**
 * The emitter's fusions (src/graph/onnx-fusions.ts) must not change what a graph computes: the
 * same TST graphs written plainly (`fuse: false`), fused, and fused with contrib ops give the same
 * outputs, and the fused forms are really used.
 */

const config = makeConfig({ channels: 3, seqLen: 7, classes: 4 });
const params = initParams(config, 3);
const batch = 5;

function seeded(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 7.13 + i * 1.37) * 2);
}

function feeds(graph: Graph): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  const S = config.seqLen;
  for (const { name, value } of graph.inputs) {
    const dims = value.shape.map((d) => (typeof d === "number" ? d : batch));
    const n = dims.reduce((a, b) => a * b, 1);
    if (value.dtype === "bool") {
      // Row r has its last r % 3 steps padded; dropout keep-masks keep ~3 of 4.
      const data = Uint8Array.from({ length: n }, (_, i) =>
        name === "mask" ? Number(i % S < S - (Math.floor(i / S) % 3)) : Number(i % 4 !== 1),
      );
      out[name] = new ort.Tensor("bool", data, dims);
    } else if (name === "pre.scale") {
      out[name] = new ort.Tensor("float32", new Float32Array(n).fill(1.5), dims);
    } else if (name === "labels") {
      out[name] = new ort.Tensor(
        "float32",
        Float32Array.from({ length: n }, (_, i) =>
          Number(i % config.classes === Math.floor(i / config.classes) % config.classes),
        ),
        dims,
      );
    } else {
      const p = params.get(name);
      out[name] = new ort.Tensor("float32", p ?? seeded(n, name.length), dims);
    }
  }
  return out;
}

const sessions: ort.InferenceSession[] = [];
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.release()));
});

async function run(graph: Graph, outputs: string[], options: ToOnnxOptions) {
  const bytes = toOnnx(graph, { ...options, outputs });
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: "all" });
  sessions.push(session);
  const result = await session.run(feeds(graph));
  return { result, ops: opTypes(bytes) };
}

function opTypes(bytes: Uint8Array): string[] {
  return (onnxProto.onnx.ModelProto.decode(bytes).graph?.node ?? []).map((n) => n.opType ?? "");
}

function expectClose(got: ort.Tensor, want: ort.Tensor, name: string, floor = 1e-6): void {
  expect(got.dims, name).toEqual(want.dims);
  const a = got.data as Float32Array;
  const b = want.data as Float32Array;
  // Float32 rounding of reordered sums, measured against the tensor's scale.
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  expect(diff / Math.max(scale, floor), name).toBeLessThan(1e-5);
}

describe("ONNX emission fusions", () => {
  it("give the same logits and cached hooks as the plain graph (eval, masked, with and without contrib ops)", async () => {
    const cache = ["blocks.0.attn.hook_pattern", "blocks.1.hook_resid_mid", "hook_pooled"] as const;
    const { graph, outputs } = buildTSTGraph(config, { mask: true, cache: [...cache] });
    const plain = await run(graph, outputs, { fuse: false });
    const fused = await run(graph, outputs, {});
    const contrib = await run(graph, outputs, { contribOps: true });
    for (const name of outputs) {
      expectClose(fused.result[name], plain.result[name], `fused ${name}`);
      expectClose(contrib.result[name], plain.result[name], `contrib ${name}`);
    }
    // Linear layers became Gemms (with the Relu after the MLP's first one and the convolutions),
    // the guard pass of the softmax is gone, and layers 1 and 2 (pattern not cached) use the
    // contrib attention kernel when allowed.
    expect(plain.ops.filter((op) => op === "Gemm")).toHaveLength(0);
    expect(fused.ops.filter((op) => op === "Gemm")).toHaveLength(3 + 6 * config.layers + 1);
    expect(fused.ops).not.toContain("Max");
    expect(fused.ops).not.toContain("Expand");
    expect(fused.ops).not.toContain("MultiHeadAttention");
    expect(contrib.ops.filter((op) => op === "MultiHeadAttention")).toHaveLength(config.layers - 1);
  });

  it("give the same loss, BatchNorm statistics and gradients in a training graph", async () => {
    const { graph, outputs } = buildTSTGraph(config, { mode: "train", mask: true, dropout: true });
    expect(graph.inputs.map((i) => i.name)).toEqual(
      expect.arrayContaining([...dropoutInputs(config).keys()]),
    );
    const plain = await run(graph, outputs, { fuse: false });
    const fused = await run(graph, outputs, { contribOps: true });
    // Some gradients are 0 up to rounding noise (a conv bias under batch-statistics BatchNorm, b_K
    // under the softmax's shift invariance); noise is measured against the largest gradient.
    const largest = Math.max(
      ...outputs.map((name) => Math.max(...Array.from(plain.result[name].data as Float32Array, Math.abs))),
    );
    for (const name of outputs) expectClose(fused.result[name], plain.result[name], name, 1e-2 * largest);
  });

  it("keep a cached patched start point working (run from blocks.1.hook_resid_pre, z patched)", async () => {
    const { graph, outputs } = buildTSTGraph(config, {
      startAt: "blocks.1.hook_resid_pre",
      patch: [{ hook: "blocks.1.attn.hook_z", maskShape: ["batch", 1, config.heads, 1] }],
      cache: ["blocks.1.attn.hook_z"],
    });
    const plain = await run(graph, outputs, { fuse: false });
    const fused = await run(graph, outputs, { contribOps: true });
    for (const name of outputs) expectClose(fused.result[name], plain.result[name], name);
  });

  it("keep ONNX Runtime from fusing a run's fed residual add into SkipLayerNormalization (start at hook_mlp_out)", async () => {
    const { graph, outputs } = buildTSTGraph(config, { startAt: "blocks.1.hook_mlp_out" });
    const plain = await run(graph, outputs, { fuse: false });
    const fused = await run(graph, outputs, {});
    // The plain graph is the one ONNX Runtime fuses (other rounding): equal to float32 rounding.
    for (const name of outputs) expectClose(fused.result[name], plain.result[name], name);
    expect(fused.ops).toContain("Sum");
    const optimisedOps = async (options: ToOnnxOptions) => {
      const dir = mkdtempSync(join(tmpdir(), "tspatch-fusions-"));
      try {
        const file = join(dir, "optimised.onnx");
        const session = await ort.InferenceSession.create(toOnnx(graph, { ...options, outputs }), {
          graphOptimizationLevel: "all",
          optimizedModelFilePath: file,
        });
        await session.release();
        return (onnxProto.onnx.ModelProto.decode(readFileSync(file)).graph?.node ?? []).map((n) => n.opType);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
    // Without the rule ONNX Runtime fuses exactly this add (the test would see it), with it not.
    expect(await optimisedOps({ fuse: false })).toContain("SkipLayerNormalization");
    expect(await optimisedOps({})).not.toContain("SkipLayerNormalization");
  });

  it("avoid ONNX Runtime's invalid MatMul+Transpose+Add fusion when the rank-2 input is also an output", async () => {
    // Plainly written, ONNX Runtime rejects this graph ("Node input ... is not a graph input,
    // initializer, or output of a previous node"); the emitted Gemm never reaches that fusion.
    const g = new Graph();
    const pooled = reduceMax(g.input("x", ["batch", 5, 4]), [1], false);
    g.output("pooled", pooled);
    g.output("y", linear(pooled, g.input("w", [3, 4]), g.input("b", [3])));
    g.output("z", add(matmul(pooled, g.input("v", [4, 2])), g.input("c", [2])));
    const { result } = await run(g, ["pooled", "y", "z"], {});
    expect(result.y.dims).toEqual([batch, 3]);
    expect(result.z.dims).toEqual([batch, 2]);
  });
});
