/**
 * The TST family's positional tables and pooling: how token positions are told apart, and how the
 * last residual stream [B, T, D] becomes the head's input [B, P].
 */
import type { Value } from "../graph/ir.js";
import {
  cast,
  div,
  expandAs,
  mul,
  pad,
  reduceMax,
  reduceMean,
  reduceSum,
  reshape,
  slice,
  sub,
  where,
} from "../graph/ops/index.js";
import { tokenCount } from "./config.js";
import type { GraphParts } from "./graph-parts.js";

/**
 * The positional table [T, D] broadcast like `embed` [B, T, D]: learned (`pos_embed.W_pos`),
 * sinusoidal (a constant) or zeros.
 *
 * @example const pos = positionTable(parts, embed);
 */
export function positionTable(parts: GraphParts, embed: Value): Value {
  const { config, g } = parts;
  const T = tokenCount(config);
  const D = config.dModel;
  if (config.pos === "learned") return expandAs(parts.param("pos_embed.W_pos", [T, D]), embed);
  const table = config.pos === "sinusoidal" ? sinusoidalTable(T, D) : new Float32Array(T * D);
  return expandAs(g.constant(table, [T, D]), embed);
}

/**
 * Vaswani et al. 2017 §3.5 as the PyTorch tutorial writes it: pe[p, 2i] = sin(p·e^{−2i·ln(10000)/D}),
 * pe[p, 2i+1] = cos(p·e^{−2i·ln(10000)/D}).
 *
 * @example sinusoidalTable(4, 8)[1]; // cos(0) = 1
 */
export function sinusoidalTable(positions: number, dModel: number): Float32Array {
  const out = new Float32Array(positions * dModel);
  for (let p = 0; p < positions; p++) {
    for (let d = 0; d < dModel; d += 2) {
      const angle = p * Math.exp((-d * Math.log(10000)) / dModel);
      out[p * dModel + d] = Math.sin(angle);
      if (d + 1 < dModel) out[p * dModel + d + 1] = Math.cos(angle);
    }
  }
  return out;
}

/**
 * Pool x [B, T, D] over tokens into [B, P] (P = D, or T·D for flatten), ignoring padded tokens
 * (`tokenMask` [B, T], null: all real): max, mean, the CLS token (position 0), the last real token,
 * or every token flattened token-major with padded tokens zeroed (mvts_transformer).
 *
 * @example const pooled = poolTokens(parts, resid, tokenMask);
 */
export function poolTokens(parts: GraphParts, x: Value, tokenMask: Value | null): Value {
  const { config, g } = parts;
  const T = tokenCount(config);
  const D = config.dModel;
  const mask3 = tokenMask === null ? null : reshape(tokenMask, ["batch", T, 1]);
  switch (config.pool) {
    case "max":
      // Padded tokens are -inf so the max ignores them (AdaptiveMaxPool1d on the real tokens).
      return reduceMax(mask3 === null ? x : where(mask3, x, g.scalar(Number.NEGATIVE_INFINITY)), [1], false);
    case "mean": {
      if (tokenMask === null) return reduceMean(x, [1], false);
      const real = cast(tokenMask, "float32");
      const sum = reduceSum(where(mask3 as Value, x, g.scalar(0)), [1], false);
      return div(sum, reshape(reduceSum(real, [1], false), ["batch", 1]));
    }
    case "cls":
      return reshape(slice(x, 1, 0, 1), ["batch", D]);
    case "last": {
      if (tokenMask === null) return reshape(slice(x, 1, T - 1, T), ["batch", D]);
      // Right-padded rows: the last real token is the one whose successor is padding (or the end).
      const real = cast(tokenMask, "float32");
      const next = pad(slice(real, 1, 1, T), 1, 0, 1, 0);
      const last = reshape(sub(real, next), ["batch", T, 1]);
      return reduceSum(mul(x, last), [1], false);
    }
    case "flatten":
      return reshape(mask3 === null ? x : where(mask3, x, g.scalar(0)), ["batch", T * D]);
  }
}
