import { afterAll, describe, expect, it } from "vitest";
import { InputError } from "../../src/errors.js";
import { makeConfig, type TSTConfigInput } from "../../src/model/config.js";
import { HookedTST } from "../../src/model/hooked-tst.js";
import { type HookName, hookNames, hookShape, parseHook } from "../../src/model/hooks.js";
import { paramShapes } from "../../src/model/param-names.js";
import { Runtime } from "../../src/runtime/session.js";
import { f32, modelFixture } from "./fixture-helpers.js";

const { meta, tensors } = modelFixture("random_init");
const config = makeConfig(meta.config as TSTConfigInput);
const params = new Map(paramShapes(config).map((p) => [p.name, f32(tensors, `param.${p.name}`)]));
const x = f32(tensors, "input.x");
const mask = Uint8Array.from(tensors.get("input.mask")?.data as Uint8Array, (p) => (p ? 0 : 1));
const B = 5;
const runtime = new Runtime({ threads: 1 });
const model = new HookedTST(config, params, {}, runtime);
afterAll(() => runtime.release());

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe("hook names", () => {
  it("parses valid names and lists the valid ones for a bad name", () => {
    expect(parseHook(config, "blocks.2.attn.hook_z")).toEqual({
      name: "blocks.2.attn.hook_z",
      layer: 2,
      suffix: "attn.hook_z",
    });
    expect(() => parseHook(config, "blocks.3.attn.hook_z")).toThrow(InputError);
    expect(() => parseHook(config, "blocks.0.hook_zz")).toThrow(
      /valid hook points: hook_embed, hook_pos_embed, blocks\.<l>\./,
    );
    expect(hookNames(config)).toHaveLength(37);
    expect(hookShape(config, "blocks.0.attn.hook_pattern")).toEqual(["batch", 8, 10, 10]);
    expect(hookShape(config, "blocks.1.mlp.hook_post", 4)).toEqual([4, 10, 256]);
  });
});

