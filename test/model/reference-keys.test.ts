import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/errors.js";
import { makeConfig } from "../../src/model/config.js";
import { numel, paramShapes } from "../../src/model/param-names.js";
import { type PthTensor, readPth } from "../../src/model/pth.js";
import { importReferenceStateDict, referenceKeyShapes } from "../../src/model/reference-keys.js";

// Our names as scripts/fixtures/tst_reference.py maps them (written by scripts/fixtures/pth_fixtures.py).
const canonical = JSON.parse(
  readFileSync(new URL("../fixtures/pth/canonical_summary.json", import.meta.url), "utf8"),
) as Record<string, Record<string, { shape: number[]; sum: number; first: number; last: number }>>;
const referenceDir = new URL("../../../shared/models/reference/", import.meta.url);

const EXPECTED_CONFIG: Record<string, { channels: number; seqLen: number; classes: number }> = {
  "TST_japanesevowels.pth": { channels: 12, seqLen: 25, classes: 10 },
  "TST_pendigits.pth": { channels: 2, seqLen: 8, classes: 10 },
  "TST_lsst.pth": { channels: 6, seqLen: 36, classes: 96 },
};

/** A synthetic state dict of the right keys and shapes (values: index-based, distinct per tensor). */
function syntheticStateDict(
  config = makeConfig({ channels: 3, seqLen: 10, classes: 4 }),
): Map<string, PthTensor> {
  const sd = new Map<string, PthTensor>();
  referenceKeyShapes(config).forEach(({ key, shape }, i) => {
    const data = Float32Array.from({ length: numel(shape) }, (_, j) => i * 1000 + j);
    sd.set(key, { shape: [...shape], data, dtype: shape.length === 0 ? "int64" : "float32" });
  });
  return sd;
}

/** Bitwise equality of two float arrays (much faster than toEqual on 16k-element arrays). */
function sameBits(a: Float32Array | undefined, b: Float32Array): boolean {
  return (
    a !== undefined &&
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    )
  );
}

function inputErrorOf(f: () => unknown): InputError {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error("expected an InputError");
}

describe.runIf(existsSync(referenceDir))("importReferenceStateDict on the reference checkpoints", () => {
  for (const [file, dims] of Object.entries(EXPECTED_CONFIG)) {
    it(`${file}: infers the config and maps every tensor as the PyTorch mapping does`, () => {
      const { config, weights } = importReferenceStateDict(readPth(new URL(file, referenceDir).pathname), {
        file,
      });
      expect(config).toEqual(makeConfig(dims));
      const want = canonical[file];
      expect([...weights.keys()]).toEqual(Object.keys(want));
      expect(paramShapes(config).map((p) => p.shape)).toEqual(Object.values(want).map((w) => w.shape));
      for (const [name, w] of Object.entries(want)) {
        const data = weights.get(name)!;
        expect(data.length, name).toBe(numel(w.shape));
        let sum = 0;
        let abs = 0;
        for (const v of data) {
          sum += v;
          abs += Math.abs(v);
        }
        expect(Math.abs(sum - w.sum), name).toBeLessThanOrEqual(1e-12 * abs + 1e-12);
        expect(data[0], name).toBe(w.first);
        expect(data[data.length - 1], name).toBe(w.last);
      }
    });
  }
});

