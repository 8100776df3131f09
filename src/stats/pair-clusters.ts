/**
 * Clusters of dependent pairs: the connected components of the graph whose nodes are inputs and
 * whose edges are pairs (source–target). Two pairs that share an input, directly or through a
 * chain of pairs, are in one cluster; clusters share no input, so they are the independent
 * groups a cluster bootstrap resamples ([1] §3.8) and the most conservative unit of analysis.
 *
 * References:
 * [1] A. C. Davison, D. V. Hinkley, "Bootstrap Methods and their Application", CUP 1997.
 */

/**
 * The cluster of each pair, numbered 0, 1, … in the order of each cluster's first pair.
 * Inputs are identified by their row index on either side of a pair.
 *
 * @example
 * pairClusters([{ source: 1, target: 7 }, { source: 2, target: 8 }, { source: 1, target: 8 }]); // [0, 0, 0]
 */
export function pairClusters(pairs: readonly { source: number; target: number }[]): Int32Array {
  const parent = new Map<number, number>();
  const find = (x: number): number => {
    let root = x;
    while (parent.get(root) !== root) root = parent.get(root) as number;
    // Path compression: later finds on this chain are one step.
    let node = x;
    while (node !== root) {
      const next = parent.get(node) as number;
      parent.set(node, root);
      node = next;
    }
    return root;
  };
  for (const p of pairs) {
    if (!parent.has(p.source)) parent.set(p.source, p.source);
    if (!parent.has(p.target)) parent.set(p.target, p.target);
    const a = find(p.source);
    const b = find(p.target);
    if (a !== b) parent.set(a, b);
  }
  const number = new Map<number, number>();
  return Int32Array.from(pairs, (p) => {
    const root = find(p.source);
    let id = number.get(root);
    if (id === undefined) {
      id = number.size;
      number.set(root, id);
    }
    return id;
  });
}
