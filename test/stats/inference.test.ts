// Fixtures: OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 scripts/fixtures/inference_fixtures.py
// (statsmodels ttost_paired, an independent Python FCR and hierarchical-FDR implementation from the
// papers, scipy f_oneway, statsmodels MixedLM REML with variance components).
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/random/rng.js";
import { crossedRandomEffects } from "../../src/stats/crossed-effects.js";
import { tostMean } from "../../src/stats/equivalence.js";
import { fcrIntervals } from "../../src/stats/fcr.js";
import { classHeterogeneity } from "../../src/stats/heterogeneity.js";
import { componentTree, type HypothesisNode, hierarchicalFdr, simes } from "../../src/stats/hierarchical.js";
import { classifyImportance } from "../../src/stats/importance.js";
import { simulateFcr, simulateTreeFdr, tostSizeAtBound } from "../../src/stats/inference-calibration.js";
import { adjustPValues } from "../../src/stats/multiplicity.js";
import { ttest1samp } from "../../src/stats/ttest.js";
import { expectClose, type Json, loadFixture } from "./helpers.js";

const fixture = loadFixture("inference.json");

describe("TOST (statsmodels ttost_paired)", () => {
  it.each(fixture.tost as Json[])("case %#", (c: Json) => {
    const r = tostMean(c.x, { low: c.low, high: c.high });
    expectClose(r.pvalue, c.pvalue, 1e-9, 1e-300, "p");
    expectClose(r.lower.statistic, c.t_low, 1e-11, 0, "t_low");
    expectClose(r.lower.pvalue, c.p_low, 1e-9, 1e-300, "p_low");
    expectClose(r.upper.statistic, c.t_high, 1e-11, 0, "t_high");
    expectClose(r.upper.pvalue, c.p_high, 1e-9, 1e-300, "p_high");
  });

  it("rejects at alpha exactly when the (1 - 2 alpha) t interval is inside the bounds", () => {
    const rng = new Rng(3);
    for (let k = 0; k < 200; k++) {
      const x = Array.from({ length: 12 }, () => rng.normal() * 0.02 + (rng.float() - 0.5) * 0.02);
      const ci = ttest1samp(x).confidenceInterval(0.9);
      const inside = ci.low > -0.01 && ci.high < 0.01;
      expect(tostMean(x, { low: -0.01, high: 0.01 }).pvalue < 0.05).toBe(inside);
    }
  });

  it("refuses empty bounds and notes a constant column", () => {
    expect(() => tostMean([1, 2], { low: 0.1, high: 0.1 })).toThrow(/low < high/);
    expect(tostMean([0, 0, 0], { low: -1, high: 1 }).notes).toContain("constant column");
  });
});

describe("important / negligible / inconclusive", () => {
  it("uses the three words with the family's correction on both tests", () => {
    const r = classifyImportance(
      [
        { estimate: 0.2, pvalue: 0.001, pvalueTost: 0.99 }, // large and significant
        { estimate: -6e-6, pvalue: 1e-8, pvalueTost: 1e-9 }, // significant but negligible (Lakens case C)
        { estimate: 0.005, pvalue: 0.001, pvalueTost: 0.3 }, // significant, below SESOI, not equivalent
        { estimate: 0.05, pvalue: 0.4, pvalueTost: 0.6 }, // nothing shown
        { estimate: 0.001, pvalue: 0.5, pvalueTost: 0.04 }, // equivalent before correction only
      ],
      { sesoi: 0.01 },
    );
    expect(r.status).toEqual(["important", "negligible", "inconclusive", "inconclusive", "inconclusive"]);
    expect(r.counts).toEqual({ important: 1, negligible: 1, inconclusive: 3 });
    expect(Array.from(r.adjustedTost)).toEqual(
      Array.from(adjustPValues([0.99, 1e-9, 0.3, 0.6, 0.04], "bh").adjusted),
    );
  });
});

describe("FCR-adjusted CIs (Benjamini-Yekutieli 2005, independent Python)", () => {
  it.each(fixture.fcr as Json[])("case %#", (c: Json) => {
    const rows = c.estimate.map((e: number, j: number) => ({
      estimate: e,
      standardError: c.se[j],
      df: c.df,
    }));
    const r = fcrIntervals(rows, c.selected, c.q);
    expectClose(r.level, c.level, 1e-15, 0, "level");
    r.intervals.forEach((ci, j) => {
      if (!c.selected[j]) expect(ci).toBeNull();
      else {
        expectClose(ci?.low ?? Number.NaN, c.low[j], 1e-9, 1e-14, `low ${j}`);
        expectClose(ci?.high ?? Number.NaN, c.high[j], 1e-9, 1e-14, `high ${j}`);
      }
    });
  });

  it("keeps the false coverage rate of selected intervals at most q in simulation", () => {
    // True FCR here is 0.043 (4,000 replicates); 1,000 replicates have a Monte Carlo SE of 0.005.
    const r = simulateFcr({ m: 24, active: 8, effect: 0.9, n: 12, sims: 1000, seed: 11 });
    expect(r.selected).toBeGreaterThan(3000);
    expect(r.adjusted).toBeLessThan(0.06);
    expect(r.adjusted).toBeLessThan(r.ordinary);
  });
});

