import { describe, expect, it } from "vitest";
import * as tspatch from "../src/index.js";

describe("library entry point", () => {
  it("exports the common entry points by name and each layer as a namespace", () => {
    for (const name of [
      "loadDataset",
      "loadDatasetSplits",
      "HookedTST",
      "loadModel",
      "sweep",
      "patchPair",
      "trainModel",
      "evaluate",
    ]) {
      expect(typeof (tspatch as Record<string, unknown>)[name], name).toBe("function");
    }
    const { data, graph, runtime, model, train, patching, stats, diagnostics } = tspatch;
    for (const [name, ns] of Object.entries({
      data,
      graph,
      runtime,
      model,
      train,
      patching,
      stats,
      diagnostics,
    })) {
      expect(Object.keys(ns).length, name).toBeGreaterThan(0);
    }
  });

  it("loads a bundled dataset and runs a test through the entry point alone", async () => {
    const { test } = await tspatch.loadDatasetSplits("JapaneseVowels");
    expect(test.cases).toBe(370);
    // t of [1, 2, 3] against 0: mean 2, sd 1, t = 2 / (1 / sqrt 3) = 3.4641.
    expect(tspatch.stats.ttest1samp([1, 2, 3]).statistic).toBeCloseTo(3.4641016, 6);
  });
});