describe("importReferenceStateDict on synthetic state dicts", () => {
  it("splits in_proj into W_Q, W_K, W_V rows and keeps the Linear (out, in) orientation", () => {
    const sd = syntheticStateDict();
    const { weights } = importReferenceStateDict(sd);
    const inProj = sd.get("transformer_encoder.layers.1.self_attn.in_proj_weight")!.data;
    const D = 128;
    expect(sameBits(weights.get("blocks.1.attn.W_Q"), inProj.subarray(0, D * D))).toBe(true);
    expect(sameBits(weights.get("blocks.1.attn.W_K"), inProj.subarray(D * D, 2 * D * D))).toBe(true);
    expect(sameBits(weights.get("blocks.1.attn.W_V"), inProj.subarray(2 * D * D))).toBe(true);
    expect(sameBits(weights.get("blocks.1.attn.W_Q"), inProj.subarray(D * D, 2 * D * D))).toBe(false);
    const bias = sd.get("transformer_encoder.layers.1.self_attn.in_proj_bias")!.data;
    expect(sameBits(weights.get("blocks.1.attn.b_V"), bias.subarray(2 * D))).toBe(true);
    expect(sameBits(weights.get("pos_embed.W_pos"), sd.get("pos_enc")!.data)).toBe(true);
    expect(sameBits(weights.get("embed.bn2.running_var"), sd.get("bn2.running_var")!.data)).toBe(true);
    // the result owns its memory: changing it leaves the state dict alone
    weights.get("blocks.1.attn.W_K")![0] = -1;
    expect(inProj[D * D]).not.toBe(-1);
  });

  it("infers layers, ff, kernels and conv widths, and takes heads from the option", () => {
    const config = makeConfig({
      channels: 5,
      seqLen: 7,
      classes: 3,
      dModel: 32,
      layers: 2,
      ff: 48,
      kernels: [3, 5, 1],
      convChannels: [8, 16, 32],
    });
    const sd = syntheticStateDict(config);
    expect(importReferenceStateDict(sd, { heads: 4 }).config).toEqual({ ...config, heads: 4 });
    expect(importReferenceStateDict(sd).config.heads).toBe(8);
    expect(inputErrorOf(() => importReferenceStateDict(sd, { heads: 5 })).message).toMatch(
      /not divisible by heads 5/,
    );
  });

  it("accepts a state dict without num_batches_tracked (older PyTorch)", () => {
    const sd = syntheticStateDict();
    for (const key of [...sd.keys()]) if (key.endsWith("num_batches_tracked")) sd.delete(key);
    expect(importReferenceStateDict(sd).weights.size).toBe(69);
  });

  it("lists every missing key, unexpected key and wrong shape in one error", () => {
    const sd = syntheticStateDict();
    sd.delete("transformer_encoder.layers.2.linear2.bias");
    sd.delete("bn1.running_var");
    sd.set("transformer_encoder.layers.0.extra.weight", {
      shape: [2],
      data: new Float32Array(2),
      dtype: "float32",
    });
    sd.set("conv2.weight", { shape: [64, 31, 3], data: new Float32Array(64 * 31 * 3), dtype: "float32" });
    sd.set("transformer_encoder.layers.1.self_attn.in_proj_weight", {
      shape: [384, 127],
      data: new Float32Array(384 * 127),
      dtype: "float32",
    });
    const error = inputErrorOf(() => importReferenceStateDict(sd, { file: "bad.pth" }));
    expect(error.message).toMatch(/^bad\.pth: not a reference TST state dict \(5 mismatches/);
    expect(error.message).toMatch(
      /missing key transformer_encoder\.layers\.2\.linear2\.bias \(expected shape \[128\]\)/,
    );
    expect(error.message).toMatch(/missing key bn1\.running_var/);
    expect(error.message).toMatch(/unexpected key transformer_encoder\.layers\.0\.extra\.weight/);
    expect(error.message).toMatch(/wrong shape for conv2\.weight: \[64,31,3\], expected \[64,32,3\]/);
    expect(error.message).toMatch(
      /wrong shape for transformer_encoder\.layers\.1\.self_attn\.in_proj_weight/,
    );
    expect(error.message).toMatch(/fix: /);
  });

  it("reports a layer missing from the middle as its missing keys", () => {
    const sd = syntheticStateDict();
    for (const key of [...sd.keys()]) if (key.startsWith("transformer_encoder.layers.1.")) sd.delete(key);
    const error = inputErrorOf(() => importReferenceStateDict(sd));
    expect(error.message).toMatch(/12 mismatches/);
    expect(error.message).toMatch(/missing key transformer_encoder\.layers\.1\.norm2\.bias/);
  });

  it("says what is missing when the dimensions cannot be inferred", () => {
    const sd = new Map<string, PthTensor>([
      ["fc.weight", { shape: [2, 2], data: new Float32Array(4), dtype: "float32" }],
    ]);
    const error = inputErrorOf(() => importReferenceStateDict(sd, { file: "other.pth" }));
    expect(error.message).toMatch(
      /cannot infer channels, seqLen, classes: the state dict has no conv1\.weight, pos_enc, classifier\.weight/,
    );
    expect(error.message).toMatch(/keys found: fc\.weight/);
  });
});

describe("makeConfig and paramShapes", () => {
  it("fills the reference defaults", () => {
    expect(makeConfig({ channels: 12, seqLen: 25, classes: 10 })).toEqual({
      channels: 12,
      seqLen: 25,
      classes: 10,
      dModel: 128,
      heads: 8,
      layers: 3,
      ff: 256,
      dropout: 0.1,
      kernels: [5, 3, 3],
      convChannels: [32, 64, 128],
      stem: "conv",
      patchLen: 0,
      patchStride: 0,
      embedScale: 1,
      cls: false,
      pos: "learned",
      norm: "post",
      normKind: "layer",
      finalNorm: false,
      act: "relu",
      outputAct: "none",
      pool: "max",
      headHidden: 0,
    });
  });

  it("rejects configs that cannot describe a model, naming the field", () => {
    expect(() => makeConfig({ channels: 0, seqLen: 5, classes: 2 })).toThrow(
      /channels must be a positive integer/,
    );
    expect(() => makeConfig({ channels: 1, seqLen: 5, classes: 2, heads: 3 })).toThrow(/not divisible/);
    expect(() => makeConfig({ channels: 1, seqLen: 5, classes: 2, kernels: [4, 3, 3] })).toThrow(/odd/);
    expect(() =>
      makeConfig({ channels: 1, seqLen: 5, classes: 2, dModel: 64, convChannels: [8, 16, 32] }),
    ).toThrow(/must equal dModel/);
    expect(() => makeConfig({ channels: 1, seqLen: 5, classes: 2, dropout: 1 })).toThrow(/dropout/);
  });

  it("lists every tensor once with its shape; buffers are not trainable", () => {
    const config = makeConfig({ channels: 3, seqLen: 10, classes: 4, layers: 2 });
    const shapes = paramShapes(config);
    expect(new Set(shapes.map((p) => p.name)).size).toBe(shapes.length);
    expect(shapes.length).toBe(18 + 1 + 2 * 16 + 2);
    const byName = Object.fromEntries(shapes.map((p) => [p.name, p]));
    expect(byName["embed.conv1.weight"].shape).toEqual([32, 3, 5]);
    expect(byName["pos_embed.W_pos"].shape).toEqual([10, 128]);
    expect(byName["blocks.1.mlp.W_in"].shape).toEqual([256, 128]);
    expect(byName["blocks.1.mlp.W_out"].shape).toEqual([128, 256]);
    expect(byName["unembed.W_U"].shape).toEqual([4, 128]);
    expect(shapes.filter((p) => !p.trainable).map((p) => p.name)).toEqual([
      "embed.bn1.running_mean",
      "embed.bn1.running_var",
      "embed.bn2.running_mean",
      "embed.bn2.running_var",
      "embed.bn3.running_mean",
      "embed.bn3.running_var",
    ]);
  });
});
