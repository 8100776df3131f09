import { describe, expect, it } from "vitest";
import {
  bootstrap,
  bootstrapInterval,
  bootstrapMeans,
  bootstrapPaired,
  clusterBootstrapMean,
  clusterBootstrapMeans,
  jackknifeAcceleration,
} from "../../src/stats/bootstrap.js";
import { spearman } from "../../src/stats/correlation.js";
import { mean, sd } from "../../src/stats/descriptives.js";
import { dzBootstrapInterval } from "../../src/stats/effect-size.js";
import { expectClose, type Json, loadFixture } from "./helpers.js";

// scipy.stats.bootstrap with 10^5 resamples (scripts/fixtures/stats_fixtures.py). Our intervals
// come from our own 10^5 resamples, so the ends agree within Monte Carlo error: an end's MC sd
// is about se·√(p(1-p)/B)/φ(z_p) per side, 0.012·se for the difference at p = 0.025 and
// B = 10^5; we allow 5 of those, 0.06·se. The jackknife acceleration is deterministic: 1e-10.
const fx = loadFixture("bootstrap.json");
const B = 100_000;
const tolerance = (se: number) => 0.06 * se;

describe.each(fx.mean as Json[])("bootstrap of the mean, $name", (c) => {
  const x = Float64Array.from(c.x as number[]);
  it("BCa, percentile and basic ends within Monte Carlo tolerance of scipy; â exact", () => {
    // One bootstrap distribution serves every method and level, as scipy's `bootstrap_result`.
    const [bca] = bootstrapMeans([x], { resamples: B, seed: 11, keepDistribution: true });
    const jackknife = x.map((_, i) => (mean(x) * x.length - x[i]) / (x.length - 1));
    for (const method of ["BCa", "percentile", "basic"] as const) {
      const r = bootstrapInterval(bca.distribution!.slice(), bca.estimate, jackknife, x.length, { method });
      expect(r.method).toBe(method);
      expectClose(r.confidenceInterval.low, c[method][0], 0, tolerance(c.standard_error), `${method} low`);
      expectClose(r.confidenceInterval.high, c[method][1], 0, tolerance(c.standard_error), `${method} high`);
      if (method === "BCa")
        expectClose(r.confidenceInterval.low, bca.confidenceInterval.low, 1e-12, 0, "same BCa");
    }
    expectClose(bca.standardError, c.standard_error, 0.02, 0, "standard error");
    expectClose(bca.acceleration, c.acceleration, 1e-10, 1e-16, "acceleration");
    const r90 = bootstrapInterval(bca.distribution!.slice(), bca.estimate, jackknife, x.length, {
      level: 0.9,
    });
    expectClose(r90.confidenceInterval.low, c.BCa90[0], 0, tolerance(c.standard_error), "BCa90 low");
    expectClose(r90.confidenceInterval.high, c.BCa90[1], 0, tolerance(c.standard_error), "BCa90 high");
  });
});

