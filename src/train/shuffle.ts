import type { Rng } from "../random/rng.js";

/**
 * Fisher–Yates shuffle in place (Knuth, TAOCP vol. 2, Algorithm 3.4.2 P), uniform over all
 * permutations given a uniform `rng.int`.
 *
 * @example
 * const order = shuffleInPlace([0, 1, 2, 3], new Rng(1));
 */
export function shuffleInPlace<T extends { length: number; [i: number]: number }>(items: T, rng: Rng): T {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
  return items;
}
