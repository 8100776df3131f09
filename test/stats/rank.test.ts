import { describe, expect, it } from "vitest";
import { rankAverage, sortOrder } from "../../src/stats/rank.js";

/**
 * sortOrder takes an insertion sort for short NaN-free inputs and the typed array's sort
 * otherwise; both must give the one stable ascending order (values, then indices).
 */
function reference(x: readonly number[]): number[] {
  return x.map((_, i) => i).sort((a, b) => (x[a] < x[b] ? -1 : x[a] > x[b] ? 1 : a - b));
}

describe("sortOrder", () => {
  it("is the stable ascending order at every length, with ties, signed zeros and infinities", () => {
    let state = 12345;
    const next = () => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state / 2147483648;
    };
    const special = [0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-300];
    for (const n of [0, 1, 2, 7, 24, 63, 64, 65, 200]) {
      const x = Array.from({ length: n }, () => {
        const u = next();
        return u < 0.15 ? special[Math.floor(u * 33) % special.length] : Math.round(next() * 12) / 4 - 1;
      });
      expect(Array.from(sortOrder(x)), `n = ${n}`).toEqual(reference(x));
    }
  });

  it("keeps NaN inputs on the comparator path (no order is invented for them)", () => {
    const x = [2, Number.NaN, 1, 3];
    expect(Array.from(sortOrder(x))).toEqual(
      Array.from(Uint32Array.from([0, 1, 2, 3]).sort((a, b) => x[a] - x[b] || a - b)),
    );
  });

  it("gives scipy's average ranks", () => {
    // scipy.stats.rankdata([3, 1, 4, 1, 5, 9, 2, 6, 5]) = [4, 1.5, 5, 1.5, 6.5, 9, 3, 8, 6.5]
    expect(Array.from(rankAverage([3, 1, 4, 1, 5, 9, 2, 6, 5]))).toEqual([4, 1.5, 5, 1.5, 6.5, 9, 3, 8, 6.5]);
  });
});