describe("bootstrap engines", () => {
  it("generic engine: BCa of d_z = mean/sd within tolerance of scipy, acceleration exact", () => {
    const c = fx.d_z;
    const r = dzBootstrapInterval(c.x, { resamples: B, seed: 5 });
    expect(r.estimate).toBe(bootstrap(c.x, (s) => mean(s) / sd(s), { resamples: 10 }).estimate);
    expectClose(r.acceleration, c.acceleration, 1e-10, 1e-16, "acceleration");
    expectClose(r.confidenceInterval.low, c.BCa[0], 0, tolerance(c.standard_error), "low");
    expectClose(r.confidenceInterval.high, c.BCa[1], 0, tolerance(c.standard_error), "high");
  });

  it("cluster bootstrap equals scipy's paired BCa on cluster sums and sizes (within tolerance)", () => {
    const c = fx.cluster;
    const r = clusterBootstrapMean(c.values, c.clusters, { resamples: B, seed: 6 });
    expectClose(r.estimate, c.estimate, 1e-12, 0, "estimate");
    expect(r.n).toBe(25);
    expectClose(r.confidenceInterval.low, c.BCa[0], 0, tolerance(c.standard_error), "low");
    expectClose(r.confidenceInterval.high, c.BCa[1], 0, tolerance(c.standard_error), "high");
    expectClose(r.standardError, c.standard_error, 0.02, 0, "standard error");
  });

  it("cluster bootstraps of many columns at once: each column's interval is the one it gets alone", () => {
    const c = fx.cluster;
    const values = c.values as number[];
    const clusters = c.clusters as (string | number)[];
    const scaled = values.map((v, i) => v * 1.5 - (i % 3) * 0.1);
    // Fewer clusters: its own draws, not the others'.
    const merged = clusters.map((id) => `m${Math.floor(Number(String(id).slice(1)) / 2)}`);
    const columns = [
      { values, clusters },
      { values: scaled, clusters },
      { values, clusters: merged },
    ];
    const options = { resamples: 2000, seed: 6, stream: 11, keepDistribution: true };
    const together = clusterBootstrapMeans(columns, options);
    columns.forEach((column, j) => {
      const alone = clusterBootstrapMean(column.values, column.clusters, options);
      expect(together[j].estimate).toBe(alone.estimate);
      expect(Array.from(together[j].distribution!)).toEqual(Array.from(alone.distribution!));
      expect(together[j].confidenceInterval).toEqual(alone.confidenceInterval);
      expect(together[j].notes).toEqual(alone.notes);
    });
    expect(new Set(merged).size).toBeLessThan(new Set(clusters).size);
    expect(new Set(merged).size).toBeGreaterThan(2);
    expect(together[0].confidenceInterval).not.toEqual(together[1].confidenceInterval);
  });

  it("the vectorised path equals the generic engine resample for resample", () => {
    const x = (fx.mean as Json[])[1].x as number[];
    const [fast] = bootstrapMeans([x], { resamples: 3000, seed: 9, keepDistribution: true });
    // Same seed and stream: the generic engine draws the same indices in the same order.
    const slow = bootstrap(x, (s) => mean(s), {
      resamples: 3000,
      seed: 9,
      stream: x.length,
      keepDistribution: true,
    });
    expect(Array.from(fast.distribution!).map((v) => v.toPrecision(12))).toEqual(
      Array.from(slow.distribution!).map((v) => v.toPrecision(12)),
    );
    expectClose(fast.confidenceInterval.low, slow.confidenceInterval.low, 1e-12, 0);
  });

  it("columns do not affect each other's intervals, and the seed reproduces them", () => {
    const cols = (fx.mean as Json[]).slice(0, 3).map((c) => c.x as number[]);
    const all = bootstrapMeans(cols, { resamples: 2000, seed: 1 });
    const one = bootstrapMeans([cols[1]], { resamples: 2000, seed: 1 });
    expect(one[0].confidenceInterval).toEqual(all[1].confidenceInterval);
    const other = bootstrapMeans([cols[1]], { resamples: 2000, seed: 2 });
    expect(other[0].confidenceInterval).not.toEqual(one[0].confidenceInterval);
  });

  it("a constant column gives a NaN BCa interval with a note; percentile gives the constant", () => {
    const [bca] = bootstrapMeans([[1, 1, 1, 1]], { resamples: 200 });
    expect(bca.confidenceInterval.low).toBeNaN();
    expect(bca.notes).toContain("constant column");
    const [pct] = bootstrapMeans([[1, 1, 1, 1]], { resamples: 200, method: "percentile" });
    expect(pct.confidenceInterval.low).toBe(1);
  });

  it("paired bootstrap of Spearman's rho covers the estimate", () => {
    const x = Array.from({ length: 40 }, (_, i) => Math.sin(i) + i / 20);
    const y = x.map((v, i) => v + Math.cos(3 * i));
    const r = bootstrapPaired(x, y, (a, b) => spearman(a, b).correlation, { resamples: 2000, seed: 0 });
    expect(r.confidenceInterval.low).toBeLessThan(r.estimate);
    expect(r.confidenceInterval.high).toBeGreaterThan(r.estimate);
    expect(r.confidenceInterval.high).toBeLessThanOrEqual(1);
  });

  it("jackknife acceleration is 0 for a symmetric jackknife", () => {
    expect(jackknifeAcceleration(Float64Array.from([1, 2, 3]))).toBeCloseTo(0, 15);
  });

  it("rejects bad options naming the parameter", () => {
    expect(() => bootstrapMeans([[1, 2]], { level: 1.5 })).toThrow(/`level`/);
    expect(() => bootstrapMeans([[1, 2]], { resamples: 1 })).toThrow(/`resamples`/);
  });
});
