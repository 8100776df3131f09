/**
 * Gradient × input on the raw series (K. Simonyan et al. 2013; A. Shrikumar et al. 2016):
 * saliency[s, c] = x[s, c] · ∂M/∂x[s, c] at the target run, per time step and channel; padded
 * steps are 0. A map for display, not a ranking of heads.
 */
import { hookGradients } from "../model/hook-gradients.js";
import type { HookedTST } from "../model/hooked-tst.js";
import type { InputTable } from "../patching/engine.js";
import type { Pair } from "../patching/types.js";
import { type BaselineMetric, gatherRows, metricOfPairs } from "./pair-rows.js";

/**
 * Gradient × input of each pair's target (pairs × S × C, row-major); `rowsPerCall` rows per call
 * of the backward graph (default 64; a memory budget's gradient rows).
 *
 * @example
 * const map = await gradientTimesInput(model, inputs, pairs);
 * map[(0 * S + 4) * C + 2]; // first pair, step 4, channel 2
 */
export async function gradientTimesInput(
  model: HookedTST,
  table: InputTable,
  pairs: readonly Pair[],
  metric: BaselineMetric = "dp_true",
  rowsPerCall?: number,
): Promise<Float64Array> {
  const { seqLen: S, channels: C } = model.config;
  const { x, mask } = gatherRows(
    table,
    pairs.map((p) => p.target),
    S,
    C,
  );
  const r = await hookGradients(model, x, {
    hooks: [],
    metric: metricOfPairs(pairs, metric),
    mask,
    wrtInput: true,
    chunkSize: rowsPerCall,
  });
  const g = r.inputGrad as Float32Array;
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const real = mask === null || mask[Math.floor(i / C)] !== 0;
    out[i] = real ? g[i] * x[i] : 0;
  }
  return out;
}
