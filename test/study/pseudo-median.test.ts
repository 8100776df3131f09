import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { selectKth } from "../../src/stats/select-kth.js";
import { pseudoMedian } from "../../src/study/analysis.js";

/**
 * The Hodges–Lehmann pseudo-median by selection against numpy's median of every Walsh average
 * (scripts/fixtures/pseudo_median_fixtures.py), and the selection it rests on against a sort.
 */
const fixture = JSON.parse(
  readFileSync(new URL("../fixtures/stats/pseudo_median.json", import.meta.url), "utf8"),
) as { cases: { name: string; x: number[]; averages: number; pseudo_median: number }[] };

describe("pseudoMedian", () => {
  for (const c of fixture.cases) {
    it(`equals numpy's median of the ${c.averages} Walsh averages: ${c.name}`, () => {
      const got = pseudoMedian(c.x);
      expect(Math.abs(got - c.pseudo_median)).toBeLessThanOrEqual(
        1e-15 * Math.max(1, Math.abs(c.pseudo_median)),
      );
    });
  }

  it("is NaN for no values or a non-finite value, not a number chosen around it", () => {
    expect(pseudoMedian([])).toBeNaN();
    expect(pseudoMedian([0.1, Number.NaN, 0.2])).toBeNaN();
    expect(pseudoMedian([0.1, Number.POSITIVE_INFINITY])).toBeNaN();
  });
});

describe("selectKth", () => {
  it("gives every order statistic of a sample with ties, and partitions around it", () => {
    let state = 7;
    const next = () => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return Math.floor((state / 2147483648) * 50) / 10; // ties: 50 distinct values
    };
    const values = Float64Array.from({ length: 301 }, next);
    const sorted = Float64Array.from(values).sort();
    for (const k of [0, 1, 150, 151, 299, 300]) {
      const a = Float64Array.from(values);
      expect(selectKth(a, k)).toBe(sorted[k]);
      for (let i = 0; i < k; i++) expect(a[i]).toBeLessThanOrEqual(a[k]);
      for (let i = k + 1; i < a.length; i++) expect(a[i]).toBeGreaterThanOrEqual(a[k]);
    }
  });
});
