import type { Direction, Pair } from "../patching/types.js";

/**
 * Units of analysis (DESIGN.md "Statistics, stated once"): one target input per direction. A
 * target with several sources is one unit whose value is the mean over its pairs.
 */
export interface Unit {
  readonly direction: Direction;
  readonly target: number;
  /** Indices into the pairs list. */
  readonly pairs: readonly number[];
}

/**
 * The units of each direction that has pairs, in order of first appearance.
 *
 * @example
 * unitsByDirection(pairs).get("denoise")?.length; // number of distinct denoise targets
 */
export function unitsByDirection(pairs: readonly Pair[]): Map<Direction, Unit[]> {
  const out = new Map<Direction, Map<number, number[]>>();
  pairs.forEach((p, i) => {
    const byTarget = out.get(p.direction) ?? new Map<number, number[]>();
    out.set(p.direction, byTarget);
    byTarget.set(p.target, [...(byTarget.get(p.target) ?? []), i]);
  });
  const result = new Map<Direction, Unit[]>();
  for (const [direction, byTarget] of out) {
    result.set(
      direction,
      [...byTarget].map(([target, list]) => ({ direction, target, pairs: list })),
    );
  }
  return result;
}

/**
 * Per-unit means of a per-pair × per-component matrix (pairs × m, row-major): units × m.
 *
 * @example
 * const unitEffects = unitMeans(units, pairEffects, 24);
 */
export function unitMeans(units: readonly Unit[], perPair: Float64Array, m: number): Float64Array {
  const out = new Float64Array(units.length * m);
  units.forEach((u, i) => {
    for (const p of u.pairs)
      for (let j = 0; j < m; j++) out[i * m + j] += perPair[p * m + j] / u.pairs.length;
  });
  return out;
}

/** Column means of rows `indices` (with repeats) of a units × m matrix. */
export function columnMeans(
  matrix: Float64Array,
  m: number,
  indices: ArrayLike<number>,
  count = indices.length,
): Float64Array {
  const out = new Float64Array(m);
  for (let r = 0; r < count; r++) {
    const row = indices[r];
    for (let j = 0; j < m; j++) out[j] += matrix[row * m + j];
  }
  for (let j = 0; j < m; j++) out[j] /= count;
  return out;
}
