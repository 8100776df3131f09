import { describe, expect, it } from "vitest";
import { InputError } from "../../src/errors.js";
import { makeConfig, type TSTConfigInput } from "../../src/model/config.js";
import { HookedTST, type RunOptions } from "../../src/model/hooked-tst.js";
import { buildTSTGraph } from "../../src/model/tst-graph.js";
import { cacheRows, type InputTable } from "../../src/patching/engine.js";
import { presetComponents } from "../../src/patching/presets.js";
import { cacheHooksFor, patchedChunk } from "../../src/patching/sweep.js";
import type { Component, Pair } from "../../src/patching/types.js";
import { Runtime } from "../../src/runtime/session.js";
import { maxAbsDiff, paddedTable } from "./reference-models.js";

/**
 * A head's z, a layer's attention output or its MLP output patched at one time step changes its
 * layer at that token only (attention, where tokens mix, comes before them), so the engine
 * recomputes that layer at one token on the target's cached layer output (oneTokenOf in
 * engine.ts). It must give what recomputing the whole layer gives: the same patched chunk with a
 * cache that lacks the layer outputs takes the whole-layer path.
 */
const runtime = new Runtime({ threads: 1 });
const lengths = [9, 6, 9, 4];

function inputs(S: number, C: number): InputTable {
  return paddedTable(lengths, S, C, (i) => Math.sin(i * 0.61) * 1.3 + (i % 7) * 0.2);
}

const pairs: Pair[] = [
  [1, 0],
  [2, 3],
  [0, 2],
].map(([source, target], id) => ({
  id,
  source,
  target,
  direction: "denoise",
  trueClass: 0,
  goodClass: 0,
  badClass: 1,
}));

/**
 * The patched chunk with the sweep's cache minus the hooks `drop` names, and how many runtime rows
 * ran as one-token starts (and of those, with the next layer's q, k, v given).
 */
async function chunkWith(
  model: HookedTST,
  table: InputTable,
  components: Component[],
  drop: (hook: string) => boolean = () => false,
) {
  const hooks = cacheHooksFor(model, components).filter((h) => !drop(h));
  const cache = await cacheRows(model, table, [0, 1, 2, 3], hooks);
  let oneTokenRows = 0;
  let nextLayerRows = 0;
  const run = model.run.bind(model);
  model.run = (input: Parameters<HookedTST["run"]>[0], options?: RunOptions) => {
    const step = options?.startAt?.step;
    const rows = step === undefined ? 0 : step.token.length;
    oneTokenRows += rows;
    if (step?.next !== undefined) nextLayerRows += rows;
    return run(input, options);
  };
  try {
    const { logits, status } = await patchedChunk(model, table, cache, pairs, components);
    return { logits, status, oneTokenRows, nextLayerRows, cache };
  } finally {
    model.run = run;
  }
}

const configs: Record<string, TSTConfigInput> = {
  "post-norm, conv stem, max pool (the reference's form)": {
    channels: 2,
    seqLen: 9,
    classes: 3,
    dModel: 16,
    heads: 4,
    layers: 3,
    ff: 24,
    convChannels: [8, 8, 16],
  },
  "pre-norm, CLS token, GELU, mean pool, final norm": {
    channels: 2,
    seqLen: 9,
    classes: 3,
    dModel: 16,
    heads: 4,
    layers: 2,
    ff: 20,
    stem: "linear",
    cls: true,
    norm: "pre",
    act: "gelu",
    pool: "mean",
    finalNorm: true,
  },
};

