import { afterAll, describe, expect, it } from "vitest";
import { readDatasetFile } from "../../src/data/registry.js";
import { makeConfig } from "../../src/model/config.js";
import { HookedTST } from "../../src/model/hooked-tst.js";
import { buildPairs, predict } from "../../src/patching/build-pairs.js";
import { modelInputs } from "../../src/patching/inputs.js";
import { pairsFromList } from "../../src/patching/pairs.js";
import { Runtime } from "../../src/runtime/session.js";

describe("buildPairs with a pairs list", () => {
  const runtime = new Runtime({ threads: 1 });
  afterAll(() => runtime.release());

  it("classifies only the same-class pairs' rows and builds the pairs a full classification gives", async () => {
    const data = await readDatasetFile("datasets/JapaneseVowels/JapaneseVowels_eq_TEST.ts");
    const config = makeConfig({ channels: 12, seqLen: 25, classes: 9, dModel: 32, heads: 4, ff: 64 });
    const model = HookedTST.fromConfig(config, 3, { labelMap: data.labelMap }, runtime);
    const inputs = modelInputs(model, data);
    // rows 0–1 share class 1; 0 and 40 differ; 60, 61 share a later class
    const list = [
      { source: 0, target: 1 },
      { source: 0, target: 40 },
      { source: 60, target: 61 },
    ];
    expect(inputs.trueClass[0]).toBe(inputs.trueClass[1]);
    expect(inputs.trueClass[0]).not.toBe(inputs.trueClass[40]);
    expect(inputs.trueClass[60]).toBe(inputs.trueClass[61]);
    const built = await buildPairs(model, inputs, { strategy: "misclassified", direction: "both", list });
    const all = await predict(model, inputs.x, inputs.mask);
    const classified = [...built.predicted.keys()].filter((i) => built.predicted[i] !== -1);
    expect(classified).toEqual([0, 1, 60, 61]);
    for (const i of classified) expect(built.predicted[i]).toBe(all[i]);
    const full = pairsFromList(list, { trueClass: inputs.trueClass, predicted: all }, { direction: "both" });
    expect(built.pairs).toEqual(full);
  });
});
