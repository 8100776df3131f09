import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { patchPair } from "../../src/patching/patch-pair.js";
import { haveShared, maxAbsDiff, REFERENCE, referenceModel, SHARED } from "./reference-models.js";

interface Example {
  dataset: string;
  pair: [number, number];
  baseline: number[];
  head_patch: number[][][];
  layer_patch: number[][];
  mlp_patch: number[][];
}

const examples: Example[] = haveShared
  ? JSON.parse(readFileSync(join(SHARED, "models", "reference", "examples.json"), "utf8")).pairs
  : [];

describe.skipIf(!haveShared)("reference checkpoints", () => {
  for (const ex of examples) {
    it(`slice mode reproduces examples.json for ${ex.dataset} pair ${ex.pair}`, async () => {
      const { model, inputs } = await referenceModel(ex.dataset);
      const r = await patchPair(model, inputs, ex.pair[0], ex.pair[1], { headMode: "slice" });
      expect(r.headMode).toBe("slice");
      expect(maxAbsDiff(r.baselineProbs, ex.baseline)).toBeLessThan(1e-5);
      expect(maxAbsDiff(r.headProbs, ex.head_patch)).toBeLessThan(1e-5);
      expect(maxAbsDiff(r.layerProbs, ex.layer_patch)).toBeLessThan(1e-5);
      expect(maxAbsDiff(r.mlpProbs, ex.mlp_patch)).toBeLessThan(1e-5);
    });

    it(`z mode matches the PyTorch per-head z fixture for ${ex.dataset}`, async () => {
      const fixture = JSON.parse(
        readFileSync(
          join(import.meta.dirname, "..", "fixtures", "patching", REFERENCE[ex.dataset].fixture),
          "utf8",
        ),
      );
      expect([fixture.source, fixture.target]).toEqual(ex.pair);
      const { model, inputs } = await referenceModel(ex.dataset);
      const r = await patchPair(model, inputs, ex.pair[0], ex.pair[1]);
      expect(r.headMode).toBe("z");
      expect(maxAbsDiff(r.headProbs, fixture.head_z_probs)).toBeLessThan(1e-5);
      expect(maxAbsDiff(r.sourceProbs, fixture.source_probs)).toBeLessThan(1e-5);
      // z and slice differ (the study's slices are not heads): the fixture must tell them apart.
      expect(maxAbsDiff(fixture.head_z_probs, fixture.head_slice_probs)).toBeGreaterThan(1e-3);
      expect(maxAbsDiff(r.layerProbs, fixture.layer_probs)).toBeLessThan(1e-5);
      expect(maxAbsDiff(r.mlpProbs, fixture.mlp_probs)).toBeLessThan(1e-5);
      expect(inputs.trueClass[ex.pair[1]]).toBe(fixture.true_index);
    });
  }
});
