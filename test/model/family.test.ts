import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { makeConfig, type TSTConfigInput } from "../../src/model/config.js";
import { HookedTST } from "../../src/model/hooked-tst.js";
import { hookNames } from "../../src/model/hooks.js";
import { paramShapes } from "../../src/model/param-names.js";
import { readSafetensors } from "../../src/model/safetensors.js";
import { Runtime } from "../../src/runtime/session.js";
import { updateRunningStats } from "../../src/train/batchnorm-stats.js";
import { RAdam } from "../../src/train/radam.js";
import { trainStep } from "../../src/train/tst-step.js";
import { activationClose, f32 } from "./fixture-helpers.js";

// The model family against PyTorch: scripts/fixtures/family_fixtures.py builds each configuration
// from stock modules (nn.TransformerEncoderLayer with norm_first/gelu, mvts_transformer's BatchNorm
// layer), with unequal-length inputs, and records eval hooks and one RAdam training step.
const FIXTURES = ["prenorm_mean", "mvts", "patch_cls", "conv_batch_last"];
const runtime = new Runtime({ threads: 1 });
afterAll(() => runtime.release());

function load(name: string) {
  const base = fileURLToPath(new URL(`../fixtures/family/${name}`, import.meta.url));
  const meta = JSON.parse(readFileSync(`${base}.json`, "utf8"));
  const { tensors } = readSafetensors(`${base}.safetensors`);
  const config = makeConfig(meta.config as TSTConfigInput);
  const params = new Map(paramShapes(config).map((p) => [p.name, f32(tensors, `param.${p.name}`)]));
  const padded = tensors.get("input.mask")?.data as Uint8Array; // PyTorch: true = padded
  const mask = Uint8Array.from(padded, (p) => (p ? 0 : 1));
  const labels = Int32Array.from(tensors.get("input.labels")?.data as BigInt64Array, Number);
  return { meta, tensors, config, params, mask, labels, x: f32(tensors, "input.x") };
}

describe.each(FIXTURES)("family configuration %s vs PyTorch", (name) => {
  const { meta, tensors, config, params, mask, labels, x } = load(name);

  it("eval mode with padding: logits and every hook within 1e-5", async () => {
    expect(paramShapes(config).map((p) => p.name)).toEqual([...params.keys()]);
    const model = new HookedTST(config, params, {}, runtime);
    const hooks = hookNames(config);
    const { logits, cache } = await model.run(x, { mask, cache: hooks });
    expect(activationClose(logits, f32(tensors, "eval.logits")).ok).toBe(true);
    for (const h of hooks) {
      const c = activationClose(cache[h]?.data ?? [], f32(tensors, `eval.${h}`));
      expect({ hook: h, ...c }).toMatchObject({ hook: h, ok: true });
    }
  });

  it("one training step: loss, every gradient, BatchNorm statistics and the updated weights", async () => {
    const own = new Map([...params].map(([k, v]) => [k, Float32Array.from(v)]));
    const model = new HookedTST(config, own, {}, runtime);
    const masks = new Map<string, Uint8Array>();
    for (const [key, t] of tensors) {
      if (key.startsWith("train.mask.")) masks.set(`dropout:${key.slice(11)}`, t.data as Uint8Array);
    }
    const B = labels.length;
    const batch = { indices: Int32Array.from({ length: B }, (_, i) => i), size: B, x, valid: mask, labels };
    const out = await trainStep(model, batch, masks, true);
    expect(Math.abs(out.loss - meta.train_loss)).toBeLessThan(1e-5);
    const trainable = paramShapes(config).filter((p) => p.trainable);
    expect([...out.grads.keys()].sort()).toEqual(trainable.map((p) => p.name).sort());
    for (const { name: p } of trainable) {
      const c = activationClose(out.grads.get(p) ?? [], f32(tensors, `train.grad.${p}`), 1e-4);
      expect({ grad: p, ...c }).toMatchObject({ grad: p, ok: true });
    }
    expect(Object.keys(meta.batchnorm_counts).sort()).toEqual([...out.batchNorm.keys()].sort());
    for (const [layer, stats] of out.batchNorm) {
      expect(stats.count).toBe(meta.batchnorm_counts[layer]);
      for (const [s, got] of [
        ["batch_mean", stats.mean],
        ["batch_var", stats.variance],
      ] as const) {
        const c = activationClose(got, f32(tensors, `train.bn.${layer}.${s}`));
        expect({ stat: `${layer}.${s}`, ...c }).toMatchObject({ ok: true });
      }
      updateRunningStats(
        {
          runningMean: own.get(`${layer}.running_mean`)!,
          runningVar: own.get(`${layer}.running_var`)!,
          numBatchesTracked: 0,
        },
        stats.mean,
        stats.variance,
        stats.count,
      );
    }
    const opt = new RAdam(new Map(trainable.map((p) => [p.name, own.get(p.name)!])), {
      lr: meta.optimizer.lr,
      weightDecay: meta.optimizer.weight_decay,
    });
    opt.step(out.grads);
    for (const [p, value] of own) {
      const want = tensors.get(`after.${p}`)?.data as Float64Array;
      let worst = 0;
      for (let i = 0; i < want.length; i++)
        worst = Math.max(worst, Math.abs(value[i] - want[i]) / (1 + Math.abs(want[i])));
      expect(worst, p).toBeLessThan(1e-5);
    }
  });
});
