import { inputError } from "../errors.js";
import { DEFAULT_CONFIG, makeConfig, type TSTConfig } from "./config.js";
import { assertFiniteWeights } from "./finite-weights.js";
import { numel, paramShapes } from "./param-names.js";

/**
 * The reference TST's PyTorch state-dict keys (../shared/models/reference/README.md) and their
 * mapping to our canonical parameter names (src/model/param-names.ts):
 *
 * | reference key | ours |
 * | --- | --- |
 * | `conv{i}.weight|bias` | `embed.conv{i}.weight|bias` |
 * | `bn{i}.weight|bias|running_mean|running_var` | `embed.bn{i}.…` (`num_batches_tracked` is dropped) |
 * | `pos_enc` [1, S, D] | `pos_embed.W_pos` [S, D] |
 * | `transformer_encoder.layers.{l}.self_attn.in_proj_weight` [3D, D] | rows 0..D-1 → `blocks.{l}.attn.W_Q`, D..2D-1 → `W_K`, 2D..3D-1 → `W_V` |
 * | `….self_attn.in_proj_bias` [3D] | `b_Q`, `b_K`, `b_V` |
 * | `….self_attn.out_proj.weight|bias` | `blocks.{l}.attn.W_O|b_O` |
 * | `….norm1.*` / `….norm2.*` | `blocks.{l}.ln1.*` / `ln2.*` |
 * | `….linear1.weight|bias` / `….linear2.*` | `blocks.{l}.mlp.W_in|b_in` / `W_out|b_out` |
 * | `classifier.weight|bias` | `unembed.W_U|b_U` |
 */

/** A tensor as {@link readPth} returns it (only shape and data are used). */
export interface ReferenceTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface ReferenceImport {
  /** Inferred from the tensor shapes (heads from the option, as shapes cannot tell it). */
  readonly config: TSTConfig;
  /** Canonical name → contiguous float32 values, in {@link paramShapes} order. */
  readonly weights: Map<string, Float32Array>;
}

const LAYER_KEYS = [
  "self_attn.in_proj_weight",
  "self_attn.in_proj_bias",
  "self_attn.out_proj.weight",
  "self_attn.out_proj.bias",
  "linear1.weight",
  "linear1.bias",
  "linear2.weight",
  "linear2.bias",
  "norm1.weight",
  "norm1.bias",
  "norm2.weight",
  "norm2.bias",
] as const;

/**
 * Expected reference keys and shapes for a config, in the order PyTorch writes them.
 * `num_batches_tracked` (a scalar) is listed as optional: older PyTorch does not save it.
 *
 * @example
 * referenceKeyShapes(makeConfig({ channels: 2, seqLen: 8, classes: 10 }))[0]; // { key: "pos_enc", shape: [1, 8, 128], optional: false }
 */
export function referenceKeyShapes(config: TSTConfig): { key: string; shape: number[]; optional: boolean }[] {
  const { channels, seqLen: S, classes: K, dModel: D, ff: F, kernels, convChannels } = config;
  const out: { key: string; shape: number[]; optional: boolean }[] = [];
  const add = (key: string, shape: number[], optional = false) => out.push({ key, shape, optional });
  add("pos_enc", [1, S, D]);
  let inChannels = channels;
  for (let i = 1; i <= 3; i++) {
    const c = convChannels[i - 1];
    add(`conv${i}.weight`, [c, inChannels, kernels[i - 1]]);
    add(`conv${i}.bias`, [c]);
    for (const n of ["weight", "bias", "running_mean", "running_var"]) add(`bn${i}.${n}`, [c]);
    add(`bn${i}.num_batches_tracked`, [], true);
    inChannels = c;
  }
  const layerShapes: Record<(typeof LAYER_KEYS)[number], number[]> = {
    "self_attn.in_proj_weight": [3 * D, D],
    "self_attn.in_proj_bias": [3 * D],
    "self_attn.out_proj.weight": [D, D],
    "self_attn.out_proj.bias": [D],
    "linear1.weight": [F, D],
    "linear1.bias": [F],
    "linear2.weight": [D, F],
    "linear2.bias": [D],
    "norm1.weight": [D],
    "norm1.bias": [D],
    "norm2.weight": [D],
    "norm2.bias": [D],
  };
  for (let l = 0; l < config.layers; l++) {
    for (const k of LAYER_KEYS) add(`transformer_encoder.layers.${l}.${k}`, layerShapes[k]);
  }
  add("classifier.weight", [K, D]);
  add("classifier.bias", [K]);
  return out;
}

