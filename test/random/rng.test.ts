import { describe, expect, it } from "vitest";
import { Rng } from "../../src/random/rng.js";

describe("Rng (xoshiro128**)", () => {
  it("is reproducible by seed and stream, and streams differ", () => {
    const a = new Rng(42, 3);
    const b = new Rng(42, 3);
    const c = new Rng(42, 4);
    const xs = Array.from({ length: 5 }, () => a.uint32());
    expect(Array.from({ length: 5 }, () => b.uint32())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.uint32())).not.toEqual(xs);
  });

  it("fillInts gives the same draws as int()", () => {
    const a = new Rng(3, 9);
    const b = new Rng(3, 9);
    const out = new Uint32Array(10000);
    a.fillInts(out, 777);
    for (let i = 0; i < out.length; i++) expect(out[i]).toBe(b.int(777));
    expect(a.uint32()).toBe(b.uint32());
  });

  it("integers are uniform (chi-square) and in range, floats in [0, 1)", () => {
    const rng = new Rng(1);
    for (const bound of [7, 1000]) {
      const draws = new Uint32Array(200000);
      rng.fillInts(draws, bound);
      const counts = new Float64Array(bound);
      for (const v of draws) counts[v]++;
      const expected = draws.length / bound;
      let chi = 0;
      for (const c of counts) chi += (c - expected) ** 2 / expected;
      // chi-square with bound-1 df: mean bound-1, sd sqrt(2(bound-1)); 5 sd is far out
      expect(Math.abs(chi - (bound - 1))).toBeLessThan(5 * Math.sqrt(2 * (bound - 1)));
    }
    for (let i = 0; i < 1000; i++) {
      const u = rng.float();
      expect(u >= 0 && u < 1).toBe(true);
    }
  });

  it("normal deviates have mean 0, variance 1 and normal tails", () => {
    const rng = new Rng(5);
    const n = 200000;
    let s1 = 0;
    let s2 = 0;
    let tail = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      s1 += z;
      s2 += z * z;
      if (Math.abs(z) > 1.959963984540054) tail++;
    }
    expect(Math.abs(s1 / n)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(s2 / n - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    expect(Math.abs(tail / n - 0.05)).toBeLessThan(5 * Math.sqrt(0.0475 / n));
  });
});
