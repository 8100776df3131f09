import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InterruptedError } from "../../src/errors.js";
import type { HookName } from "../../src/model/hooks.js";
import { cacheRows, runPatched, startHookOf } from "../../src/patching/engine.js";
import { logSoftmax } from "../../src/patching/metrics.js";
import { presetComponents } from "../../src/patching/presets.js";
import { componentSites } from "../../src/patching/setters.js";
import { cacheHooksFor, patchedChunk, sweep } from "../../src/patching/sweep.js";
import type { Component, Pair } from "../../src/patching/types.js";
import { haveShared, maxAbsDiff, referenceModel } from "./reference-models.js";

const pair = (id: number, source: number, target: number): Pair => ({
  id,
  source,
  target,
  direction: "denoise",
  trueClass: 2,
  goodClass: 2,
  badClass: 3,
});

const tmp = mkdtempSync(join(tmpdir(), "tspatch-patching-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!haveShared)("patching invariants (JapaneseVowels reference model)", () => {
  it("source = target changes nothing, for every patch kind", async () => {
    const { model, inputs } = await referenceModel("JapaneseVowels");
    const components: Component[] = [
      ...presetComponents(model.config, "heads", "z"),
      ...presetComponents(model.config, "heads", "slice"),
      ...presetComponents(model.config, "layers"),
      ...presetComponents(model.config, "mlp"),
      ...presetComponents(model.config, "resid-mid"),
      { kind: "head", layer: 1, head: 2, mode: "z", position: 4 },
      {
        kind: "group",
        heads: [
          { layer: 0, head: 1 },
          { layer: 2, head: 7 },
        ],
        mode: "z",
      },
      { kind: "path", sender: { layer: 0, head: 3 }, receiver: { layer: 2, head: 1 }, input: "k" },
    ];
    const p = [pair(0, 31, 31)];
    const cache = await cacheRows(model, inputs, [31], cacheHooksFor(model, components));
    const { logits } = await patchedChunk(model, inputs, cache, p, components);
    const unpatched = cache.logitsOf(31);
    for (const l of logits) expect(maxAbsDiff(l, unpatched)).toBeLessThan(1e-5);
  });

  it("patching every head of a layer (z) equals patching that layer's hook_attn_out", async () => {
    const { model, inputs } = await referenceModel("JapaneseVowels");
    const all = (layer: number): Component => ({
      kind: "group",
      heads: Array.from({ length: model.config.heads }, (_, head) => ({ layer, head })),
      mode: "z",
    });
    const components: Component[] = [all(0), all(1), all(2), ...presetComponents(model.config, "layers")];
    const cache = await cacheRows(model, inputs, [58, 31], cacheHooksFor(model, components));
    const { logits } = await patchedChunk(model, inputs, cache, [pair(0, 58, 31)], components);
    for (let l = 0; l < 3; l++) {
      expect(maxAbsDiff(logits[l], logits[3 + l])).toBeLessThan(1e-4);
      expect(
        maxAbsDiff(logSoftmax(logits[l]).map(Math.exp), logSoftmax(logits[3 + l]).map(Math.exp)),
      ).toBeLessThan(1e-6);
    }
    // and it does change the run (the test would pass trivially otherwise)
    expect(maxAbsDiff(logits[0], cache.logitsOf(31))).toBeGreaterThan(1e-3);
  });

  it("z-mode head runs start at the layer's attn.hook_z and equal the same runs started at resid_pre", async () => {
    const { model, inputs } = await referenceModel("JapaneseVowels");
    const components: Component[] = [
      ...presetComponents(model.config, "heads", "z"),
      { kind: "head", layer: 1, head: 2, mode: "z", position: 4 },
      { kind: "head", layer: 2, head: 5, mode: "z", position: 0 },
    ];
    const cache = await cacheRows(model, inputs, [58, 31], cacheHooksFor(model, components));
    const runs = components.map((c) => ({
      target: 31,
      patches: componentSites(model.config, c).map((site) => ({ site, value: cache.act(58, site.hook) })),
    }));
    for (const run of runs) expect(startHookOf(model, run)).toMatch(/^blocks\.\d\.attn\.hook_z$/);
    // The same patches plus the target's own resid_pre of that layer (a no-op) force a resid_pre start.
    const viaResidPre = runs.map((run) => {
      const hook = `blocks.${run.patches[0].site.hook.split(".")[1]}.hook_resid_pre` as HookName;
      return {
        target: 31,
        patches: [...run.patches, { site: { hook, select: [null, null] }, value: cache.act(31, hook) }],
      };
    });
    for (const run of viaResidPre) expect(startHookOf(model, run)).toMatch(/hook_resid_pre$/);
    const fromZ = await runPatched(model, inputs, cache, runs);
    const fromResid = await runPatched(model, inputs, cache, viaResidPre);
    let worst = 0;
    let moved = 0;
    fromZ.forEach((l, i) => {
      worst = Math.max(worst, maxAbsDiff(l, fromResid[i]));
      moved = Math.max(moved, maxAbsDiff(l, cache.logitsOf(31)));
    });
    expect(worst).toBeLessThan(1e-6);
    expect(moved).toBeGreaterThan(1e-3);
  });

  it("patching the whole residual stream after the last layer reproduces the source's output", async () => {
    const { model, inputs } = await referenceModel("JapaneseVowels");
    const last: Component = { kind: "resid", layer: model.config.layers - 1, point: "post" };
    const first: Component = { kind: "resid", layer: 0, point: "pre" };
    const cache = await cacheRows(model, inputs, [58, 31], cacheHooksFor(model, [last, first]));
    const runs = [last, first].map((c) => ({
      target: 31,
      patches: componentSites(model.config, c).map((site) => ({ site, value: cache.act(58, site.hook) })),
    }));
    const [fromLast, fromFirst] = await runPatched(model, inputs, cache, runs);
    expect(maxAbsDiff(fromLast, cache.logitsOf(58))).toBeLessThan(1e-5);
    expect(maxAbsDiff(fromFirst, cache.logitsOf(58))).toBeLessThan(1e-4);
    expect(maxAbsDiff(cache.logitsOf(58), cache.logitsOf(31))).toBeGreaterThan(0.1);
  });

  it("path patching matches the PyTorch full-forward fixture (MLPs frozen and recomputed)", async () => {
    const fixture = JSON.parse(
      readFileSync(
        join(import.meta.dirname, "..", "fixtures", "patching", "path_japanesevowels.json"),
        "utf8",
      ),
    );
    const { model, inputs } = await referenceModel("JapaneseVowels");
    const components = (["q", "k", "v"] as const).flatMap((input) =>
      presetComponents(model.config, `path-${input}`),
    ) as Extract<Component, { kind: "path" }>[];
    const cache = await cacheRows(
      model,
      inputs,
      [fixture.source, fixture.target],
      cacheHooksFor(model, components),
    );
    for (const freezeMlps of [true, false]) {
      const { logits } = await patchedChunk(
        model,
        inputs,
        cache,
        [pair(0, fixture.source, fixture.target)],
        components,
        {
          freezeMlps,
        },
      );
      let worst = 0;
      let moved = 0;
      components.forEach((c, i) => {
        const want =
          fixture.logits[freezeMlps ? "freeze" : "recompute"][c.input][c.sender.layer][c.sender.head][
            c.receiver.layer - c.sender.layer - 1
          ][c.receiver.head];
        worst = Math.max(worst, maxAbsDiff(Array.from(logits[i]), want));
        moved = Math.max(moved, maxAbsDiff(logits[i], cache.logitsOf(fixture.target)));
      });
      expect(worst).toBeLessThan(1e-4);
      expect(moved).toBeGreaterThan(1e-3);
    }
  });

  // float32 kernels may round differently for other batch sizes: probabilities agree to 1e-6
  // absolutely; KL and logit differences are computed from float32 logits of size ~10 (ulp ~1e-6),
  // so they agree to 1e-5.
  it("batched and one-at-a-time sweeps agree to 1e-6", async () => {
    const { model, inputs } = await referenceModel("JapaneseVowels");
    const components = [
      ...presetComponents(model.config, "heads"),
      ...presetComponents(model.config, "mlp"),
      { kind: "resid", layer: 1, point: "pre", position: 3 } as Component,
    ];
    const pairs = [
      pair(0, 58, 31),
      pair(1, 58, 36),
      pair(2, 5, 1),
      { ...pair(2, 1, 5), direction: "noise" as const },
    ];
    const batched = await sweep(model, inputs, pairs, { components, batchRows: 512, pairsPerBatch: 4 });
    const single = await sweep(model, inputs, pairs, { components, batchRows: 1, pairsPerBatch: 1 });
    expect(batched.rows.length).toBe(pairs.length * components.length);
    batched.rows.forEach((r, i) => {
      const s = single.rows[i];
      expect(s.component).toEqual(r.component);
      if (r.status === "not_applicable" || s.status === "not_applicable") throw new Error("equal lengths");
      expect(Math.abs(r.dpTrue - s.dpTrue)).toBeLessThan(1e-6);
      // recovery is dpTrue over a per-pair constant, so it agrees whenever dpTrue does.
      expect(Math.abs(r.klSource - s.klSource)).toBeLessThan(1e-5);
      expect(Math.abs(r.logitDiff - s.logitDiff)).toBeLessThan(1e-5);
    });
  });

  it("concurrent sweeps give the same rows as the same sweeps one after another", async () => {
    // The engine reuses its feed buffers between calls; two sweeps in flight at once must not share them.
    const { model, inputs } = await referenceModel("JapaneseVowels");
    const components = presetComponents(model.config, "heads");
    const a = [pair(0, 58, 31), pair(1, 5, 1)];
    const b = [pair(0, 58, 36), { ...pair(1, 1, 5), direction: "noise" as const }];
    const options = { components, batchRows: 16, pairsPerBatch: 1 };
    const [ca, cb] = await Promise.all([sweep(model, inputs, a, options), sweep(model, inputs, b, options)]);
    const sa = await sweep(model, inputs, a, options);
    const sb = await sweep(model, inputs, b, options);
    expect(ca.rows.map((r) => r.dpTrue)).toEqual(sa.rows.map((r) => r.dpTrue));
    expect(cb.rows.map((r) => r.dpTrue)).toEqual(sb.rows.map((r) => r.dpTrue));
    expect(sa.rows.map((r) => r.dpTrue)).not.toEqual(sb.rows.map((r) => r.dpTrue));
  });

  it("an interrupted sweep resumes from its checkpoint with the same results", async () => {
    const { model, inputs } = await referenceModel("JapaneseVowels");
    const components = presetComponents(model.config, "layers");
    const pairs = [pair(0, 58, 31), pair(1, 58, 36), pair(2, 5, 1)];
    const checkpoint = join(tmp, "resume.checkpoint");
    const controller = new AbortController();
    const first = sweep(model, inputs, pairs, {
      components,
      pairsPerBatch: 1,
      checkpoint,
      signal: controller.signal,
      onProgress: (done) => {
        if (done === 1) controller.abort();
      },
    });
    await expect(first).rejects.toBeInstanceOf(InterruptedError);
    const resumed = await sweep(model, inputs, pairs, { components, pairsPerBatch: 1, checkpoint });
    expect(resumed.resumedPairs).toBe(1);
    const fresh = await sweep(model, inputs, pairs, { components });
    expect(
      maxAbsDiff(
        resumed.rows.map((r) => r.dpTrue),
        fresh.rows.map((r) => r.dpTrue),
      ),
    ).toBeLessThan(1e-6);
    expect(resumed.rows.map((r) => r.component)).toEqual(fresh.rows.map((r) => r.component));
    await expect(
      sweep(model, inputs, pairs, { components: presetComponents(model.config, "mlp"), checkpoint }),
    ).rejects.toThrow(/different sweep/);
  });
});
