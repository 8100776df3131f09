import type { Rng } from "../random/rng.js";

/**
 * Up to `k` items of `items` drawn without replacement (a partial Fisher–Yates
 * shuffle, Knuth TAOCP vol. 2 §3.4.2, Algorithm P), returned in ascending
 * order so the output reads like the input. All items when `k >= items.length`.
 *
 * @example
 * sampleSorted([1, 4, 7, 9], 2, new Rng(0)); // e.g. [4, 9]
 */
export function sampleSorted(items: readonly number[], k: number, rng: Rng): number[] {
  if (k >= items.length) return items.slice();
  const pool = items.slice();
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(pool.length - i);
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, k).sort((a, b) => a - b);
}
