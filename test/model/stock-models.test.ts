import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { readArchMap } from "../../src/model/arch-map.js";
import { type HookName, hookNames } from "../../src/model/hooks.js";
import { importPth } from "../../src/model/import-pth.js";
import { readSafetensors } from "../../src/model/safetensors.js";
import { Runtime } from "../../src/runtime/session.js";
import { activationClose, describe as describeActivation } from "./fixture-helpers.js";

// test/fixtures/stock/<name>.{pth,safetensors,json}: scripts/fixtures/stock_model_fixtures.py
const runtime = new Runtime({ threads: 2 });
afterAll(() => runtime.release());

const FIXTURES = [
  "torch_encoder",
  "torch_encoder_seq_first",
  "torch_encoder_pre_norm",
  "mvts_transformer",
  "patch_separate_qkv",
];

function fixture(name: string) {
  const base = fileURLToPath(new URL(`../fixtures/stock/${name}`, import.meta.url));
  const meta = JSON.parse(readFileSync(`${base}.json`, "utf8")) as {
    map: string;
    heads: number;
    seq_len: number | null;
    dims: { batch: number; heads: number; layers: number; classes: number };
  };
  const tensors = readSafetensors(`${base}.safetensors`).tensors;
  const get = (key: string) => {
    const t = tensors.get(key);
    if (t === undefined) throw new Error(`${name} fixture has no ${key}`);
    return { data: Float32Array.from(t.data as ArrayLike<number>), shape: t.shape };
  };
  const { model } = importPth(`${base}.pth`, {
    // a shipped map by name, or a map file next to the fixture
    arch: readArchMap(
      meta.map.endsWith(".json") ? `${base.slice(0, base.lastIndexOf("/"))}/${meta.map}` : meta.map,
    ),
    heads: meta.heads,
    seqLen: meta.seq_len ?? undefined,
    runtime,
  });
  return { meta, get, has: (key: string) => tensors.has(key), model };
}

describe.each(FIXTURES)("%s imported through its shipped map", (name) => {
  it("every hook and the logits match the PyTorch module within 1e-5", async () => {
    const { get, model } = fixture(name);
    const hooks = hookNames(model.config);
    const x = get("x");
    const { logits, cache } = await model.run(x.data, { cache: hooks });
    const failures: string[] = [];
    for (const hook of [...hooks, "logits"] as HookName[]) {
      const want = get(hook);
      const got = hook === "logits" ? { data: logits, dims: [x.shape[0], want.shape[1]] } : cache[hook];
      if (got === undefined || got.data.length !== want.data.length) {
        failures.push(`${hook}: got ${describeActivation(got)}, want [${want.shape}]`);
        continue;
      }
      const c = activationClose(got.data, want.data);
      if (!c.ok)
        failures.push(`${hook}: worst excess ${c.worst.toExponential(2)} at ${c.at} (${c.got} vs ${c.want})`);
    }
    expect(failures).toEqual([]);
  });

  it("per-head z patching equals PyTorch's (head h of layer l from input 1 into input 0)", async () => {
    const { get, model, meta } = fixture(name);
    const { heads: H, layers: L } = meta.dims;
    const x = get("x");
    const rowSize = x.data.length / meta.dims.batch;
    const source = await model.run(x.data.slice(rowSize, 2 * rowSize), {
      cache: Array.from({ length: L }, (_, l) => `blocks.${l}.attn.hook_z` as HookName),
    });
    const target = x.data.slice(0, rowSize);
    for (let l = 0; l < L; l++) {
      const hook = `blocks.${l}.attn.hook_z` as HookName;
      for (let h = 0; h < H; h++) {
        const mask = new Uint8Array(H);
        mask[h] = 1;
        const { logits } = await model.run(target, {
          patch: { [hook]: { value: source.cache[hook]!.data, mask: { data: mask, dims: [1, 1, H, 1] } } },
        });
        const c = activationClose(logits, get(`patched.${l}.${h}`).data);
        expect(c.ok, `layer ${l} head ${h}: ${c.got} vs ${c.want}`).toBe(true);
      }
    }
  });
});

describe.each(FIXTURES.filter((name) => name !== "patch_separate_qkv"))("%s with padding", (name) => {
  it("the key mask and the mask-aware pooling give PyTorch's logits", async () => {
    const { get, model } = fixture(name);
    const { logits } = await model.run(get("x_masked").data, { mask: Uint8Array.from(get("mask").data) });
    const c = activationClose(logits, get("logits_masked").data);
    expect(c.ok, `${c.got} vs ${c.want}`).toBe(true);
  });
});
