import { describe, expect, it } from "vitest";
import { makeConfig } from "../../src/model/config.js";
import { HookedTST } from "../../src/model/hooked-tst.js";
import { pairBaselines, sweep } from "../../src/patching/sweep.js";
import type { Pair } from "../../src/patching/types.js";
import { Runtime } from "../../src/runtime/session.js";
import { paddedTable } from "./reference-models.js";

/** One run per distinct input gives the unpatched logits a sweep reports for each pair. */
describe("pairBaselines", () => {
  it("equals a sweep's baselines, pair for pair, with inputs shared across pairs", async () => {
    const config = makeConfig({
      channels: 2,
      seqLen: 8,
      classes: 3,
      dModel: 16,
      heads: 4,
      layers: 2,
      ff: 24,
    });
    const model = HookedTST.fromConfig(config, 5, {}, new Runtime({ threads: 1 }));
    const { seqLen: S, channels: C } = config;
    const table = paddedTable([8, 5, 8, 3, 7], S, C, (i) => Math.cos(i * 0.43) + (i % 3) * 0.5);
    const pairs: Pair[] = [
      [0, 1, "denoise"],
      [2, 1, "denoise"],
      [1, 0, "noise"],
      [4, 3, "denoise"],
      [3, 2, "noise"],
    ].map(([source, target, direction], id) => ({
      id,
      source: source as number,
      target: target as number,
      direction: direction as Pair["direction"],
      trueClass: 1,
      goodClass: 1,
      badClass: 2,
    }));
    const swept = await sweep(model, table, pairs, {
      components: [{ kind: "head", layer: 1, head: 2, mode: "z" }],
      pairsPerBatch: 2,
    });
    const direct = await pairBaselines(model, table, pairs, { batchRows: 3 });
    expect(direct.map((b) => b.pair)).toEqual(pairs);
    direct.forEach((b, i) => {
      const s = swept.baselines[i];
      expect(s.pair.id).toBe(b.pair.id);
      for (const [got, want] of [
        [b.sourceLogits, s.sourceLogits],
        [b.targetLogits, s.targetLogits],
      ]) {
        expect(got.length).toBe(config.classes);
        let diff = 0;
        got.forEach((v, k) => {
          diff = Math.max(diff, Math.abs(v - want[k]));
        });
        expect(diff).toBeLessThan(1e-6);
      }
    });
    // The inputs differ, so do their logits: the comparison is not between constants.
    expect(direct[0].sourceLogits).not.toEqual(direct[0].targetLogits);
  });
});
