import { describe, expect, it } from "vitest";
import { kendallTauB, spearman, topKJaccard } from "../../src/stats/correlation.js";
import type { Alternative } from "../../src/stats/results.js";
import { expectClose, type Json, loadFixture } from "./helpers.js";

// scipy.stats.spearmanr / kendalltau, n = 3 .. 1000, with and without ties.
const fx = loadFixture("correlation.json");
const alternatives: Alternative[] = ["two-sided", "less", "greater"];

describe.each(fx.cases as Json[])("rank correlation n = $n, ties = $ties", (c) => {
  it("Spearman rho and p equal scipy (1e-9 relative)", () => {
    for (const alt of alternatives) {
      const r = spearman(c.x, c.y, alt);
      expectClose(r.correlation, c[alt].spearman[0], 1e-12, 1e-15, `${alt} rho`);
      expectClose(r.pvalue, c[alt].spearman[1], 1e-9, 1e-300, `${alt} p`);
    }
  });
  it("Kendall tau-b and p equal scipy (1e-9 relative)", () => {
    for (const alt of alternatives) {
      const r = kendallTauB(c.x, c.y, alt);
      expectClose(r.correlation, c[alt].kendall[0], 1e-12, 1e-15, `${alt} tau`);
      expectClose(r.pvalue, c[alt].kendall[1], 1e-9, 1e-300, `${alt} p`);
    }
  });
});

describe("rank agreement extras", () => {
  it("top-k Jaccard", () => {
    expect(topKJaccard([0.9, 0.1, 0.5, 0.3], [0.8, 0.6, 0.4, 0.0], 2)).toBeCloseTo(1 / 3, 15);
    expect(topKJaccard([1, 2, 3], [1, 2, 3], 3)).toBe(1);
    expect(topKJaccard([-5, 1, 2], [5, 1, 2], 1, true)).toBe(1);
    expect(() => topKJaccard([1, 2], [1, 2], 3)).toThrow(/`k`/);
  });
  it("a constant column gives NaN with a note", () => {
    const r = kendallTauB([1, 1, 1], [1, 2, 3]);
    expect(r.correlation).toBeNaN();
    expect(r.notes).toContain("constant column");
  });
});
