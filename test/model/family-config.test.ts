import { describe, expect, it } from "vitest";
import { InputError } from "../../src/errors.js";
import { makeConfig, pooledWidth, tokenCount, tokenLengths } from "../../src/model/config.js";
import { parseModelConfigFile } from "../../src/model/config-file.js";
import { hookShape } from "../../src/model/hooks.js";
import { initParams } from "../../src/model/init.js";
import { numel, paramShapes } from "../../src/model/param-names.js";

const base = { channels: 3, seqLen: 20, classes: 4 };

function fieldOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof InputError) return error.field;
    throw error;
  }
  throw new Error("expected an InputError");
}

describe("the family fields of TSTConfig", () => {
  it("counts tokens: steps, patch windows without end padding, plus the CLS token", () => {
    expect(tokenCount(makeConfig(base))).toBe(20);
    expect(tokenCount(makeConfig({ ...base, stem: "linear", cls: true }))).toBe(21);
    // ⌊(20 − 6)/4⌋ + 1 = 4 windows starting at 0, 4, 8, 12 (the one at 16 would run past the end)
    const patch = makeConfig({ ...base, stem: "patch", patchLen: 6, patchStride: 4 });
    expect(tokenCount(patch)).toBe(4);
    expect(tokenCount({ ...patch, cls: true })).toBe(5);
  });

  it("maps step lengths to token lengths: a token is real when its window's first step is", () => {
    const patch = makeConfig({ ...base, stem: "patch", patchLen: 6, patchStride: 4 });
    // windows start at 0, 4, 8, 12: 1 real step → 1 token, 5 → 2, 12 → 3, 13 → 4, 20 → 4
    expect(tokenLengths(patch, [1, 5, 12, 13, 20])).toEqual([1, 2, 3, 4, 4]);
    expect(tokenLengths({ ...patch, cls: true }, [1, 20])).toEqual([2, 5]);
    expect(tokenLengths(makeConfig(base), [7, 20])).toEqual([7, 20]);
  });

  it("rejects what the family cannot build, naming the field", () => {
    expect(fieldOf(() => makeConfig({ ...base, stem: "rnn" as "conv" }))).toBe("stem");
    expect(fieldOf(() => makeConfig({ ...base, stem: "patch", patchLen: 0, patchStride: 1 }))).toBe(
      "patchLen",
    );
    expect(fieldOf(() => makeConfig({ ...base, stem: "patch", patchLen: 21, patchStride: 1 }))).toBe(
      "patchLen",
    );
    expect(fieldOf(() => makeConfig({ ...base, stem: "patch", patchLen: 4, patchStride: 0 }))).toBe(
      "patchStride",
    );
    expect(fieldOf(() => makeConfig({ ...base, pool: "cls" }))).toBe("pool");
    expect(fieldOf(() => makeConfig({ ...base, embedScale: 0 }))).toBe("embedScale");
    expect(fieldOf(() => makeConfig({ ...base, headHidden: -1 }))).toBe("headHidden");
    expect(fieldOf(() => makeConfig({ ...base, norm: "sandwich" as "pre" }))).toBe("norm");
    // conv fields only matter for the conv stem
    expect(makeConfig({ ...base, stem: "linear", dModel: 64, heads: 4 }).dModel).toBe(64);
  });

  it("names the parameters of each option with their shapes", () => {
    const config = makeConfig({
      ...base,
      stem: "patch",
      patchLen: 6,
      patchStride: 4,
      cls: true,
      normKind: "batch",
      finalNorm: true,
      pool: "flatten",
      headHidden: 16,
      dModel: 8,
      heads: 2,
      layers: 1,
      ff: 12,
    });
    const shapes = new Map(paramShapes(config).map((p) => [p.name, p]));
    expect(shapes.get("embed.W_in")?.shape).toEqual([8, 18]);
    expect(shapes.get("embed.cls")?.shape).toEqual([8]);
    expect(shapes.get("pos_embed.W_pos")?.shape).toEqual([5, 8]);
    expect(shapes.get("blocks.0.ln1.running_var")?.trainable).toBe(false);
    expect(shapes.get("ln_final.running_mean")?.shape).toEqual([8]);
    expect(shapes.get("unembed.W_hidden")?.shape).toEqual([16, 40]);
    expect(shapes.get("unembed.W_U")?.shape).toEqual([4, 16]);
    expect(shapes.has("embed.conv1.weight")).toBe(false);
    expect(pooledWidth(config)).toBe(40);
    expect(hookShape(config, "blocks.0.attn.hook_pattern", 2)).toEqual([2, 2, 5, 5]);
    expect(hookShape(config, "hook_pooled", 2)).toEqual([2, 40]);
    const sinusoidal = paramShapes({ ...config, pos: "sinusoidal" }).map((p) => p.name);
    expect(sinusoidal).not.toContain("pos_embed.W_pos");
  });
});