describe("hierarchical FDR (Yekutieli 2008, independent Python)", () => {
  it("simes matches the definition", () => {
    expect(simes([0.01, 0.04, 0.03])).toBeCloseTo(0.03, 15);
    expect(simes([0.2, 0.001])).toBeCloseTo(0.002, 15);
  });

  it.each(fixture.hierarchical as Json[])("case %#", (c: Json) => {
    const r = hierarchicalFdr(c.tree as HypothesisNode[], c.q);
    expect(r.decisions.map((d) => d.name)).toEqual(c.decisions.map((d: Json) => d.name));
    r.decisions.forEach((d, j) => {
      const e = c.decisions[j];
      expect(d.family, d.name).toBe(e.family);
      expect(d.tested, d.name).toBe(e.tested);
      expect(d.rejected, d.name).toBe(e.rejected);
      expectClose(d.pvalue, e.pvalue, 1e-13, 0, `${d.name} p`);
      expectClose(d.adjusted, e.adjusted, 1e-13, 0, `${d.name} adjusted`);
    });
    expect(r.familiesTested).toBe(c.families_tested);
    expect(r.discoveries).toBe(c.discoveries);
  });

  it("builds the layer → head → position tree from component names", () => {
    const tree = componentTree(["L0H0", "L0H1P0", "L0H1P1", "L1H0"], [0.01, 0.02, 0.5, 0.9]);
    expect(tree?.map((n) => n.name)).toEqual(["L0", "L1"]);
    expect(tree?.[0].children?.map((n) => n.name)).toEqual(["L0H0", "L0H1"]);
    expect(tree?.[0].children?.[1].children?.map((n) => n.name)).toEqual(["L0H1P0", "L0H1P1"]);
    expect(componentTree(["L0H0", "mlp0"], [0.1, 0.2])).toBeNull();
  });

  it("keeps the tree's FDR near q under the null and in a mixed scenario (small simulation)", () => {
    // 3 layers × 8 heads × 4 positions of z-tests; scripts/hierarchical-fdr.ts runs the large version.
    const shape = { layers: 3, heads: 8, positions: 4 };
    const none = simulateTreeFdr(
      { ...shape, name: "null", active: () => false, z: 0 },
      { sims: 400, seed: 5 },
    );
    expect(none.hierarchicalFdr).toBeLessThan(0.08);
    expect(none.flatFdr).toBeLessThan(0.08);
    const mixed = simulateTreeFdr(
      { ...shape, name: "mixed", active: (l, h, p) => l === 1 && h < 3 && p < 2, z: 3.5 },
      { sims: 400, seed: 5 },
    );
    expect(mixed.hierarchicalFdr).toBeLessThan(2 * 1.44 * 0.05);
    expect(mixed.hierarchicalPower).toBeGreaterThan(mixed.flatPower);
  });

  it("TOST holds its size at the equivalence bound", () => {
    expect(tostSizeAtBound({ n: 35, sesoi: 0.01, sd: 0.02, sims: 1000, seed: 2 })).toBeLessThan(0.07);
  });
});

describe("class heterogeneity (scipy f_oneway)", () => {
  it.each(fixture.anova as Json[])("case %#", (c: Json) => {
    const r = classHeterogeneity(c.values, c.labels);
    expectClose(r.statistic, c.F, 1e-11, 0, "F");
    expectClose(r.pvalue, c.pvalue, 1e-9, 1e-300, "p");
    r.classes.forEach((g, j) => {
      expectClose(g.mean, c.means[j], 1e-12, 1e-15, "mean");
    });
  });
});

describe("crossed random intercepts (statsmodels MixedLM, REML)", () => {
  it.each(fixture.crossed as Json[])("case %#", (c: Json) => {
    const r = crossedRandomEffects(c.y, c.source, c.target);
    // Both optimise the same REML criterion numerically: agreement to optimiser tolerance.
    expectClose(r.estimate, c.mu, 1e-4, 1e-4, "mu");
    expectClose(r.standardError, c.se, 2e-3, 0, "se");
    expectClose(r.varianceSource, c.var_source, 1e-2, 1e-3, "var source");
    expectClose(r.varianceTarget, c.var_target, 1e-2, 1e-3, "var target");
    expectClose(r.varianceResidual, c.var_residual, 1e-2, 1e-3, "var residual");
  });

  it("says when a design is too large to fit", () => {
    const r = crossedRandomEffects([1, 2, 3, 4], [0, 1, 2, 3], [0, 1, 2, 3], { maxLevels: 4 });
    expect(r.estimate).toBeNaN();
    expect(r.notes[0]).toMatch(/not fitted/);
  });
});
