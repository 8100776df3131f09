/**
 * Ranks with ties given their average rank (scipy.stats.rankdata, method "average"), 1-based.
 *
 * @example
 * rankAverage([10, 20, 10, 30]); // Float64Array [1.5, 3, 1.5, 4]
 */
export function rankAverage(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  const order = sortOrder(x);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && x[order[j + 1]] === x[order[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

/** Indices that sort `x` ascending (stable). */
export function sortOrder(x: ArrayLike<number>): Uint32Array {
  const order = new Uint32Array(x.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => x[a] - x[b] || a - b);
  return order;
}

/** Sizes of groups of equal values (only groups larger than 1), from values sorted or not. */
export function tieGroupSizes(x: ArrayLike<number>): number[] {
  const s = Float64Array.from(x as ArrayLike<number>).sort();
  const sizes: number[] = [];
  let i = 0;
  while (i < s.length) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[i]) j++;
    if (j > i) sizes.push(j - i + 1);
    i = j + 1;
  }
  return sizes;
}
