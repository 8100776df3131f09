import { describe, expect, it } from "vitest";
import { makeConfig, type TSTConfigInput } from "../../src/model/config.js";
import { HookedTST } from "../../src/model/hooked-tst.js";
import type { HookName } from "../../src/model/hooks.js";
import { cacheRows, type PatchedRun, runPatched, startHookOf } from "../../src/patching/engine.js";
import { presetComponents } from "../../src/patching/presets.js";
import { componentSites } from "../../src/patching/setters.js";
import { cacheHooksFor } from "../../src/patching/sweep.js";
import type { Component } from "../../src/patching/types.js";
import { Runtime } from "../../src/runtime/session.js";
import { maxAbsDiff, paddedTable } from "./reference-models.js";

/**
 * A patch of a layer's attention output or MLP output starts the run there (fed with the residual
 * the layer adds it to), not at the layer's resid_pre: the layer's work before the patched point
 * is the target's own. The same runs forced to start at resid_pre (a no-op patch of the target's
 * own resid_pre there) must give the same logits.
 */
const runtime = new Runtime({ threads: 1 });
const configs: Record<string, TSTConfigInput> = {
  "post-norm (the reference's form)": {
    channels: 2,
    seqLen: 7,
    classes: 3,
    dModel: 16,
    heads: 4,
    layers: 3,
    ff: 24,
  },
  "pre-norm, GELU, final norm": {
    channels: 2,
    seqLen: 7,
    classes: 3,
    dModel: 16,
    heads: 4,
    layers: 2,
    ff: 20,
    stem: "linear",
    norm: "pre",
    act: "gelu",
    finalNorm: true,
  },
};

describe("runs that start at a sub-layer output", () => {
  for (const [name, input] of Object.entries(configs)) {
    it(`equal the same runs from the layer's resid_pre: ${name}`, async () => {
      const config = makeConfig(input);
      const model = HookedTST.fromConfig(config, 11, {}, runtime);
      const { seqLen: S, channels: C } = config;
      const table = paddedTable([7, 4], S, C, (i) => Math.sin(i * 0.9) + (i % 4) * 0.25);
      const components: Component[] = [
        ...presetComponents(config, "layers"),
        ...presetComponents(config, "mlp"),
        { kind: "attn", layer: 1, position: 2 },
        { kind: "mlp", layer: 0, position: 3 },
      ];
      const cache = await cacheRows(model, table, [0, 1], cacheHooksFor(model, components));
      const runs: PatchedRun[] = components.map((c) => ({
        target: 0,
        patches: componentSites(config, c).map((site) => ({ site, value: cache.act(1, site.hook) })),
      }));
      for (const run of runs) expect(startHookOf(model, run)).toMatch(/^blocks\.\d\.hook_(attn|mlp)_out$/);
      const viaResidPre = runs.map((run) => {
        const hook = `blocks.${run.patches[0].site.hook.split(".")[1]}.hook_resid_pre` as HookName;
        return {
          target: 0,
          patches: [...run.patches, { site: { hook, select: [null, null] }, value: cache.act(0, hook) }],
        };
      });
      for (const run of viaResidPre) expect(startHookOf(model, run)).toMatch(/hook_resid_pre$/);
      const fromOutput = await runPatched(model, table, cache, runs);
      const fromResid = await runPatched(model, table, cache, viaResidPre);
      let worst = 0;
      let moved = 0;
      fromOutput.forEach((l, i) => {
        worst = Math.max(worst, maxAbsDiff(l, fromResid[i]));
        moved = Math.max(moved, maxAbsDiff(l, cache.logitsOf(0)));
      });
      expect(worst).toBeLessThan(1e-6);
      expect(moved).toBeGreaterThan(1e-3);
    });
  }
});