describe("caching and patching are one mechanism", () => {
  it("patching any hook with its own cached value changes nothing", async () => {
    const hooks = hookNames(config);
    const clean = await model.run(x, { mask, cache: hooks });
    for (const h of [
      "hook_embed",
      "blocks.0.attn.hook_pattern",
      "blocks.1.attn.hook_z",
      "blocks.2.mlp.hook_post",
      "hook_pooled",
    ] as HookName[]) {
      const act = clean.cache[h];
      if (act === undefined) throw new Error(`no cache for ${h}`);
      const patched = await model.run(x, {
        mask,
        patch: { [h]: { value: act.data, mask: new Uint8Array(act.data.length).fill(1) } },
      });
      expect(maxDiff(patched.logits, clean.logits)).toBeLessThan(1e-6);
    }
  });

  it("patches one head of z from another input per batch row (mask [batch, 1, H, 1])", async () => {
    const source = await model.run(x, { mask, cache: ["blocks.1.attn.hook_z", "blocks.1.hook_attn_out"] });
    // Target: the same batch with rows rotated, so each row gets another row's head.
    const S = config.seqLen;
    const rowSize = S * config.channels;
    const xr = new Float32Array(x.length);
    const mr = new Uint8Array(mask.length);
    for (let b = 0; b < B; b++) {
      xr.set(x.subarray(((b + 1) % B) * rowSize, (((b + 1) % B) + 1) * rowSize), b * rowSize);
      mr.set(mask.subarray(((b + 1) % B) * S, (((b + 1) % B) + 1) * S), b * S);
    }
    const z = source.cache["blocks.1.attn.hook_z"]?.data as Float32Array;
    const headMask = new Uint8Array(B * config.heads);
    headMask[0 * config.heads + 3] = 1; // row 0: head 3
    headMask[2 * config.heads + 5] = 1; // row 2: head 5
    const patched = await model.run(xr, {
      mask: mr,
      cache: ["blocks.1.attn.hook_z"],
      patch: {
        "blocks.1.attn.hook_z": { value: z, mask: { data: headMask, dims: [B, 1, config.heads, 1] } },
      },
    });
    const target = await model.run(xr, { mask: mr, cache: ["blocks.1.attn.hook_z"] });
    const pz = patched.cache["blocks.1.attn.hook_z"]?.data as Float32Array;
    const tz = target.cache["blocks.1.attn.hook_z"]?.data as Float32Array;
    const dh = config.dModel / config.heads;
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < S; s++) {
        for (let h = 0; h < config.heads; h++) {
          const at = ((b * S + s) * config.heads + h) * dh;
          const want = headMask[b * config.heads + h] ? z : tz;
          expect(maxDiff(pz.subarray(at, at + dh), want.subarray(at, at + dh))).toBe(0);
        }
      }
    }
    // Rows without a patched head are unchanged; patched rows change.
    const K = config.classes;
    expect(maxDiff(patched.logits.subarray(K, 2 * K), target.logits.subarray(K, 2 * K))).toBe(0);
    expect(maxDiff(patched.logits.subarray(0, K), target.logits.subarray(0, K))).toBeGreaterThan(0);
  });

  it("patching every head of z equals patching hook_attn_out with the source's", async () => {
    const source = await model.run(x, { cache: ["blocks.0.attn.hook_z", "blocks.0.hook_attn_out"] });
    const other = x.map((v) => v * 0.5 + 0.1);
    const all = (n: number) => ({ data: new Uint8Array(n).fill(1), dims: [1, 1, 1, 1] });
    const viaZ = await model.run(other, {
      patch: {
        "blocks.0.attn.hook_z": {
          value: source.cache["blocks.0.attn.hook_z"]?.data as Float32Array,
          mask: all(1),
        },
      },
    });
    const viaOut = await model.run(other, {
      patch: {
        "blocks.0.hook_attn_out": {
          value: source.cache["blocks.0.hook_attn_out"]?.data as Float32Array,
          mask: { data: new Uint8Array(1).fill(1), dims: [1, 1, 1] },
        },
      },
    });
    expect(maxDiff(viaZ.logits, viaOut.logits)).toBeLessThan(1e-5);
  });

  it("starting at a cached residual stream gives the same logits (prefix reuse)", async () => {
    const clean = await model.run(x, {
      mask,
      cache: ["blocks.2.hook_resid_pre", "blocks.1.hook_resid_mid", "hook_embed"],
    });
    for (const hook of ["blocks.2.hook_resid_pre", "blocks.1.hook_resid_mid", "hook_embed"] as HookName[]) {
      const value = clean.cache[hook]?.data as Float32Array;
      const resumed = await model.run(null, { mask, startAt: { hook, value } });
      expect(maxDiff(resumed.logits, clean.logits)).toBeLessThan(1e-5);
    }
    await expect(
      model.run(null, { startAt: { hook: "blocks.0.attn.hook_q", value: new Float32Array(1) } }),
    ).rejects.toThrow(/cannot start at/);
  });

  it("starting at a layer's attn.hook_z (fed with its resid_pre) equals the resid_pre start and the full run", async () => {
    const hooks: HookName[] = ["blocks.1.hook_resid_pre", "blocks.1.attn.hook_z"];
    const clean = await model.run(x, { mask, cache: hooks });
    const residPre = clean.cache["blocks.1.hook_resid_pre"]?.data as Float32Array;
    const z = clean.cache["blocks.1.attn.hook_z"]?.data as Float32Array;
    const fromResid = await model.run(null, {
      mask,
      startAt: { hook: "blocks.1.hook_resid_pre", value: residPre },
    });
    const fromZ = await model.run(null, {
      mask,
      startAt: { hook: "blocks.1.attn.hook_z", value: z, residual: residPre },
    });
    expect(maxDiff(fromZ.logits, fromResid.logits)).toBeLessThan(1e-6);
    expect(maxDiff(fromZ.logits, clean.logits)).toBeLessThan(1e-6);

    // A head patched on the fed z equals the same patch on a run that recomputes the layer.
    const headMask = {
      data: Uint8Array.from({ length: 8 }, (_, h) => (h === 3 ? 1 : 0)),
      dims: [1, 1, 8, 1],
    };
    const other = z.map((_, i) => z[(i + z.length / B) % z.length]); // row r takes row r+1's z
    const patch = { "blocks.1.attn.hook_z": { value: other, mask: headMask } } as const;
    const patchedFull = await model.run(x, { mask, patch });
    const patchedZ = await model.run(null, {
      mask,
      patch,
      startAt: { hook: "blocks.1.attn.hook_z", value: z, residual: residPre },
    });
    expect(maxDiff(patchedZ.logits, patchedFull.logits)).toBeLessThan(1e-6);
    expect(maxDiff(patchedFull.logits, clean.logits)).toBeGreaterThan(1e-3); // the patch does something

    await expect(
      model.run(null, { mask, startAt: { hook: "blocks.1.attn.hook_z", value: z } }),
    ).rejects.toThrow(/also needs startAt\.residual/);
    await expect(
      model.run(null, {
        startAt: {
          hook: "blocks.1.attn.hook_z",
          value: z,
          residual: residPre.subarray(0, residPre.length / B),
        },
      }),
    ).rejects.toThrow(/rows/);
    await expect(
      model.run(null, {
        mask,
        cache: ["blocks.1.attn.hook_q"],
        startAt: { hook: "blocks.1.attn.hook_z", value: z, residual: residPre },
      }),
    ).rejects.toThrow(/comes before the start point/);
  });

  it("splits large batches into chunks without changing results, and compiles each signature once", async () => {
    const whole = await model.run(x, { mask, cache: ["blocks.0.attn.hook_pattern"] });
    const before = runtime.cachedSessions;
    const chunked = await model.run(x, { mask, cache: ["blocks.0.attn.hook_pattern"], chunkSize: 2 });
    expect(runtime.cachedSessions).toBe(before);
    // Kernels may sum in another order for another batch size: equal to float32 rounding.
    expect(maxDiff(chunked.logits, whole.logits)).toBeLessThan(1e-6);
    expect(
      maxDiff(
        chunked.cache["blocks.0.attn.hook_pattern"]?.data ?? [],
        whole.cache["blocks.0.attn.hook_pattern"]?.data ?? [],
      ),
    ).toBeLessThan(1e-6);
  });

  it("an all-real mask is the same as no mask; padded steps are ignored by attention and pooling", async () => {
    const full = await model.run(x);
    const allReal = await model.run(x, { mask: new Uint8Array(B * config.seqLen).fill(1) });
    expect(maxDiff(full.logits, allReal.logits)).toBe(0);
    const { cache } = await model.run(x, { mask, cache: ["blocks.0.attn.hook_pattern"] });
    const p = cache["blocks.0.attn.hook_pattern"]?.data as Float32Array;
    const S = config.seqLen;
    // Row 4 has length 2: no attention to keys 2..9.
    for (let h = 0; h < config.heads; h++) {
      for (let q = 0; q < S; q++) {
        for (let k = 2; k < S; k++) expect(p[((4 * config.heads + h) * S + q) * S + k]).toBe(0);
      }
    }
  });

  it("rejects bad input with an InputError saying what is wrong", async () => {
    await expect(model.run(new Float32Array(7))).rejects.toThrow(/whole number of rows/);
    await expect(model.run(x, { mask: new Uint8Array(3) })).rejects.toThrow(/mask has 3 values/);
    await expect(
      model.run(x, {
        patch: { "blocks.0.hook_attn_out": { value: new Float32Array(3), mask: new Uint8Array(3) } },
      }),
    ).rejects.toThrow(/patch value for blocks.0.hook_attn_out/);
    const bad = new Map(params);
    bad.delete("blocks.0.attn.W_Q");
    bad.set("extra.weight", new Float32Array(2));
    expect(() => new HookedTST(config, bad)).toThrow(
      /missing blocks\.0\.attn\.W_Q[\s\S]*unexpected extra\.weight/,
    );
  });

  it("fromConfig is seeded: same seed, same weights; PyTorch-like init bounds", () => {
    const a = HookedTST.fromConfig(config, 7, {}, runtime);
    const b = HookedTST.fromConfig(config, 7, {}, runtime);
    const c = HookedTST.fromConfig(config, 8, {}, runtime);
    const w = (m: HookedTST, n: string) => m.params.get(n) as Float32Array;
    expect(maxDiff(w(a, "blocks.0.attn.W_Q"), w(b, "blocks.0.attn.W_Q"))).toBe(0);
    expect(maxDiff(w(a, "blocks.0.attn.W_Q"), w(c, "blocks.0.attn.W_Q"))).toBeGreaterThan(0);
    const bound = Math.sqrt(6 / (4 * config.dModel));
    expect(Math.max(...w(a, "blocks.0.attn.W_Q").map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w(a, "blocks.0.attn.W_Q").map(Math.abs))).toBeGreaterThan(0.9 * bound);
    expect(w(a, "embed.bn1.running_var").every((v) => v === 1)).toBe(true);
    expect(w(a, "blocks.0.attn.b_Q").every((v) => v === 0)).toBe(true);
  });
});
