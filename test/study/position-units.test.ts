import { describe, expect, it } from "vitest";
import type { Pair } from "../../src/patching/types.js";
import { positionPairs, samplePositionUnits } from "../../src/study/position-units.js";

/** Targets 0..n-1 (class = target mod classes), each with `sources` sources; both directions. */
function pairsOf(n: number, sources: number): Pair[] {
  const pairs: Pair[] = [];
  let id = 0;
  for (let t = 0; t < n; t++) {
    for (let k = 0; k < sources; k++) {
      const s = 1000 + t * sources + k;
      const common = { id: id++, trueClass: 0, goodClass: 0, badClass: 1 };
      pairs.push({ ...common, source: s, target: t, direction: "denoise" });
      pairs.push({ ...common, source: t, target: s, direction: "noise" });
    }
  }
  return pairs;
}

const classOf = (unit: number) => unit % 3;

describe("the head × time-step units", () => {
  const pairs = pairsOf(60, 3);

  it("draws the same stratified subsample for the same seed, another for another seed", () => {
    const a = samplePositionUnits(pairs, ["denoise", "noise"], 10, 4, classOf);
    expect(samplePositionUnits(pairs, ["denoise", "noise"], 10, 4, classOf)).toEqual(a);
    for (const s of a) {
      expect(s.of).toBe(60);
      expect(s.units).toHaveLength(10);
      expect([...s.units].sort((x, y) => x - y)).toEqual(s.units);
      expect(new Set(s.units).size).toBe(10);
      // Three classes of 20 units: proportional allocation gives 3 or 4 units to each.
      const perClass = [0, 1, 2].map((c) => s.units.filter((u) => classOf(u) === c).length);
      for (const n of perClass) expect(n === 3 || n === 4).toBe(true);
    }
    const other = samplePositionUnits(pairs, ["denoise"], 10, 5, classOf);
    expect(other[0].units).not.toEqual(a[0].units);
  });

  it("keeps every pair of each chosen unit and nothing else, in pair order", () => {
    const samples = samplePositionUnits(pairs, ["denoise", "noise"], 5, 0, classOf);
    const kept = positionPairs(pairs, samples);
    const denoise = new Set(samples[0].units);
    const noise = new Set(samples[1].units);
    expect(kept).toEqual(
      pairs.filter((p) => (p.direction === "denoise" ? denoise.has(p.target) : noise.has(p.source))),
    );
    expect(kept).toHaveLength(2 * 5 * 3);
  });

  it("breaks equal remainders at random: with one unit per class every class can be drawn", () => {
    const seen = new Set<number>();
    for (let seed = 0; seed < 20; seed++) {
      for (const u of samplePositionUnits(pairs, ["denoise"], 2, seed, (unit) => unit)[0].units) seen.add(u);
    }
    expect(seen.size).toBeGreaterThan(10);
  });

  it("takes every unit and every pair under `all` (null) or when there are fewer units than the cap", () => {
    for (const max of [null, 60, 100]) {
      const samples = samplePositionUnits(pairs, ["denoise", "noise"], max, 0, classOf);
      expect(samples.map((s) => s.units.length)).toEqual([60, 60]);
      expect(positionPairs(pairs, samples)).toEqual(pairs);
    }
  });

  it("samples pair-directions under the pooled compatibility switch", () => {
    const [pooled] = samplePositionUnits(pairs, ["pooled"], 7, 0, (_, p) => p.trueClass);
    expect(pooled.of).toBe(pairs.length);
    expect(positionPairs(pairs, [pooled])).toEqual(pooled.units.map((i) => pairs[i]));
  });
});
