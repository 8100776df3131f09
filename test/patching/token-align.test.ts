import { describe, expect, it } from "vitest";
import { runBaselines } from "../../src/baselines/run-baselines.js";
import { makeConfig, tokenCount, tokenLengths } from "../../src/model/config.js";
import { HookedTST } from "../../src/model/hooked-tst.js";
import { alignPair } from "../../src/patching/align.js";
import { cacheRows, type InputTable, runPatched } from "../../src/patching/engine.js";
import { presetComponents } from "../../src/patching/presets.js";
import { componentSites } from "../../src/patching/setters.js";
import { cacheHooksFor, patchedChunk } from "../../src/patching/sweep.js";
import type { Component, Pair } from "../../src/patching/types.js";
import { Runtime } from "../../src/runtime/session.js";
import { maxAbsDiff } from "./reference-models.js";

// A patch-stem model: 12 steps in windows of 4 every 2 → 5 tokens, plus the CLS token = 6. Rows of
// 12 and 5 real steps have 6 and 1 + ⌈5/2⌉ = 4 real tokens, so alignment works in tokens.
const config = makeConfig({
  channels: 2,
  seqLen: 12,
  classes: 3,
  dModel: 16,
  heads: 4,
  layers: 2,
  ff: 24,
  stem: "patch",
  patchLen: 4,
  patchStride: 2,
  cls: true,
  pool: "mean",
});
const T = tokenCount(config);
const lengths = [12, 5];
const S = config.seqLen;
const C = config.channels;
const x = Float32Array.from({ length: lengths.length * S * C }, (_, i) => Math.sin(i * 0.7) + (i % 5) * 0.3);
const mask = new Uint8Array(lengths.length * S);
lengths.forEach((n, r) => {
  mask.fill(1, r * S, r * S + n);
  x.fill(0, (r * S + n) * C, (r + 1) * S * C);
});
const table: InputTable = { x, mask, rows: lengths.length };
const runtime = new Runtime({ threads: 1 });
const model = HookedTST.fromConfig(config, 7, {}, runtime);
const pair: Pair = {
  id: 0,
  source: 1,
  target: 0,
  direction: "denoise",
  trueClass: 0,
  goodClass: 0,
  badClass: 1,
};

describe("patching a patch-stem model: positions are tokens", () => {
  it("aligns in tokens through tokenLengths", () => {
    expect(T).toBe(6);
    expect(tokenLengths(config, lengths)).toEqual([6, 4]);
    const a = alignPair(table, pair.source, pair.target, config);
    expect(a).toMatchObject({ sourceSteps: 4, targetSteps: 6, patchedSteps: 4 });
    expect(a.overlap).toBeCloseTo(4 / 6, 12);
    expect(Array.from(a.writeSteps ?? [])).toEqual([1, 1, 1, 1, 0, 0]);
    expect(presetComponents(config, "head-pos")).toHaveLength(config.layers * config.heads * T);
  });

  it("the gradient baselines, which index rows by time step, refuse it", async () => {
    const inputs = { ...table, trueClass: [0, 1] };
    await expect(runBaselines(model, inputs, [pair])).rejects.toThrow(/tokens are its time steps/);
  });

  it("position patches past the source's real tokens are not applicable; a whole-layer patch writes only shared tokens", async () => {
    const positions: Component[] = Array.from({ length: T }, (_, position) => ({
      kind: "head",
      layer: 0,
      head: 1,
      mode: "z",
      position,
    }));
    const layer: Component = { kind: "attn", layer: 0 };
    const components = [...positions, layer];
    const cache = await cacheRows(model, table, [pair.source, pair.target], cacheHooksFor(model, components));
    const { logits, status } = await patchedChunk(model, table, cache, [pair], components);
    expect(status).toEqual(["ok", "ok", "ok", "ok", "not_applicable", "not_applicable", "ok"]);
    const target = Array.from(cache.logitsOf(pair.target));
    expect(maxAbsDiff(Array.from(logits[2]), target)).toBeGreaterThan(1e-6); // a real token patch acts

    // The same layer patch written by hand: source values at tokens 0..3, the target's at 4..5.
    const patches = componentSites(config, layer).map((site) => {
      const src = cache.act(pair.source, site.hook);
      const tgt = cache.act(pair.target, site.hook);
      const per = src.length / T;
      const value = Float32Array.from(tgt);
      value.set(src.subarray(0, 4 * per), 0);
      return { site, value };
    });
    const [byHand] = await runPatched(model, table, cache, [{ target: pair.target, patches }]);
    expect(maxAbsDiff(Array.from(logits[T]), Array.from(byHand))).toBeLessThan(1e-6);
    await runtime.release();
  });
});
