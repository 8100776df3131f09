import { pooledWidth, type TSTConfig, tokenCount } from "./config.js";

/** One tensor of a TST's weights: its canonical name, shape and whether the optimiser updates it. */
export interface ParamShape {
  readonly name: string;
  readonly shape: readonly number[];
  /** False for the BatchNorm running statistics (buffers, updated by the forward pass in training). */
  readonly trainable: boolean;
}

/**
 * Every weight tensor of a TST in canonical order, with its shape. Names follow TransformerLens;
 * matrices keep PyTorch's Linear orientation (out, in), so `W_Q` is exactly rows 0..D-1 of the
 * reference `in_proj_weight` and is applied as `x @ W_Q^T + b_Q`.
 *
 * Order (T tokens, see `tokenCount`; P = D, or T·D for pool = flatten):
 * - stem conv: `embed.conv{i}.weight|bias`, `embed.bn{i}.weight|bias|running_mean|running_var` for
 *   i = 1..3 (conv then bn per stage); stem linear: `embed.W_in` [D, C], `embed.b_in` [D]; stem
 *   patch: `embed.W_in` [D, patchLen·C], `embed.b_in` [D];
 * - `embed.cls` [D] when cls; `pos_embed.W_pos` [T, D] when pos = learned;
 * - per layer `blocks.{l}.attn.W_Q|W_K|W_V` [D, D], `b_Q|b_K|b_V` [D], `W_O` [D, D] (out, in),
 *   `b_O`, `ln1.weight|bias` (+ `running_mean|running_var` for normKind = batch), `mlp.W_in` [F, D],
 *   `b_in` [F], `mlp.W_out` [D, F], `b_out`, `ln2.*` as ln1;
 * - `ln_final.*` as ln1 when finalNorm;
 * - head: `unembed.W_hidden` [headHidden, P], `unembed.b_hidden` when headHidden > 0, then
 *   `unembed.W_U` [K, headHidden or P], `unembed.b_U` [K].
 *
 * @example
 * const shapes = paramShapes(makeConfig({ channels: 12, seqLen: 25, classes: 10 }));
 * shapes.find((p) => p.name === "blocks.0.attn.W_Q")?.shape; // [128, 128]
 */
export function paramShapes(config: TSTConfig): ParamShape[] {
  const { channels, classes: K, dModel: D, ff: F, kernels, convChannels } = config;
  const T = tokenCount(config);
  const out: ParamShape[] = [];
  const add = (name: string, shape: number[], trainable = true) => out.push({ name, shape, trainable });
  const norm = (prefix: string) => {
    add(`${prefix}.weight`, [D]);
    add(`${prefix}.bias`, [D]);
    if (config.normKind === "batch") {
      add(`${prefix}.running_mean`, [D], false);
      add(`${prefix}.running_var`, [D], false);
    }
  };
  if (config.stem === "conv") {
    let inChannels = channels;
    for (let i = 0; i < 3; i++) {
      const c = convChannels[i];
      add(`embed.conv${i + 1}.weight`, [c, inChannels, kernels[i]]);
      add(`embed.conv${i + 1}.bias`, [c]);
      add(`embed.bn${i + 1}.weight`, [c]);
      add(`embed.bn${i + 1}.bias`, [c]);
      add(`embed.bn${i + 1}.running_mean`, [c], false);
      add(`embed.bn${i + 1}.running_var`, [c], false);
      inChannels = c;
    }
  } else {
    add("embed.W_in", [D, config.stem === "patch" ? config.patchLen * channels : channels]);
    add("embed.b_in", [D]);
  }
  if (config.cls) add("embed.cls", [D]);
  if (config.pos === "learned") add("pos_embed.W_pos", [T, D]);
  for (let l = 0; l < config.layers; l++) {
    const b = `blocks.${l}.`;
    for (const n of ["Q", "K", "V"]) add(`${b}attn.W_${n}`, [D, D]);
    for (const n of ["Q", "K", "V"]) add(`${b}attn.b_${n}`, [D]);
    add(`${b}attn.W_O`, [D, D]);
    add(`${b}attn.b_O`, [D]);
    norm(`${b}ln1`);
    add(`${b}mlp.W_in`, [F, D]);
    add(`${b}mlp.b_in`, [F]);
    add(`${b}mlp.W_out`, [D, F]);
    add(`${b}mlp.b_out`, [D]);
    norm(`${b}ln2`);
  }
  if (config.finalNorm) norm("ln_final");
  const pooled = pooledWidth(config);
  if (config.headHidden > 0) {
    add("unembed.W_hidden", [config.headHidden, pooled]);
    add("unembed.b_hidden", [config.headHidden]);
  }
  add("unembed.W_U", [K, config.headHidden > 0 ? config.headHidden : pooled]);
  add("unembed.b_U", [K]);
  return out;
}

/** Number of elements of a shape (1 for a scalar). */
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
