import { describe, expect, it } from "vitest";
import { InputError } from "../../src/errors.js";
import { makeNoisedPairs, noisedCandidates } from "../../src/patching/noise.js";
import { makePairs, pairsFromList } from "../../src/patching/pairs.js";
import { parsePairsFile } from "../../src/patching/pairs-file.js";

// rows:        0  1  2  3  4  5  6  7
const trueClass = [1, 1, 1, 2, 2, 2, 3, 3];
const predicted = [1, 2, 1, 2, 1, 2, 3, 3];
const rows = { trueClass, predicted };

describe("pair strategies", () => {
  it("misclassified: same true class, correct source, misclassified target; noise reverses", () => {
    const set = makePairs("misclassified", rows, { direction: "both", maxSourcesPerTarget: 5 });
    const denoise = set.pairs.filter((p) => p.direction === "denoise");
    expect(denoise.map((p) => [p.source, p.target])).toEqual([
      [0, 1],
      [2, 1],
      [3, 4],
      [5, 4],
    ]);
    for (const p of denoise) {
      expect(trueClass[p.source]).toBe(trueClass[p.target]);
      expect(predicted[p.source]).toBe(trueClass[p.source]);
      expect(predicted[p.target]).not.toBe(trueClass[p.target]);
      expect(p.badClass).toBe(predicted[p.target]);
      const noise = set.pairs.find((q) => q.direction === "noise" && q.id === p.id)!;
      expect([noise.source, noise.target]).toEqual([p.target, p.source]);
      expect(noise.trueClass).toBe(p.trueClass);
    }
    expect(set.counts.misclassified).toBe(2);
  });

  it("samples sources and targets without replacement, reproducibly by seed", () => {
    const a = makePairs("misclassified", rows, { maxSourcesPerTarget: 1, seed: 7 });
    const b = makePairs("misclassified", rows, { maxSourcesPerTarget: 1, seed: 7 });
    expect(a.pairs).toEqual(b.pairs);
    expect(a.pairs.length).toBe(2);
    const seen = new Set<number>();
    for (let seed = 0; seed < 40; seed++) {
      seen.add(makePairs("misclassified", rows, { seed }).pairs[0].source);
    }
    expect([...seen].sort()).toEqual([0, 2]);
  });

  it("class filter and max targets per class", () => {
    const set = makePairs("misclassified", rows, { classes: [2] });
    expect(set.pairs.map((p) => p.target)).toEqual([4]);
    const cross = makePairs("cross-class", rows, { maxTargetsPerClass: 1, maxSourcesPerTarget: 2, seed: 3 });
    const targetsByClass = new Map<number, number>();
    for (const p of cross.pairs) {
      expect(trueClass[p.source]).not.toBe(trueClass[p.target]);
      expect(p.goodClass).toBe(trueClass[p.source]);
      expect(p.badClass).toBe(trueClass[p.target]);
      targetsByClass.set(trueClass[p.target], p.target);
    }
    expect(targetsByClass.size).toBe(3);
  });

  it("no pairs: a clear InputError that suggests another strategy", () => {
    const allRight = { trueClass, predicted: trueClass };
    expect(() => makePairs("misclassified", allRight)).toThrow(InputError);
    expect(() => makePairs("misclassified", allRight)).toThrow(
      /classifies all 8 labelled inputs correctly[\s\S]*cross-class/,
    );
    expect(() => makePairs("cross-class", rows, { direction: "noise" })).toThrow(/does not apply/);
  });

  it("noised: Gaussian noise at the requested SNR, only flipped copies make pairs", () => {
    const S = 400;
    const values = new Float32Array(3 * S).map((_, i) => Math.sin(i / 7) * 3);
    const data = { values, lengths: [S, S, S], maxLength: S, channels: 1 };
    const facts = { trueClass: [0, 1, 1], predicted: [0, 1, 0] };
    const cand = noisedCandidates(data, facts, { snrDb: 6, seed: 1 });
    expect(cand.sources).toEqual([0, 1]);
    for (const [j, src] of cand.sources.entries()) {
      let signal = 0;
      let noise = 0;
      for (let t = 0; t < S; t++) {
        signal += values[src * S + t] ** 2;
        noise += (cand.values[j * S + t] - values[src * S + t]) ** 2;
      }
      expect(10 * Math.log10(signal / noise)).toBeCloseTo(6, 0);
    }
    expect(noisedCandidates(data, facts, { snrDb: 6, seed: 1 }).values).toEqual(cand.values);
    const set = makeNoisedPairs(cand, [0, 2], facts, 3, { direction: "both" });
    expect(set.pairs.map((p) => [p.source, p.target, p.direction])).toEqual([
      [1, 4, "denoise"],
      [4, 1, "noise"],
    ]);
    expect(() => makeNoisedPairs(cand, [0, 1], facts, 3)).toThrow(/changed none[\s\S]*lower the SNR/);
  });

  it("pairs file: reads source,target, filters by dataset, names bad lines", () => {
    const text = "dataset,source,target,true_label\nJapaneseVowels,58,31,2\nLSST,1162,1086,65\n";
    expect(parsePairsFile(text, "p.csv", 400, { dataset: "JapaneseVowels" })).toEqual([
      { source: 58, target: 31, line: 2 },
    ]);
    expect(parsePairsFile(text, "p.csv", 400, { dataset: "/d/JapaneseVowels_eq_TEST.ts" })).toHaveLength(1);
    expect(() => parsePairsFile(text, "p.csv", 4000, { dataset: "PenDigits" })).toThrow(
      /JapaneseVowels, LSST/,
    );
    expect(() => parsePairsFile("source,target\n1,x\n", "p.csv", 10)).toThrow(/p\.csv, line 2: target "x"/);
    expect(() => parsePairsFile("a,b\n1,2\n", "p.csv", 10)).toThrow(/no "source" and "target"/);
    expect(() => parsePairsFile("source,target\n1,12\n", "p.csv", 10)).toThrow(/0\.\.9/);
    // a short row (fewer cells than the dataset/source/target columns need) names the line and column
    for (const [csv, options] of [
      ["source,target,dataset\n1,2\n", { dataset: "JapaneseVowels" }],
      ["dataset,source,target\nJapaneseVowels\n", { dataset: "JapaneseVowels" }],
      ["source,target\n1\n", {}],
    ] as const) {
      expect(() => parsePairsFile(csv, "p.csv", 10, options)).toThrow(
        /p\.csv, line 2: the row has [12] cells?, the header names \d columns \(\w+\)/,
      );
    }
    const set = pairsFromList([{ source: 0, target: 4 }], rows, { direction: "both" });
    expect(set.pairs[0]).toMatchObject({ trueClass: 2, goodClass: 1, badClass: 2 });
    expect(set.pairs[1]).toMatchObject({ source: 4, target: 0, trueClass: 1, goodClass: 2, badClass: 1 });
  });
});
