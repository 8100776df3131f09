import { describe, expect, it } from "vitest";
import { makeConfig, type TSTConfigInput } from "../../src/model/config.js";
import { HookedTST } from "../../src/model/hooked-tst.js";
import { hookNames } from "../../src/model/hooks.js";
import { paramShapes } from "../../src/model/param-names.js";
import { buildTSTGraph } from "../../src/model/tst-graph.js";
import { Runtime } from "../../src/runtime/session.js";
import { activationClose, closeness, f32, modelFixture } from "./fixture-helpers.js";

// A random-init model with unequal-length input (lengths 10, 7, 4, 9, 2 padded to 10), computed
// in float64 by scripts/fixtures/model_fixtures.py (PyTorch).
const { meta, tensors } = modelFixture("random_init");
const config = makeConfig(meta.config as TSTConfigInput);
const params = new Map(paramShapes(config).map((p) => [p.name, f32(tensors, `param.${p.name}`)]));
const x = f32(tensors, "input.x");
const padded = tensors.get("input.mask")?.data as Uint8Array; // PyTorch: true = padded
const mask = Uint8Array.from(padded, (p) => (p ? 0 : 1)); // ours: 1 = real step
const labels = Array.from(tensors.get("input.labels")?.data as BigInt64Array, Number);
const runtime = new Runtime({ threads: 1 });

describe("random-init TST with padding mask vs PyTorch", () => {
  it("matches logits and every hook point within 1e-5 (rel + scale-aware abs)", async () => {
    const model = new HookedTST(config, params, {}, runtime);
    const hooks = hookNames(config);
    const { logits, cache } = await model.run(x, { mask, cache: hooks });
    expect(activationClose(logits, f32(tensors, "eval.logits")).ok).toBe(true);
    for (const h of hooks) {
      const c = activationClose(cache[h]?.data ?? [], f32(tensors, `eval.${h}`));
      expect({ hook: h, ...c }).toMatchObject({ hook: h, ok: true });
    }
  });

  it("train mode (dropout 0, batch statistics): loss, BN batch stats and every gradient", async () => {
    const built = buildTSTGraph(config, { mask: true, mode: "train", dropout: false });
    const session = await runtime.compile(built.graph, built.outputs);
    const model = new HookedTST(config, params, {}, runtime);
    const B = labels.length;
    const oneHot = new Float32Array(B * config.classes);
    labels.forEach((y, i) => {
      oneHot[i * config.classes + y] = 1;
    });
    const out = await session.run({
      ...model.weightFeeds(),
      x: { data: x, dims: [B, config.seqLen, config.channels] },
      mask: { data: mask, dims: [B, config.seqLen], dtype: "bool" },
      labels: { data: oneHot, dims: [B, config.classes] },
    });
    expect((out.loss.data as Float32Array)[0]).toBeCloseTo(meta.train_loss as number, 5);
    expect(closeness(out.logits.data as Float32Array, f32(tensors, "train.logits"), 1e-5, 1e-5).ok).toBe(
      true,
    );
    for (let i = 1; i <= 3; i++) {
      for (const s of ["batch_mean", "batch_var"]) {
        const c = closeness(
          out[`bn:embed.bn${i}.${s}`].data as Float32Array,
          f32(tensors, `train.embed.bn${i}.${s}`),
          1e-5,
          1e-5,
        );
        expect({ stat: `bn${i}.${s}`, ...c }).toMatchObject({ ok: true });
      }
    }
    expect(built.trainable.length).toBe(paramShapes(config).filter((p) => p.trainable).length);
    for (const name of built.trainable) {
      const want = f32(tensors, `train.grad.${name}`);
      let scale = 0;
      for (const v of want) scale = Math.max(scale, Math.abs(v));
      // 1e-4 relative, with an absolute floor of 1e-4 × the tensor's largest gradient; gradients that
      // are exactly 0 in theory (conv biases before train-mode BN, b_K) only need to be < 1e-7.
      const c = closeness(out[`grad:${name}`].data as Float32Array, want, 1e-4, Math.max(1e-4 * scale, 1e-7));
      expect({ grad: name, ...c }).toMatchObject({ grad: name, ok: true });
    }
  });
});
