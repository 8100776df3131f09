import { type LogitMetric, logitDiffMetric, probabilityMetric } from "../model/hook-gradients.js";
import type { InputTable } from "../patching/engine.js";
import type { EffectRow } from "../patching/sweep.js";
import type { Pair } from "../patching/types.js";

/**
 * What a baseline estimates: the change of `dp_true` (ΔP(true), P of the pair's true class) or
 * of `logit_diff` (logit(good) − logit(bad), e.g. cross-class pairs) when the source's
 * activation replaces the target's.
 */
export type BaselineMetric = "dp_true" | "logit_diff";

/** The gradient metric of each pair's target run (row i = pairs[i]). */
export function metricOfPairs(pairs: readonly Pair[], metric: BaselineMetric): LogitMetric {
  return metric === "dp_true"
    ? probabilityMetric(pairs.map((p) => p.trueClass))
    : logitDiffMetric(
        pairs.map((p) => p.goodClass),
        pairs.map((p) => p.badClass),
      );
}

/** The exact effect of a sweep row in the same metric. */
export function exactEffect(row: EffectRow, metric: BaselineMetric): number {
  return metric === "dp_true" ? row.dpTrue : row.dLogitDiff;
}

/** Rows of the table gathered into one batch: x (rows × S × C) and the padding mask (or null). */
export function gatherRows(
  table: InputTable,
  rows: readonly number[],
  S: number,
  C: number,
): { x: Float32Array; mask: Uint8Array | null } {
  const x = new Float32Array(rows.length * S * C);
  const mask = table.mask === null ? null : new Uint8Array(rows.length * S);
  rows.forEach((r, i) => {
    x.set(table.x.subarray(r * S * C, (r + 1) * S * C), i * S * C);
    if (mask !== null) mask.set((table.mask as Uint8Array).subarray(r * S, (r + 1) * S), i * S);
  });
  return { x, mask };
}

/**
 * Time steps a patch of this pair writes: those real in both inputs (DESIGN.md "Alignment",
 * `overlap`). 1 = patched.
 */
export function overlapSteps(table: InputTable, pair: Pair, S: number): Uint8Array {
  const out = new Uint8Array(S).fill(1);
  if (table.mask === null) return out;
  for (let s = 0; s < S; s++) {
    out[s] = table.mask[pair.source * S + s] !== 0 && table.mask[pair.target * S + s] !== 0 ? 1 : 0;
  }
  return out;
}
