/**
 * The stems of the TST family: how normalised steps x [B, S, C] become token embeddings
 * [B, N, D] (before embedScale, the CLS token and the positional table), and which tokens are
 * real. conv: the reference's conv→BN→ReLU ×3; linear: `x·W_inᵀ + b_in` per step
 * (mvts_transformer); patch: PatchTST-style windows `x[t·stride : t·stride + patchLen, :]`
 * flattened step-major, then `W_in`.
 */
import type { Value } from "../graph/ir.js";
import {
  add,
  cast,
  conv1d,
  div,
  gather,
  linear,
  mul,
  pad,
  reduceMean,
  reduceSum,
  relu,
  reshape,
  sqrt,
  sub,
} from "../graph/ops/index.js";
import { tokenCount } from "./config.js";
import { BN_EPS, type GraphParts } from "./graph-parts.js";

/**
 * Token embeddings [B, N, D] of the normalised (and padding-zeroed) input h [B, S, C].
 *
 * @example const tokens = stemTokens(parts, h);
 */
export function stemTokens(parts: GraphParts, h: Value): Value {
  const { config, param } = parts;
  const { channels: C, dModel: D } = config;
  if (config.stem === "conv") return convStem(parts, h);
  if (config.stem === "linear") return linear(h, param("embed.W_in", [D, C]), param("embed.b_in", [D]));
  const starts = patchStarts(config.seqLen, config.patchLen, config.patchStride);
  const L = config.patchLen;
  const index = new BigInt64Array(starts.length * L);
  starts.forEach((s, t) => {
    for (let j = 0; j < L; j++) index[t * L + j] = BigInt(s + j);
  });
  const windows = gather(h, parts.g.constant(index, [starts.length, L]), 1); // [B, N, L, C]
  const flat = reshape(windows, ["batch", starts.length, L * C]);
  return linear(flat, param("embed.W_in", [D, L * C]), param("embed.b_in", [D]));
}

/** First step of each patch window (no padding at the end). */
function patchStarts(seqLen: number, patchLen: number, stride: number): number[] {
  const n = Math.floor((seqLen - patchLen) / stride) + 1;
  return Array.from({ length: n }, (_, t) => t * stride);
}

/**
 * Which tokens are real, bool [B, T], from the step mask [B, S]: a patch token when its window's
 * first step is real, the CLS token always (see `tokenLengths` in config.ts).
 *
 * @example const tokenMask = tokenMaskOf(parts, mask);
 */
export function tokenMaskOf(parts: GraphParts, stepMask: Value): Value {
  const { config, g } = parts;
  if (config.stem !== "patch" && !config.cls) return stepMask;
  let real = cast(stepMask, "float32");
  if (config.stem === "patch") {
    const starts = patchStarts(config.seqLen, config.patchLen, config.patchStride);
    real = gather(real, g.constant(BigInt64Array.from(starts, BigInt), [starts.length]), 1);
  }
  if (config.cls) real = pad(real, 1, 1, 0, 1);
  const T = tokenCount(config);
  return reshape(cast(real, "bool"), ["batch", T]);
}

function convStem(parts: GraphParts, input: Value): Value {
  const { config, param, train } = parts;
  let h = input;
  let cin = config.channels;
  for (let i = 0; i < 3; i++) {
    const cout = config.convChannels[i];
    const k = config.kernels[i];
    const p = `embed.conv${i + 1}`;
    const weight = param(`${p}.weight`, [cout, cin, k]);
    const bias = param(`${p}.bias`, [cout]);
    if (train) {
      h = conv1d(h, weight, bias, Math.floor(k / 2));
      const norm = parts.batchNormStats === "fed" ? fedBatchNorm : convBatchNorm;
      h = relu(norm(parts, h, `embed.bn${i + 1}`, cout));
    } else {
      const folded = foldBatchNorm(parts, weight, bias, `embed.bn${i + 1}`, cout);
      h = relu(conv1d(h, folded.weight, folded.bias, Math.floor(k / 2)));
    }
    cin = cout;
  }
  return h;
}

