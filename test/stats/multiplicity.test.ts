import { describe, expect, it } from "vitest";
import {
  adjustedAlpha,
  adjustPValues,
  type Correction,
  storeyQValues,
} from "../../src/stats/multiplicity.js";
import { expectClose, type Json, loadFixture } from "./helpers.js";

// statsmodels.stats.multitest.multipletests, m = 1 .. 500, with ties and a p of exactly 1.
const fx = loadFixture("multiplicity.json");
const methods: [Correction, string][] = [
  ["bh", "fdr_bh"],
  ["by", "fdr_by"],
  ["holm", "holm"],
  ["bonferroni", "bonferroni"],
];

describe.each(fx.cases as Json[])("multiple testing, m = $m", (c) => {
  it.each(methods)("%s equals statsmodels %s (1e-12 relative)", (ours, theirs) => {
    const r = adjustPValues(c.p, ours, 0.05);
    expect(r.m).toBe(c.m);
    c[theirs].adjusted.forEach((e: number, i: number) => {
      expectClose(r.adjusted[i], e, 1e-12, 0, `p[${i}]`);
    });
    // statsmodels rejects at p_adj <= alpha; ours at p_adj < alpha (the rule): equal
    // unless an adjusted p is exactly alpha.
    c[theirs].reject.forEach((e: boolean, i: number) => {
      if (r.adjusted[i] !== 0.05) expect(r.reject[i], `reject[${i}]`).toBe(e);
    });
  });
});

describe("multiple testing extras", () => {
  it("NaN p-values stay NaN and do not count in m", () => {
    const r = adjustPValues([0.01, Number.NaN, 0.02], "bonferroni");
    expect(r.m).toBe(2);
    expect(r.adjusted[1]).toBeNaN();
    expect(r.adjusted[0]).toBeCloseTo(0.02, 15);
  });

  it("Storey q-values: pi0 = 1 reduces to BH; pi0 < 1 scales it", () => {
    const p = [0.001, 0.01, 0.02, 0.6, 0.9];
    const q = storeyQValues(p);
    expect(q.pi0).toBe(Math.min(1, 2 / (5 * 0.5)));
    const bh = adjustPValues(p, "bh").adjusted;
    q.qvalues.forEach((v, i) => {
      expectClose(v, bh[i] * q.pi0, 1e-15);
    });
    // half true effects, half uniform nulls: 24 of the 100 p-values exceed 0.5, so pi0 = 0.48
    const many = Array.from({ length: 100 }, (_, i) => (i < 50 ? 0.001 : (i - 50) / 50));
    expect(storeyQValues(many).pi0).toBeCloseTo(0.48, 15);
  });

  it("adjusted alpha for m tests", () => {
    expect(adjustedAlpha(0.05, 24, "bonferroni")).toBeCloseTo(0.05 / 24, 15);
    expect(adjustedAlpha(0.05, 24, "bh", 3)).toBeCloseTo((0.05 * 3) / 24, 15);
  });

  it("rejects p-values outside [0, 1]", () => {
    expect(() => adjustPValues([0.5, 1.2])).toThrow(/outside/);
  });
});
