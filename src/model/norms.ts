/**
 * The encoder's feature norms: LayerNorm (the reference) or BatchNorm1d over the D features
 * (mvts_transformer's TransformerBatchNormEncoderLayer), one function for both so a layer does
 * not care which it has.
 */
import type { Value } from "../graph/ir.js";
import {
  add,
  cast,
  countElements,
  div,
  layerNorm,
  mul,
  reduceMean,
  reduceSum,
  reshape,
  sqrt,
  sub,
} from "../graph/ops/index.js";
import { BN_EPS, type GraphParts, LN_EPS } from "./graph-parts.js";

/**
 * Normalise x [B, T, D] with the norm `prefix` (`blocks.<l>.ln1|ln2`, `ln_final`) of the config's
 * kind. BatchNorm in train mode takes its statistics over the real tokens only (`tokenMask`
 * [B, T], null: all), biased variance for normalising, and reports mean, variance and token count
 * as `bn:<prefix>.*` outputs for the running-statistic update; in eval mode it uses the running
 * statistics.
 *
 * @example resid = featureNorm(parts, add(resid, attnOut), "blocks.0.ln1", tokenMask);
 */
export function featureNorm(parts: GraphParts, x: Value, prefix: string, tokenMask: Value | null): Value {
  const { config, g, param } = parts;
  const D = config.dModel;
  const weight = param(`${prefix}.weight`, [D]);
  const bias = param(`${prefix}.bias`, [D]);
  if (config.normKind === "layer") return layerNorm(x, weight, bias, LN_EPS);
  const runningMean = param(`${prefix}.running_mean`, [D]);
  const runningVar = param(`${prefix}.running_var`, [D]);
  if (!parts.train) {
    const alpha = div(weight, sqrt(add(runningVar, g.scalar(BN_EPS))));
    return add(mul(x, alpha), sub(bias, mul(runningMean, alpha)));
  }
  let mean: Value;
  let variance: Value;
  let count: Value;
  if (tokenMask === null) {
    mean = reduceMean(x, [0, 1], false);
    const centred = sub(x, mean);
    variance = reduceMean(mul(centred, centred), [0, 1], false);
    count = countElements(x, [0, 1]);
  } else {
    const real = reshape(cast(tokenMask, "float32"), ["batch", tokenMask.shape[1], 1]);
    count = reduceSum(real, [0, 1, 2], false);
    mean = div(reduceSum(mul(x, real), [0, 1], false), count);
    const centred = mul(sub(x, mean), real);
    variance = div(reduceSum(mul(centred, centred), [0, 1], false), count);
  }
  parts.statistic(`bn:${prefix}.batch_mean`, mean);
  parts.statistic(`bn:${prefix}.batch_var`, variance);
  parts.statistic(`bn:${prefix}.count`, count);
  const normalised = div(sub(x, mean), sqrt(add(variance, g.scalar(BN_EPS))));
  return add(mul(normalised, weight), bias);
}
