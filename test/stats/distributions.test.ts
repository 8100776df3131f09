import { describe, expect, it } from "vitest";
import {
  nctCdf,
  nctQuantile,
  nctSf,
  normalCdf,
  normalQuantile,
  normalSf,
  tCdf,
  tQuantile,
  tSf,
} from "../../src/stats/distributions.js";
import { expectClose, loadFixture } from "./helpers.js";

const fx = loadFixture("distributions.json");

describe("distributions against scipy 1.10 / mpmath", () => {
  it("normal cdf, sf and quantile to 1e-12 relative (tails included)", () => {
    for (const c of fx.normal) {
      // scipy underflows to 0 below about -37.5 where the true value is still a subnormal
      expectClose(normalCdf(c.x), c.cdf, 1e-12, 1e-300, `cdf(${c.x})`);
      expectClose(normalSf(c.x), c.sf, 1e-12, 0, `sf(${c.x})`);
    }
    for (const c of fx.normal_quantile) expectClose(normalQuantile(c.p), c.q, 1e-12, 1e-15, `ppf(${c.p})`);
  });

  it("Student t cdf and sf to 1e-10 relative, including p-values near 1e-300", () => {
    for (const c of fx.t) {
      expectClose(tCdf(c.x, c.df), c.cdf, 1e-10, 0, `t cdf(${c.x}; ${c.df})`);
      expectClose(tSf(c.x, c.df), c.sf, 1e-10, 0, `t sf(${c.x}; ${c.df})`);
    }
  });

  it("Student t quantile: 1e-13 of mpmath, 1e-8 of scipy, and inverts our cdf to 1e-13", () => {
    // scipy's stdtrit is itself off by 1e-9 relative at df = 1, p = 0.9995 (the Cauchy quantile
    // tan(π(p - ½)) = 636.61924876873…, ours; scipy 636.6192494…), hence 1e-8 against scipy.
    for (const c of fx.t_quantile) {
      const q = tQuantile(c.p, c.df);
      expectClose(q, c.q, 1e-8, 1e-14, `t ppf(${c.p}; ${c.df})`);
      expectClose(q, c.mp, 1e-13, 1e-15, `t ppf(${c.p}; ${c.df}) vs mpmath`);
      expectClose(
        c.p > 0.5 ? tSf(q, c.df) : tCdf(q, c.df),
        c.p > 0.5 ? 1 - c.p : c.p,
        1e-13,
        0,
        `round trip ${c.p}`,
      );
    }
    expectClose(tQuantile(0.9995, 1), Math.tan(Math.PI * 0.4995), 1e-12);
  });

  it("noncentral t cdf/sf to 1e-9 relative against scipy (Boost) on a grid", () => {
    for (const c of fx.nct) {
      // 1e-9 relative; in the far tails (< 1e-6) of a negative-noncentrality upper series the
      // terms cancel and the accuracy is 1e-14 absolute (power and CIs never need more).
      expectClose(nctCdf(c.x, c.df, c.nc), c.cdf, 1e-9, 1e-14, `nct cdf(${c.x}; ${c.df}, ${c.nc})`);
      expectClose(nctSf(c.x, c.df, c.nc), c.sf, 1e-9, 1e-14, `nct sf(${c.x}; ${c.df}, ${c.nc})`);
    }
  });

  it("noncentral t cdf to 1e-9 relative against a 40-digit mpmath quadrature", () => {
    for (const c of fx.nct_mpmath)
      expectClose(nctCdf(c.x, c.df, c.nc), c.cdf, 1e-9, 0, `nct(${c.x}; ${c.df}, ${c.nc})`);
  });

  it("noncentral t quantile inverts the cdf", () => {
    for (const [p, df, nc] of [
      [0.3, 8, 1.5],
      [0.975, 29, 2.2],
      [0.01, 5, -1],
    ]) {
      expectClose(nctCdf(nctQuantile(p, df, nc), df, nc), p, 1e-12);
    }
    expect(nctQuantile(0.5, 10, 0)).toBeCloseTo(0, 12);
  });
});