describe("one-token starts of head, attention-output and MLP-output × time-step patches", () => {
  for (const [name, input] of Object.entries(configs)) {
    it(`equal the whole layer recomputed: ${name}`, async () => {
      const config = makeConfig(input);
      const model = HookedTST.fromConfig(config, 3, {}, runtime);
      const table = inputs(config.seqLen, config.channels);
      const components = [
        ...presetComponents(config, "head-pos", "z"),
        ...presetComponents(config, "layer-pos"),
        ...presetComponents(config, "mlp-pos"),
      ];
      const fast = await chunkWith(model, table, components);
      const whole = await chunkWith(model, table, components, (h) => h.endsWith("hook_resid_post"));
      // One token recomputed, the next layer projecting every token again.
      const nextWhole = await chunkWith(model, table, components, (h) => /attn\.hook_[qkv]$/.test(h));
      expect(fast.status).toEqual(whole.status);
      const applicable = fast.status.filter((s) => s === "ok").length;
      // Every applicable run took the one-token start (runs at padding steps may too; their rows
      // are not_applicable either way); none did without the layer outputs.
      expect(fast.oneTokenRows).toBeGreaterThanOrEqual(applicable);
      expect(fast.oneTokenRows).toBeLessThanOrEqual(fast.logits.length);
      expect(whole.oneTokenRows).toBe(0);
      // Below the last layer, the next layer took the unpatched q, k, v of the other tokens.
      const lastLayerShare = 1 / config.layers;
      expect(fast.nextLayerRows).toBeGreaterThanOrEqual(fast.oneTokenRows * (1 - lastLayerShare) - 1e-9);
      expect(fast.nextLayerRows).toBeLessThan(fast.oneTokenRows);
      expect(nextWhole.oneTokenRows).toBe(fast.oneTokenRows);
      expect(nextWhole.nextLayerRows).toBe(0);
      for (const other of [whole, nextWhole]) {
        let diff = 0;
        fast.logits.forEach((l, i) => {
          diff = Math.max(diff, maxAbsDiff(l, other.logits[i]));
        });
        expect(diff).toBeLessThan(1e-6);
      }
      // The patches do something: most applicable runs move their target's logits.
      const perPair = components.length;
      const moved = fast.logits.filter(
        (l, i) =>
          fast.status[i] === "ok" &&
          maxAbsDiff(l, fast.cache.logitsOf(pairs[Math.floor(i / perPair)].target)) > 1e-6,
      ).length;
      expect(moved).toBeGreaterThan(applicable / 2);
    });
  }

  it("refuses a token index outside the sequence, and next-layer values of the wrong size", async () => {
    const config = makeConfig(configs["post-norm, conv stem, max pool (the reference's form)"]);
    const model = HookedTST.fromConfig(config, 3, {}, runtime);
    const T = config.seqLen;
    const D = config.dModel;
    const full = () => new Float32Array(T * D);
    const run = (token: number, next = { q: full(), k: full(), v: full() }) =>
      model.run(null, {
        startAt: {
          hook: "blocks.1.attn.hook_z",
          value: new Float32Array(D),
          residual: new Float32Array(D),
          step: { token: Int32Array.of(token), residPost: full(), next },
        },
      });
    await expect(run(T - 1)).resolves.toBeDefined();
    await expect(run(T)).rejects.toThrow(/startAt\.step\.token/);
    await expect(run(-1)).rejects.toThrow(/startAt\.step\.token/);
    await expect(run(0, { q: full(), k: new Float32Array(D), v: full() })).rejects.toThrow(
      /startAt\.step\.next\.k/,
    );
  });

  it("refuses to cache or patch a hook of the layer it recomputes at one token", () => {
    const config = makeConfig(configs["post-norm, conv stem, max pool (the reference's form)"]);
    const build = (cache: string[]) =>
      buildTSTGraph(config, { startAt: "blocks.1.attn.hook_z", startStep: true, cache: cache as never });
    expect(() => build(["blocks.2.hook_resid_pre"])).not.toThrow();
    expect(() => build(["blocks.1.hook_resid_mid"])).toThrow(InputError);
    expect(() => buildTSTGraph(config, { startAt: "blocks.1.hook_mlp_out", startStep: true })).not.toThrow();
    expect(() => buildTSTGraph(config, { startAt: "blocks.1.hook_resid_pre", startStep: true })).toThrow(
      /one-token start/,
    );
    // The next layer's q, k, v are fed only where there is a next layer.
    const next = (startAt: "blocks.1.attn.hook_z" | "blocks.2.attn.hook_z") =>
      buildTSTGraph(config, { startAt, startStep: true, startStepNext: true });
    expect(() => next("blocks.1.attn.hook_z")).not.toThrow();
    expect(() => next("blocks.2.attn.hook_z")).toThrow(/startStepNext/);
  });
});
