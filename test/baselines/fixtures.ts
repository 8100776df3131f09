import { loadDataset } from "../../src/data/registry.js";
import { HookedTST } from "../../src/model/hooked-tst.js";
import { makeConfig } from "../../src/model/index.js";
import { type ModelInputs, modelInputs } from "../../src/patching/inputs.js";
import type { Pair } from "../../src/patching/types.js";

/**
 * A small random-init model on the bundled JapaneseVowels TEST rows (unequal lengths 7..29, so
 * padding is exercised), and a few pairs between rows of different lengths.
 */
export async function smallModel(seed = 3): Promise<{ model: HookedTST; inputs: ModelInputs }> {
  const ds = await loadDataset("JapaneseVowels", { split: "test" });
  const config = makeConfig({
    channels: 12,
    seqLen: 29,
    classes: 9,
    layers: 2,
    heads: 4,
    dModel: 32,
    ff: 64,
    convChannels: [8, 16, 32],
  });
  const model = HookedTST.fromConfig(config, seed);
  return { model, inputs: modelInputs(model, ds) };
}

export function somePairs(inputs: ModelInputs, count: number): Pair[] {
  const pairs: Pair[] = [];
  for (let i = 0; i < count; i++) {
    const source = 7 * i + 1;
    const target = 31 * i + 5;
    const y = inputs.trueClass[target];
    pairs.push({
      id: i,
      source,
      target,
      direction: "denoise",
      trueClass: y,
      goodClass: y,
      badClass: (y + 1) % 9,
    });
  }
  return pairs;
}

/** Pairs of rows with the same real length and the same true class (source ≠ target). */
export function sameLengthPairs(inputs: ModelInputs, count: number): Pair[] {
  const pairs: Pair[] = [];
  for (let t = 0; t < inputs.rows && pairs.length < count; t += 17) {
    for (let s = 0; s < inputs.rows; s++) {
      if (s === t || inputs.lengths[s] !== inputs.lengths[t] || inputs.trueClass[s] !== inputs.trueClass[t])
        continue;
      const y = inputs.trueClass[t];
      pairs.push({
        id: pairs.length,
        source: s,
        target: t,
        direction: "denoise",
        trueClass: y,
        goodClass: y,
        badClass: (y + 1) % 9,
      });
      break;
    }
  }
  return pairs;
}
