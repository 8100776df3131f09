/**
 * Attribution patching (AtP): the first-order Taylor estimate of a patch's effect,
 *
 *   M(patched) − M(target) ≈ Σ (∂M/∂a)|_target · (a_source − a_target),
 *
 * summed over the entries the patch writes (N. Nanda, "Attribution Patching: Activation
 * Patching At Industrial Scale", 2023; A. Syed, C. Rager, A. Conmy, "Attribution Patching
 * Outperforms Automated Circuit Discovery", arXiv:2310.10348). One forward + backward pass of
 * the target (the metric computed in the graph, gradients only w.r.t. the hooks, no parameter
 * gradients) gives the estimate for every head, attention layer, MLP and head × position at
 * once, for a batch of pairs per runtime call; one forward run of the sources gives the patch
 * values. Exact for a metric linear in the activation; it misses curvature, e.g. a saturated
 * softmax (attention or output), which the comparison with exact patching shows.
 */
import { hookGradients } from "../model/hook-gradients.js";
import type { HookedTST } from "../model/hooked-tst.js";
import type { HookName } from "../model/hooks.js";
import { cacheRows, type InputTable } from "../patching/engine.js";
import type { Pair } from "../patching/types.js";
import { type BaselineMetric, gatherRows, metricOfPairs, overlapSteps } from "./pair-rows.js";

/** AtP estimates per pair (row-major, pairs first). */
export interface AtpEstimates {
  /** pairs × (L·H), head (l, h) at l·H + h. */
  readonly heads: Float64Array;
  /** pairs × L: whole attention layer output (`hook_attn_out`). */
  readonly layers: Float64Array;
  /** pairs × L: MLP output (`hook_mlp_out`). */
  readonly mlps: Float64Array;
  /** pairs × (L·H·S): head (l, h) at time step s at (l·H + h)·S + s; null unless asked. */
  readonly headPositions: Float64Array | null;
}

export interface AtpOptions {
  metric?: BaselineMetric;
  /** Also estimate every head at every time step (default false). */
  positions?: boolean;
  /** Pairs per runtime call (default 128). */
  pairsPerBatch?: number;
}

/**
 * AtP estimates of every head, attention layer and MLP (and head × position) for each pair.
 *
 * @example
 * const atp = await attributionPatching(model, inputs, pairs);
 * atp.heads[0 * 24 + 3]; // estimated ΔP(true) of head L0H3 for the first pair
 */
export async function attributionPatching(
  model: HookedTST,
  table: InputTable,
  pairs: readonly Pair[],
  options: AtpOptions = {},
): Promise<AtpEstimates> {
  const { layers: L, heads: H, seqLen: S, channels: C, dModel: D } = model.config;
  const metric = options.metric ?? "dp_true";
  const z = (l: number) => `blocks.${l}.attn.hook_z` as HookName;
  const mlpOut = (l: number) => `blocks.${l}.hook_mlp_out` as HookName;
  const hooks: HookName[] = [];
  for (let l = 0; l < L; l++) hooks.push(z(l), mlpOut(l));
  const n = pairs.length;
  const heads = new Float64Array(n * L * H);
  const layers = new Float64Array(n * L);
  const mlps = new Float64Array(n * L);
  const headPositions = options.positions ? new Float64Array(n * L * H * S) : null;
  const chunk = Math.max(1, options.pairsPerBatch ?? 128);
  for (let c0 = 0; c0 < n; c0 += chunk) {
    const part = pairs.slice(c0, c0 + chunk);
    // Two runtime calls per batch of pairs: a forward run of the sources (their activations),
    // and one forward+backward run of the targets that computes the metric in the graph and
    // returns the targets' activations with their gradients.
    const sources = await cacheRows(
      model,
      table,
      part.map((p) => p.source),
      hooks,
    );
    const { x, mask } = gatherRows(
      table,
      part.map((p) => p.target),
      S,
      C,
    );
    const target = await hookGradients(model, x, {
      hooks,
      metric: metricOfPairs(part, metric),
      mask,
      metricInGraph: true,
      chunkSize: part.length,
    });
    const rowOf = (values: Partial<Record<HookName, Float32Array>>, hook: HookName, i: number) =>
      (values[hook] as Float32Array).subarray(i * S * D, (i + 1) * S * D);
    part.forEach((pair, i) => {
      const p = c0 + i;
      const steps = overlapSteps(table, pair, S);
      for (let l = 0; l < L; l++) {
        const terms = headTerms(
          rowOf(target.grads, z(l), i),
          sources.act(pair.source, z(l)),
          rowOf(target.values, z(l), i),
          steps,
          H,
        );
        for (let h = 0; h < H; h++) heads[p * L * H + l * H + h] = terms.heads[h];
        headPositions?.set(terms.positions, (p * L + l) * H * S);
        // hook_attn_out = z W_Oᵀ + b is linear in z, so its first-order term is exactly the sum of
        // the heads' (∂M/∂attn_out · Δz W_Oᵀ = ∂M/∂z · Δz): no gradient of attn_out is needed.
        for (let h = 0; h < H; h++) layers[p * L + l] += heads[p * L * H + l * H + h];
        mlps[p * L + l] = dotOver(
          rowOf(target.grads, mlpOut(l), i),
          sources.act(pair.source, mlpOut(l)),
          rowOf(target.values, mlpOut(l), i),
          steps,
          D,
        );
      }
    });
  }
  return { heads, layers, mlps, headPositions };
}

/**
 * The first-order terms of one pair at one layer's `hook_z` (rows S × (H·dh), head h at dims
 * h·dh … h·dh + dh − 1 of a step): per head, and per head × step (H × S, row-major),
 * Σ ∂M/∂z · (z_source − z_target) over the head's dims at the patched steps.
 *
 * @example
 * const { heads } = headTerms(gradZ, zSource, zTarget, steps, 8); // heads[3]: AtP of head 3
 */
export function headTerms(
  grad: Float32Array,
  source: Float32Array,
  target: Float32Array,
  steps: Uint8Array,
  H: number,
): { heads: Float64Array; positions: Float64Array } {
  const S = steps.length;
  const D = grad.length / S;
  const dh = D / H;
  const heads = new Float64Array(H);
  const positions = new Float64Array(H * S);
  for (let s = 0; s < S; s++) {
    if (steps[s] === 0) continue;
    for (let h = 0; h < H; h++) {
      let sum = 0;
      const o = s * D + h * dh;
      for (let d = o; d < o + dh; d++) sum += grad[d] * (source[d] - target[d]);
      heads[h] += sum;
      positions[h * S + s] = sum;
    }
  }
  return { heads, positions };
}

/** Σ over patched steps of grad · (source − target) for one row of an S × D hook. */
function dotOver(
  g: Float32Array,
  source: Float32Array,
  target: Float32Array,
  steps: Uint8Array,
  D: number,
): number {
  let sum = 0;
  for (let s = 0; s < steps.length; s++) {
    if (steps[s] === 0) continue;
    for (let d = s * D; d < (s + 1) * D; d++) sum += g[d] * (source[d] - target[d]);
  }
  return sum;
}
