import { describe, expect, it } from "vitest";
import { cohenD, hedgesG, pooledSd } from "../../src/stats/effect-size.js";
import { minimumDetectableEffect, tTestPower } from "../../src/stats/power.js";
import { expectClose, type Json, loadFixture } from "./helpers.js";

// statsmodels TTestPower (power, solve_power) and numpy two-group effect sizes.
const dist = loadFixture("distributions.json");
const groups = loadFixture("two_group.json");

describe("power of the one-sample t-test", () => {
  it("equals the noncentral-t power to 1e-9 relative, and statsmodels TTestPower.power to 1e-7", () => {
    // statsmodels takes its critical value from scipy's stdtrit, itself off by up to 4e-9; the
    // 1e-9 reference uses 40-digit (mpmath) critical values with scipy's Boost noncentral t.
    for (const c of dist.power) {
      const alternative = c.alternative === "larger" ? "greater" : "two-sided";
      const p = tTestPower(c.d, { n: c.n, alpha: c.alpha, alternative });
      const label = `n=${c.n} d=${c.d} alpha=${c.alpha} ${c.alternative}`;
      expectClose(p, c.power_exact_crit, 1e-9, 0, label);
      expectClose(p, c.power, 1e-7, 0, `${label} (statsmodels)`);
    }
  });

  it("minimum detectable effect at power 0.8: 1e-9 of a tight scipy root, 1e-4 of statsmodels solve_power", () => {
    // statsmodels' solve_power stops early (2e-5 relative at n = 1000); the tight reference is
    // brentq (xtol 1e-15) on the same power with 40-digit critical values.
    for (const c of dist.mde) {
      const mde = minimumDetectableEffect({ n: c.n, alpha: c.alpha });
      expectClose(mde, c.mde_tight, 1e-9, 0, `n=${c.n} alpha=${c.alpha}`);
      expectClose(mde, c.mde, 1e-4, 0, `n=${c.n} alpha=${c.alpha} (statsmodels)`);
    }
    // and our root is tight: the power there is 0.8 to 1e-10
    expectClose(tTestPower(minimumDetectableEffect({ n: 50 }), { n: 50 }), 0.8, 1e-10);
  });

  it("Bonferroni adjustment for m tests raises the MDE", () => {
    const one = minimumDetectableEffect({ n: 50 });
    const many = minimumDetectableEffect({ n: 50, tests: 24, correction: "bonferroni" });
    expectClose(many, minimumDetectableEffect({ n: 50, alpha: 0.05 / 24 }), 1e-12);
    expect(many).toBeGreaterThan(one);
  });
});

describe.each(groups.cases as Json[])("two-group effect sizes %#", (c) => {
  it("Cohen's d and Hedges' g with the pooled sd equal numpy/scipy", () => {
    expectClose(pooledSd(c.x, c.y), c.pooled_sd, 1e-12);
    expectClose(cohenD(c.x, c.y).estimate, c.d, 1e-12);
    expectClose(hedgesG(c.x, c.y).estimate, c.g, 1e-12);
  });
});