// Eval-mode BatchNorm is the per-channel affine map y·α + β with α = w / √(var + eps) and
// β = b − mean·α (what PyTorch's CPU kernel computes too); folded into the convolution before
// it (weights ·α, bias ·α + β) it costs no pass over the activations: the conv's GEMM with
// bias and the ReLU are all that run per call (ONNX Runtime fuses them, see onnx-fusions.ts).
function foldBatchNorm(
  parts: GraphParts,
  weight: Value,
  bias: Value,
  prefix: string,
  channels: number,
): { weight: Value; bias: Value } {
  const { g, param } = parts;
  const mean = param(`${prefix}.running_mean`, [channels]);
  const variance = param(`${prefix}.running_var`, [channels]);
  const alpha = div(param(`${prefix}.weight`, [channels]), sqrt(add(variance, g.scalar(BN_EPS))));
  const beta = sub(param(`${prefix}.bias`, [channels]), mul(mean, alpha));
  return {
    weight: mul(weight, reshape(alpha, [channels, 1, 1])),
    bias: add(mul(bias, alpha), beta),
  };
}

// Train-mode BatchNorm of the conv stack (eval mode is folded into the convolution, see
// foldBatchNorm): batch statistics over all B×S positions, padded ones included, biased variance
// (nn.BatchNorm1d in train mode on the padded batch).
function convBatchNorm(parts: GraphParts, h: Value, prefix: string, channels: number): Value {
  const { g, param } = parts;
  const mean = reduceMean(h, [0, 1], false);
  const centred = sub(h, mean);
  const variance = reduceMean(mul(centred, centred), [0, 1], false);
  parts.statistic(`bn:${prefix}.batch_mean`, mean);
  parts.statistic(`bn:${prefix}.batch_var`, variance);
  const normalised = div(sub(h, mean), sqrt(add(variance, g.scalar(BN_EPS))));
  return add(mul(normalised, param(`${prefix}.weight`, [channels])), param(`${prefix}.bias`, [channels]));
}

// Train-mode BatchNorm normalising with a whole batch's statistics while the call holds only
// some of its rows (a micro-batch). Forward: x̂ = (h − μ)/σ̂ with the fed μ and biased σ², so
// the outputs are the whole batch's. Backward: through batch statistics the exact gradient is
// dL/dh = γ/σ̂ · (g − mean(g) − x̂·mean(g·x̂)) with g = dL/dy and the means over the whole
// batch's B×S positions (Ioffe & Szegedy 2015, §3; the same algebra as PyTorch's
// batch_norm_backward). The fed statistics are constants to autodiff, which yields γ/σ̂·g
// alone; the rest is added to the loss as the term
//     Σ_positions Σ_c  grad_shift_c·h + grad_scale_c·(h − μ_c)²
// with grad_shift = −γ·mean(g)/σ̂ and grad_scale = −γ·mean(g·x̂)/(2σ̂²) fed per channel, whose
// derivative in h is exactly the missing −γ/σ̂·(mean(g) + x̂·mean(g·x̂)). It holds no
// parameter, so γ and β get Σg·x̂ and Σg as before. mean(g) and mean(g·x̂) are those
// gradients of β and γ over the whole batch divided by B×S, summed by the caller over the
// micro-batches (src/train/micro-batch.ts). The layer still outputs the call's own statistics
// (pre-normalisation), which the caller combines into the whole batch's μ and σ².
function fedBatchNorm(parts: GraphParts, h: Value, prefix: string, channels: number): Value {
  const { g, param } = parts;
  const own = reduceMean(h, [0, 1], false);
  const ownCentred = sub(h, own);
  parts.statistic(`bn:${prefix}.batch_mean`, own);
  parts.statistic(`bn:${prefix}.batch_var`, reduceMean(mul(ownCentred, ownCentred), [0, 1], false));
  const mean = g.input(`bn:${prefix}.mean`, [channels]);
  const variance = g.input(`bn:${prefix}.var`, [channels]);
  const centred = sub(h, mean);
  const shiftTerm = mul(h, g.input(`bn:${prefix}.grad_shift`, [channels]));
  const scaleTerm = mul(mul(centred, centred), g.input(`bn:${prefix}.grad_scale`, [channels]));
  parts.lossTerm(reduceSum(add(shiftTerm, scaleTerm), [0, 1, 2], false));
  const normalised = div(centred, sqrt(add(variance, g.scalar(BN_EPS))));
  return add(mul(normalised, param(`${prefix}.weight`, [channels])), param(`${prefix}.bias`, [channels]));
}