/**
 * Maps a reference state dict to our config and canonical weights. Every mismatch (missing key,
 * unexpected key, wrong shape) is collected and reported in one InputError, one line each.
 *
 * @param stateDict tensors by reference key (e.g. from {@link readPth})
 * @param options.heads attention heads (default 8: shapes cannot tell the head count)
 * @param options.file the checkpoint's name, for the error message
 * @example
 * const { config, weights } = importReferenceStateDict(readPth("TST_pendigits.pth"), { file: "TST_pendigits.pth" });
 * config.channels; // 2
 * weights.get("blocks.0.attn.W_K")?.length; // 128 * 128
 */
export function importReferenceStateDict(
  stateDict: ReadonlyMap<string, ReferenceTensor>,
  options: { heads?: number; file?: string } = {},
): ReferenceImport {
  const config = inferConfig(stateDict, options);
  const expected = referenceKeyShapes(config);
  const problems: string[] = [];
  const expectedKeys = new Set(expected.map((e) => e.key));
  for (const { key, shape, optional } of expected) {
    const t = stateDict.get(key);
    if (t === undefined) {
      if (!optional) problems.push(`missing key ${key} (expected shape [${shape}])`);
    } else if (!sameShape(t.shape, shape)) {
      problems.push(`wrong shape for ${key}: [${t.shape}], expected [${shape}]`);
    } else if (t.data.length !== numel(shape)) {
      problems.push(`${key} has ${t.data.length} values for shape [${shape}]`);
    }
  }
  for (const key of stateDict.keys()) {
    if (!expectedKeys.has(key)) problems.push(`unexpected key ${key} [${stateDict.get(key)!.shape}]`);
  }
  if (problems.length > 0) {
    throw inputError(
      `not a reference TST state dict (${problems.length} mismatch${problems.length === 1 ? "" : "es"}; ` +
        `inferred channels ${config.channels}, seqLen ${config.seqLen}, classes ${config.classes}, ` +
        `layers ${config.layers}):\n  ${problems.join("\n  ")}`,
      {
        file: options.file,
        hint: "import-pth reads checkpoints of the reference TST architecture (../shared/models/reference/README.md)",
      },
    );
  }
  const weights = mapWeights(stateDict, config);
  assertFiniteWeights(
    expected.filter((e) => stateDict.has(e.key)).map((e) => [e.key, stateDict.get(e.key)!.data]),
    options.file,
  );
  return { config, weights };
}

