import { describe, expect, it } from "vitest";
import { rankAgreement } from "../../src/stability/rank-agreement.js";
import { correlationInterval } from "../../src/stats/correlation-interval.js";
import { rankingAgreement } from "../../src/stats/ranking-agreement.js";
import { expectClose, type Json, loadFixture } from "./helpers.js";

// scipy.stats.bootstrap(method="BCa") over units with the same resample indices
// (scripts/fixtures/rank_agreement_fixtures.py): the intervals agree to rounding.
const fx = loadFixture("rank_agreement.json");

describe.each(fx.cases as Json[])("rank agreement BCa = scipy, $name", (c) => {
  it("Spearman and Kendall intervals replay scipy's resamples", () => {
    const indices = c.indices as number[];
    const agree = rankAgreement(Float64Array.from(c.a), Float64Array.from(c.b), c.m, {
      resamples: fx.resamples,
      level: fx.level,
      resampleIndices: (r, out) => {
        for (let i = 0; i < out.length; i++) out[i] = indices[r * c.n + i];
      },
    });
    for (const key of ["spearman", "kendall"] as const) {
      expectClose(agree[key].estimate, c[key].estimate, 1e-12, 1e-12, `${key} estimate`);
      expect(agree[key].method).toBe("BCa");
      expectClose(agree[key].ci.low, c[key].bca[0], 1e-9, 1e-12, `${key} low`);
      expectClose(agree[key].ci.high, c[key].bca[1], 1e-9, 1e-12, `${key} high`);
    }
  });
});

describe("correlationInterval", () => {
  it("moves the interval towards the side the replicates miss, where percentile reflects the bias", () => {
    // The fixture's "biased" case: about 74% of the replicates below ρ̂ = -0.2.
    const c = (fx.cases as Json[]).find((k) => k.name === "biased");
    const indices = c.indices as number[];
    const agree = rankAgreement(Float64Array.from(c.a), Float64Array.from(c.b), c.m, {
      resamples: fx.resamples,
      resampleIndices: (r, out) => {
        for (let i = 0; i < out.length; i++) out[i] = indices[r * c.n + i];
      },
    });
    expect(c.spearman.share_below).toBeGreaterThan(0.7);
    expect(agree.spearman.ci.low).toBeGreaterThan(c.spearman.percentile[0]);
    expect(agree.spearman.ci.high).toBeGreaterThan(c.spearman.percentile[1]);
    expect(agree.spearman.ci.low).toBeLessThan(agree.spearman.estimate);
    expect(agree.spearman.ci.high).toBeGreaterThan(agree.spearman.estimate);
  });

  it("falls back to the basic interval, clipped to [-1, 1], when every replicate is on one side", () => {
    const replicates = Float64Array.from({ length: 200 }, (_, i) => 0.1 + 0.5 * (i / 199));
    const jackknife = [Float64Array.from({ length: 10 }, (_, i) => 0.05 + 0.01 * i)];
    const ci = correlationInterval(replicates, 0.05, jackknife, 0.95);
    expect(ci.method).toBe("basic");
    expect(ci.biasCorrection).toBe(Number.NEGATIVE_INFINITY);
    // 2ρ̂ − the percentile ends.
    expectClose(ci.low, 0.1 - (0.1 + 0.5 * 0.975), 1e-12);
    expectClose(ci.high, 0.1 - (0.1 + 0.5 * 0.025), 1e-12);
    expect(ci.notes[0]).toMatch(/all 200 bootstrap replicates are above the estimate/);
    const clipped = correlationInterval(
      replicates.map((v) => 0.5 + (v - 0.1) * 0.7),
      0.9,
      jackknife,
      0.95,
    );
    expect(clipped.high).toBe(1);
    expectClose(clipped.low, 1.8 - (0.5 + 0.35 * 0.975), 1e-12);
  });

  it("flags an estimate outside its interval, and gives [ρ̂, ρ̂] for constant replicates", () => {
    const replicates = Float64Array.from({ length: 1000 }, (_, i) => -0.5 + i / 999);
    const jackknife = [Float64Array.from({ length: 10 }, (_, i) => 0.01 * i)];
    const outside = correlationInterval(replicates, -0.49, jackknife, 0.95);
    expect(outside.method).toBe("BCa");
    expect(outside.high).toBeLessThan(-0.49);
    expect(outside.notes.join(" ")).toMatch(/outside its interval/);
    const inside = correlationInterval(replicates, 0.1, jackknife, 0.95);
    expect(inside.low).toBeLessThanOrEqual(0.1);
    expect(inside.high).toBeGreaterThanOrEqual(0.1);
    expect(inside.notes).toEqual([]);
    const constant = correlationInterval(
      new Float64Array(50).fill(1),
      1,
      [new Float64Array(5).fill(1)],
      0.95,
    );
    expect([constant.low, constant.high]).toEqual([1, 1]);
  });

  it("rankingAgreement gives the same kind of interval, with the jackknife of each design", () => {
    const col = (shift: number, k: number) =>
      Float64Array.from({ length: 15 }, (_, u) => k + shift * Math.sin(u * 1.7 + k));
    const a = {
      name: "a",
      design: "d1",
      components: ["A", "B", "C", "D"],
      values: [0, 1, 2, 3].map((k) => col(1.5, k)),
    };
    const b = {
      name: "b",
      design: "d1",
      components: ["A", "B", "C", "D"],
      values: [0, 1, 2, 3].map((k) => col(2, k * 0.8)),
    };
    const c = {
      name: "c",
      design: "d2",
      components: ["A", "B", "C", "D"],
      values: [0, 1, 2, 3].map((k) => col(1, 3 - k)),
    };
    const rows = rankingAgreement([a, b, c], { resamples: 500, seed: 3, absolute: false });
    for (const row of rows) {
      expect(["BCa", "basic"]).toContain(row.method);
      expect(row.ciLow).toBeLessThanOrEqual(row.ciHigh);
      expect(row.ciLow).toBeGreaterThanOrEqual(-1);
      expect(row.ciHigh).toBeLessThanOrEqual(1);
    }
  });
});
