import { streams } from "../random/streams.js";
import type { TSTConfig } from "./config.js";
import { numel, paramShapes } from "./param-names.js";

/**
 * Seeded initial weights with PyTorch 1.13's default initialisation of each
 * module of the reference model:
 * - Conv1d and Linear (conv1..3, the linear/patch stem's W_in, linear1/2, the head's hidden layer
 *   and classifier): weight and bias
 *   U(−1/√fan_in, 1/√fan_in) (kaiming_uniform with a = √5, torch/nn/modules/conv.py, linear.py);
 * - MultiheadAttention: in_proj_weight xavier_uniform over the stacked (3D, D)
 *   matrix, bound √(6 / (D + 3D)); in_proj_bias 0; out_proj weight
 *   U(−1/√D, 1/√D), bias 0 (torch/nn/modules/activation.py, _reset_parameters);
 * - BatchNorm and LayerNorm (the conv stack's, the encoder's of either kind, the final norm):
 *   weight 1, bias 0; running mean 0, running var 1;
 * - positional table and CLS token: 0 (the reference's `nn.Parameter(torch.zeros(...))`).
 * Unlike nn.TransformerEncoder (which deep-copies one initialised layer),
 * every layer gets its own draw.
 *
 * @example
 * const params = initParams(makeConfig({ channels: 12, seqLen: 25, classes: 9 }), 0);
 */
export function initParams(config: TSTConfig, seed: number): Map<string, Float32Array> {
  const rng = streams.init(seed);
  const params = new Map<string, Float32Array>();
  const D = config.dModel;
  const uniform = (n: number, bound: number): Float32Array => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = (2 * rng.float() - 1) * bound;
    return out;
  };
  const shapes = paramShapes(config);
  const fanIn = (weight: string): number =>
    numel(shapes.find((p) => p.name === weight)?.shape.slice(1) ?? [1]);
  for (const { name, shape } of shapes) {
    const n = numel(shape);
    const last = name.slice(name.lastIndexOf(".") + 1);
    let data: Float32Array;
    if (
      /^embed\.conv\d\.weight$/.test(name) ||
      name.endsWith("mlp.W_in") ||
      name.endsWith("mlp.W_out") ||
      name === "embed.W_in" ||
      name === "unembed.W_hidden" ||
      name === "unembed.W_U"
    ) {
      data = uniform(n, 1 / Math.sqrt(numel(shape.slice(1))));
    } else if (/^embed\.conv\d\.bias$/.test(name)) {
      data = uniform(n, 1 / Math.sqrt(fanIn(name.replace(".bias", ".weight"))));
    } else if (name.endsWith("mlp.b_in")) {
      data = uniform(n, 1 / Math.sqrt(D));
    } else if (name.endsWith("mlp.b_out")) {
      data = uniform(n, 1 / Math.sqrt(config.ff));
    } else if (name === "embed.b_in" || name === "unembed.b_hidden" || name === "unembed.b_U") {
      data = uniform(n, 1 / Math.sqrt(fanIn(name.replace(".b_", ".W_"))));
    } else if (/attn\.W_[QKV]$/.test(name)) {
      data = uniform(n, Math.sqrt(6 / (D + 3 * D)));
    } else if (name.endsWith("attn.W_O")) {
      data = uniform(n, 1 / Math.sqrt(D));
    } else if (last === "weight" || last === "running_var") {
      data = new Float32Array(n).fill(1); // BatchNorm / LayerNorm scale, running variance
    } else {
      data = new Float32Array(n); // biases of attention and norms, running mean, positional table, CLS
    }
    params.set(name, data);
  }
  return params;
}
