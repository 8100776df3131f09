import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { makeConfig, type TSTConfigInput } from "../../src/model/config.js";
import { HookedTST } from "../../src/model/hooked-tst.js";
import { paramShapes } from "../../src/model/param-names.js";
import { readSafetensors } from "../../src/model/safetensors.js";
import { buildTSTGraph, dropoutInputs } from "../../src/model/tst-graph.js";
import type { HostTensor } from "../../src/runtime/session.js";
import { Runtime } from "../../src/runtime/session.js";

// scripts/fixtures/train_fixtures.py: a small TST (dModel 32, 4 heads, 2 layers, dropout 0.1), a
// padded batch and PyTorch's dropout keep-masks of each step. The loss of step t's forward pass
// (before its update) is losses[t-1]; step 1 starts from the initial weights.
const base = fileURLToPath(new URL("../fixtures/train/steps", import.meta.url));
const meta = JSON.parse(readFileSync(`${base}.json`, "utf8")) as { config: TSTConfigInput; losses: number[] };
const { tensors } = readSafetensors(`${base}.safetensors`);
const config = makeConfig(meta.config);
const runtime = new Runtime({ threads: 1 });
afterAll(() => runtime.release());

describe("train-mode graph with dropout masks", () => {
  it("gives PyTorch's step-1 loss with the same dropout masks (masks act where nn.TransformerEncoderLayer drops)", async () => {
    const params = new Map(
      paramShapes(config).map((p) => [p.name, tensors.get(`initial.${p.name}`)?.data as Float32Array]),
    );
    const model = new HookedTST(config, params, {}, runtime);
    const built = buildTSTGraph(config, { mask: true, mode: "train" });
    const session = await runtime.compile(built.graph, ["loss"]);
    const B = 6;
    const labels = Array.from(tensors.get("input.labels")?.data as BigInt64Array, Number);
    const oneHot = new Float32Array(B * config.classes);
    labels.forEach((y, i) => {
      oneHot[i * config.classes + y] = 1;
    });
    const padded = tensors.get("input.mask")?.data as Uint8Array;
    const feeds: Record<string, HostTensor> = {
      ...model.weightFeeds(),
      x: { data: tensors.get("input.x")?.data as Float32Array, dims: [B, config.seqLen, config.channels] },
      mask: { data: Uint8Array.from(padded, (p) => 1 - p), dims: [B, config.seqLen], dtype: "bool" },
      labels: { data: oneHot, dims: [B, config.classes] },
    };
    for (const [name, shape] of dropoutInputs(config, B)) {
      const key = `step1.mask.${name.slice("dropout:".length)}`;
      feeds[name] = { data: tensors.get(key)?.data as Uint8Array, dims: shape as number[], dtype: "bool" };
    }
    const out = await session.run(feeds, ["loss"]);
    const loss = (out.loss.data as Float32Array)[0];
    expect(Math.abs(loss - meta.losses[0])).toBeLessThan(1e-5 * Math.max(1, meta.losses[0]));
    // Without the masks the loss differs: the masks are really used.
    const plain = buildTSTGraph(config, { mask: true, mode: "train", dropout: false, gradients: false });
    const noDrop = await (await runtime.compile(plain.graph, ["loss"])).run(feeds, ["loss"]);
    expect(Math.abs((noDrop.loss.data as Float32Array)[0] - meta.losses[0])).toBeGreaterThan(1e-3);
  });
});
