import { describe, expect, it } from "vitest";
import * as tspatch from "../../src/index.js";
import { Rng } from "../../src/random/rng.js";
import { streams } from "../../src/random/streams.js";

const draws = (rng: Rng) => [rng.uint32(), rng.uint32(), rng.uint32()];

describe("the stream registry", () => {
  it("keeps the stream numbers every saved run and fixture was drawn with", () => {
    const cases: [Rng, number][] = [
      [streams.init(7), 0x7157],
      [streams.split(7), 1],
      [streams.shuffle(7, 3), 0x40000003],
      [streams.dropout(7, 12), 0x8000000c],
      [streams.pairTargets(7, 4), 0x01000004],
      [streams.pairSources(7, 90), 0x0200005a],
      [streams.noise(7, 5), 0x03000005],
      [streams.positionUnits(7, 1), 0x04000001],
    ];
    for (const [rng, stream] of cases) expect(draws(rng)).toEqual(draws(new Rng(7, stream)));
    expect(streams.permutation(9)).toBe(0x40000009);
  });

  it("gives each purpose its own stream for the same seed and index", () => {
    const first = [
      streams.split(0),
      streams.shuffle(0, 1),
      streams.dropout(0, 1),
      streams.pairTargets(0, 1),
      streams.pairSources(0, 1),
      streams.noise(0, 1),
      streams.positionUnits(0, 1),
    ].map((rng) => rng.uint32());
    expect(new Set(first).size).toBe(first.length);
  });

  it("is reachable from the library entry point, and stats.Rng is the same class", () => {
    expect(tspatch.random.Rng).toBe(Rng);
    expect(tspatch.stats.Rng).toBe(Rng);
    expect(tspatch.random.streams).toBe(streams);
  });
});
