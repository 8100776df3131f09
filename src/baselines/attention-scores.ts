/**
 * Attention-weight statistics of the target run, per head: the study's cheap baselines. The
 * study's code for them is not in the reference material, so the definitions are ours, stated
 * here: for head h and each real query step q, over the real key steps k (padded keys have
 * weight 0),
 *
 * - entropy  = −Σ_k a_qk ln a_qk   (nats; low = focused attention),
 * - max      = max_k a_qk,
 * - variance = (1/n_k) Σ_k (a_qk − 1/n_k)²   (population variance of the row; its mean is 1/n_k),
 *
 * each averaged over the real queries.
 */
import type { HookedTST } from "../model/hooked-tst.js";
import type { HookName } from "../model/hooks.js";
import { cacheRows, type InputTable } from "../patching/engine.js";
import type { Pair } from "../patching/types.js";

export const ATTENTION_SCORES = ["entropy", "max", "variance"] as const;
export type AttentionScore = (typeof ATTENTION_SCORES)[number];

/** pairs × (L·H) per score, head (l, h) at l·H + h. */
export type AttentionScores = Record<AttentionScore, Float64Array>;

/**
 * Attention statistics of each pair's target run.
 *
 * @example
 * const scores = await attentionScores(model, inputs, pairs);
 * scores.entropy[3]; // mean attention entropy of head L0H3 in the first pair's target run
 */
export async function attentionScores(
  model: HookedTST,
  table: InputTable,
  pairs: readonly Pair[],
): Promise<AttentionScores> {
  const { layers: L, heads: H, seqLen: S } = model.config;
  const hooks = Array.from({ length: L }, (_, l) => `blocks.${l}.attn.hook_pattern` as HookName);
  const cache = await cacheRows(
    model,
    table,
    pairs.map((p) => p.target),
    hooks,
  );
  const out: AttentionScores = {
    entropy: new Float64Array(pairs.length * L * H),
    max: new Float64Array(pairs.length * L * H),
    variance: new Float64Array(pairs.length * L * H),
  };
  pairs.forEach((pair, p) => {
    const real = (s: number) => table.mask === null || table.mask[pair.target * S + s] !== 0;
    const steps = Array.from({ length: S }, (_, s) => s).filter(real);
    const nk = steps.length;
    for (let l = 0; l < L; l++) {
      const pattern = cache.act(pair.target, hooks[l]);
      for (let h = 0; h < H; h++) {
        let entropy = 0;
        let max = 0;
        let variance = 0;
        for (const q of steps) {
          const row = (h * S + q) * S;
          let e = 0;
          let m = 0;
          let v = 0;
          for (const k of steps) {
            const a = pattern[row + k];
            if (a > 0) e -= a * Math.log(a);
            m = Math.max(m, a);
            v += (a - 1 / nk) ** 2;
          }
          entropy += e;
          max += m;
          variance += v / nk;
        }
        const at = p * L * H + l * H + h;
        out.entropy[at] = entropy / nk;
        out.max[at] = max / nk;
        out.variance[at] = variance / nk;
      }
    }
  });
  return out;
}
