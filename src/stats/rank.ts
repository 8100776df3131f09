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
  const n = x.length;
  const order = new Uint32Array(n);
  let finite = true;
  for (let i = 0; i < n; i++) {
    order[i] = i;
    if (Number.isNaN(x[i])) finite = false;
  }
  // Short NaN-free inputs (a ranking of components, ranked again on every bootstrap resample): an
  // insertion sort, as a typed array's sort with a comparator costs a call per comparison and a
  // copy. Values then indices is a total order, so both give the same permutation.
  if (finite && n <= 64) {
    for (let i = 1; i < n; i++) {
      const o = order[i];
      const v = x[o];
      let j = i - 1;
      while (j >= 0 && x[order[j]] > v) {
        order[j + 1] = order[j];
        j--;
      }
      order[j + 1] = o;
    }
    return order;
  }
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