describe("initial weights of the family's parameters (PyTorch's defaults)", () => {
  it("Linear U(±1/√fan_in) for the stem and both head layers, norms 1/0, CLS 0", () => {
    const config = makeConfig({
      ...base,
      stem: "patch",
      patchLen: 5,
      patchStride: 5,
      cls: true,
      normKind: "batch",
      finalNorm: true,
      headHidden: 7,
    });
    const params = initParams(config, 3);
    for (const p of paramShapes(config)) expect(params.get(p.name)?.length, p.name).toBe(numel(p.shape));
    const bound = (name: string, b: number) => {
      const v = params.get(name) as Float32Array;
      const max = Math.max(...Array.from(v, Math.abs));
      expect(max, name).toBeLessThanOrEqual(b);
      expect(max, name).toBeGreaterThan(b / 2); // drawn over the whole range, not zeros
    };
    bound("embed.W_in", 1 / Math.sqrt(15));
    bound("embed.b_in", 1 / Math.sqrt(15));
    bound("unembed.W_hidden", 1 / Math.sqrt(128));
    bound("unembed.W_U", 1 / Math.sqrt(7));
    bound("unembed.b_U", 1 / Math.sqrt(7));
    expect(params.get("embed.cls")?.every((v) => v === 0)).toBe(true);
    expect(params.get("blocks.0.ln1.running_var")?.every((v) => v === 1)).toBe(true);
    expect(params.get("ln_final.weight")?.every((v) => v === 1)).toBe(true);
    expect(params.get("ln_final.running_mean")?.every((v) => v === 0)).toBe(true);
  });
});

describe("config.json with family fields", () => {
  const file = (config: Record<string, unknown>) => ({
    format: "tspatch-model",
    version: 1,
    config: { channels: 3, seqLen: 20, classes: 4, ...config },
    preprocess: null,
    labelMap: null,
  });

  it("reads every family field and defaults the missing ones", () => {
    const parsed = parseModelConfigFile(
      file({ stem: "linear", pos: "sinusoidal", norm: "pre", act: "gelu", pool: "mean", finalNorm: true }),
      "m/config.json",
    ).config;
    expect(parsed).toMatchObject({
      stem: "linear",
      pos: "sinusoidal",
      norm: "pre",
      act: "gelu",
      pool: "mean",
    });
    expect(parsed.finalNorm).toBe(true);
    expect(parsed.normKind).toBe("layer");
    expect(parsed.embedScale).toBe(1);
  });

  it("names the bad field and what it must be", () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ pos: "rotary" }, "config.pos", /one of "learned", "sinusoidal", "none"/],
      [{ cls: "yes" }, "config.cls", /true or false/],
      [{ embedScale: -1 }, "config.embedScale", /positive number/],
      [{ headHidden: 1.5 }, "config.headHidden", /non-negative integer/],
      [{ stem: "patch", patchLen: 4 }, "config.patchStride", /patchStride/],
      [{ pool: "cls" }, "config.pool", /CLS token/],
    ];
    for (const [fields, field, message] of cases) {
      let caught: unknown;
      try {
        parseModelConfigFile(file(fields), "m/config.json");
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(InputError);
      expect((caught as InputError).field).toBe(field);
      expect((caught as InputError).file).toBe("m/config.json");
      expect((caught as InputError).message).toMatch(message);
    }
  });
});