/** Infers the config from the tensors; dimensions whose tensor is missing fall back to defaults. */
function inferConfig(
  sd: ReadonlyMap<string, ReferenceTensor>,
  options: { heads?: number; file?: string },
): TSTConfig {
  const dim = (key: string, axis: number): number | undefined => {
    const t = sd.get(key);
    return t !== undefined && t.shape.length > axis ? t.shape[axis] : undefined;
  };
  const layerIndices = new Set<number>();
  for (const key of sd.keys()) {
    const m = /^transformer_encoder\.layers\.(\d+)\./.exec(key);
    if (m) layerIndices.add(Number(m[1]));
  }
  // layers 0..n-1; a gap shows up as the missing keys of the absent layer
  const layers = layerIndices.size === 0 ? DEFAULT_CONFIG.layers : Math.max(...layerIndices) + 1;
  const dModel = dim("pos_enc", 2) ?? dim("conv3.weight", 0) ?? DEFAULT_CONFIG.dModel;
  // conv3's width is dModel by construction; a conv3.weight of another width is reported as a wrong shape
  const convChannels: [number, number, number] = [
    dim("conv1.weight", 0) ?? DEFAULT_CONFIG.convChannels[0],
    dim("conv2.weight", 0) ?? DEFAULT_CONFIG.convChannels[1],
    dModel,
  ];
  const kernels = [1, 2, 3].map(
    (i) => dim(`conv${i}.weight`, 2) ?? DEFAULT_CONFIG.kernels[i - 1],
  ) as unknown as [number, number, number];
  const fields = {
    channels: dim("conv1.weight", 1),
    seqLen: dim("pos_enc", 1),
    classes: dim("classifier.weight", 0),
  };
  const unknown = Object.entries(fields)
    .filter(([, v]) => v === undefined)
    .map(([k]) => k);
  if (unknown.length > 0) {
    throw inputError(
      `cannot infer ${unknown.join(", ")}: the state dict has no ${[
        "conv1.weight",
        "pos_enc",
        "classifier.weight",
      ]
        .filter((k) => !sd.has(k))
        .join(", ")} (keys found: ${[...sd.keys()].slice(0, 8).join(", ")}${sd.size > 8 ? ", …" : ""})`,
      {
        file: options.file,
        hint: "import-pth reads checkpoints of the reference TST architecture (../shared/models/reference/README.md)",
      },
    );
  }
  return makeConfig({
    channels: fields.channels!,
    seqLen: fields.seqLen!,
    classes: fields.classes!,
    dModel,
    heads: options.heads ?? DEFAULT_CONFIG.heads,
    layers,
    ff: dim("transformer_encoder.layers.0.linear1.weight", 0) ?? DEFAULT_CONFIG.ff,
    dropout: DEFAULT_CONFIG.dropout,
    kernels,
    convChannels,
  });
}

function mapWeights(sd: ReadonlyMap<string, ReferenceTensor>, config: TSTConfig): Map<string, Float32Array> {
  const D = config.dModel;
  const get = (key: string) => sd.get(key)!.data;
  const source = new Map<string, Float32Array>();
  for (let i = 1; i <= 3; i++) {
    for (const n of ["weight", "bias"]) source.set(`embed.conv${i}.${n}`, get(`conv${i}.${n}`));
    for (const n of ["weight", "bias", "running_mean", "running_var"]) {
      source.set(`embed.bn${i}.${n}`, get(`bn${i}.${n}`));
    }
  }
  source.set("pos_embed.W_pos", get("pos_enc"));
  for (let l = 0; l < config.layers; l++) {
    const r = `transformer_encoder.layers.${l}.`;
    const b = `blocks.${l}.`;
    const w = get(`${r}self_attn.in_proj_weight`);
    const bias = get(`${r}self_attn.in_proj_bias`);
    ["Q", "K", "V"].forEach((n, j) => {
      source.set(`${b}attn.W_${n}`, w.subarray(j * D * D, (j + 1) * D * D));
      source.set(`${b}attn.b_${n}`, bias.subarray(j * D, (j + 1) * D));
    });
    source.set(`${b}attn.W_O`, get(`${r}self_attn.out_proj.weight`));
    source.set(`${b}attn.b_O`, get(`${r}self_attn.out_proj.bias`));
    source.set(`${b}ln1.weight`, get(`${r}norm1.weight`));
    source.set(`${b}ln1.bias`, get(`${r}norm1.bias`));
    source.set(`${b}mlp.W_in`, get(`${r}linear1.weight`));
    source.set(`${b}mlp.b_in`, get(`${r}linear1.bias`));
    source.set(`${b}mlp.W_out`, get(`${r}linear2.weight`));
    source.set(`${b}mlp.b_out`, get(`${r}linear2.bias`));
    source.set(`${b}ln2.weight`, get(`${r}norm2.weight`));
    source.set(`${b}ln2.bias`, get(`${r}norm2.bias`));
  }
  source.set("unembed.W_U", get("classifier.weight"));
  source.set("unembed.b_U", get("classifier.bias"));
  // copy (slice) in canonical order so the result owns its memory and has no views into in_proj
  const weights = new Map<string, Float32Array>();
  for (const { name, shape } of paramShapes(config)) {
    const data = source.get(name)!;
    if (data.length !== numel(shape))
      throw new Error(`internal: ${name} has ${data.length} values for [${shape}]`);
    weights.set(name, data.slice());
  }
  return weights;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
