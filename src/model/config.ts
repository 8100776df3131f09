import { inputError } from "../errors.js";

/** Input stems: the reference's conv stack, a per-step linear projection, or PatchTST-style windows. */
export const STEMS = ["conv", "linear", "patch"] as const;
export type Stem = (typeof STEMS)[number];
export const POSITIONAL_ENCODINGS = ["learned", "sinusoidal", "none"] as const;
export type PositionalEncoding = (typeof POSITIONAL_ENCODINGS)[number];
/** post: norm after each residual add (the reference); pre: norm on each sub-layer's input (`norm_first`). */
export const NORM_PLACEMENTS = ["post", "pre"] as const;
export type NormPlacement = (typeof NORM_PLACEMENTS)[number];
export const NORM_KINDS = ["layer", "batch"] as const;
export type NormKind = (typeof NORM_KINDS)[number];
export const ACTIVATIONS = ["relu", "gelu"] as const;
export type Activation = (typeof ACTIVATIONS)[number];
export const OUTPUT_ACTIVATIONS = ["none", "relu", "gelu"] as const;
export type OutputActivation = (typeof OUTPUT_ACTIVATIONS)[number];
export const POOLINGS = ["max", "mean", "cls", "last", "flatten"] as const;
export type Pooling = (typeof POOLINGS)[number];

/**
 * Shape of a Time Series Transformer of the family (see /work/wt/FAMILY.md's table, mirrored in
 * DESIGN.md): the reference architecture of `../shared/models/reference/README.md` by default
 * (conv stack 5/3/3 → 32/64/128 channels, learned positions, dModel 128, 8 heads, 3 post-norm
 * LayerNorm encoder layers with ff 256 and ReLU, max-pool over time, linear head).
 */
export interface TSTConfig {
  /** Input channels C of x (B×S×C). */
  readonly channels: number;
  /** Time steps S (the learned positional table has S rows). */
  readonly seqLen: number;
  /** Output classes K. */
  readonly classes: number;
  readonly dModel: number;
  readonly heads: number;
  readonly layers: number;
  /** Width of the feed-forward block (linear1: dModel → ff). */
  readonly ff: number;
  readonly dropout: number;
  /** Kernel sizes of conv1..conv3 (odd; padding k/2 keeps the length). */
  readonly kernels: readonly [number, number, number];
  /** Output channels of conv1..conv3; the last must equal dModel. */
  readonly convChannels: readonly [number, number, number];
  /** How steps become tokens: conv (the reference), linear (`x·W_inᵀ + b_in` per step), patch. */
  readonly stem: Stem;
  /** Patch stem: steps per token window (0 when unused). */
  readonly patchLen: number;
  /** Patch stem: steps between window starts (0 when unused). */
  readonly patchStride: number;
  /** The stem output is multiplied by it (mvts_transformer: √dModel). */
  readonly embedScale: number;
  /** A learned token `embed.cls` prepended at position 0. */
  readonly cls: boolean;
  readonly pos: PositionalEncoding;
  readonly norm: NormPlacement;
  /** layer: LayerNorm; batch: BatchNorm1d over the D features (statistics over real tokens). */
  readonly normKind: NormKind;
  /** A norm of `normKind` after the last layer. */
  readonly finalNorm: boolean;
  /** The MLP's activation (gelu: the exact erf form). */
  readonly act: Activation;
  /** Applied to the last residual before pooling. */
  readonly outputAct: OutputActivation;
  readonly pool: Pooling;
  /** 0: one linear head; > 0: linear(P→headHidden) → act → linear(headHidden→K). */
  readonly headHidden: number;
}

/** Defaults of every field that has one (channels, seqLen and classes come from the data). */
export const DEFAULT_CONFIG = {
  dModel: 128,
  heads: 8,
  layers: 3,
  ff: 256,
  dropout: 0.1,
  kernels: [5, 3, 3],
  convChannels: [32, 64, 128],
  stem: "conv",
  patchLen: 0,
  patchStride: 0,
  embedScale: 1,
  cls: false,
  pos: "learned",
  norm: "post",
  normKind: "layer",
  finalNorm: false,
  act: "relu",
  outputAct: "none",
  pool: "max",
  headHidden: 0,
} as const satisfies Omit<TSTConfig, "channels" | "seqLen" | "classes">;

export type TSTConfigInput = Pick<TSTConfig, "channels" | "seqLen" | "classes"> & Partial<TSTConfig>;

/**
 * Completes a partial config with the defaults and validates it (InputError naming the field).
 *
 * @example
 * const config = makeConfig({ channels: 12, seqLen: 25, classes: 10 });
 * config.heads; // 8
 */
export function makeConfig(partial: TSTConfigInput): TSTConfig {
  const dModel = partial.dModel ?? partial.convChannels?.[2] ?? DEFAULT_CONFIG.dModel;
  const config: TSTConfig = {
    channels: partial.channels,
    seqLen: partial.seqLen,
    classes: partial.classes,
    dModel,
    heads: partial.heads ?? DEFAULT_CONFIG.heads,
    layers: partial.layers ?? DEFAULT_CONFIG.layers,
    ff: partial.ff ?? DEFAULT_CONFIG.ff,
    dropout: partial.dropout ?? DEFAULT_CONFIG.dropout,
    kernels: [...(partial.kernels ?? DEFAULT_CONFIG.kernels)] as [number, number, number],
    convChannels: [
      ...(partial.convChannels ?? [DEFAULT_CONFIG.convChannels[0], DEFAULT_CONFIG.convChannels[1], dModel]),
    ] as [number, number, number],
    stem: partial.stem ?? DEFAULT_CONFIG.stem,
    patchLen: partial.patchLen ?? DEFAULT_CONFIG.patchLen,
    patchStride: partial.patchStride ?? DEFAULT_CONFIG.patchStride,
    embedScale: partial.embedScale ?? DEFAULT_CONFIG.embedScale,
    cls: partial.cls ?? DEFAULT_CONFIG.cls,
    pos: partial.pos ?? DEFAULT_CONFIG.pos,
    norm: partial.norm ?? DEFAULT_CONFIG.norm,
    normKind: partial.normKind ?? DEFAULT_CONFIG.normKind,
    finalNorm: partial.finalNorm ?? DEFAULT_CONFIG.finalNorm,
    act: partial.act ?? DEFAULT_CONFIG.act,
    outputAct: partial.outputAct ?? DEFAULT_CONFIG.outputAct,
    pool: partial.pool ?? DEFAULT_CONFIG.pool,
    headHidden: partial.headHidden ?? DEFAULT_CONFIG.headHidden,
  };
  validateConfig(config);
  return config;
}

/** Throws an InputError naming the first field of `config` that cannot describe a model. */
export function validateConfig(config: TSTConfig): void {
  const positive = ["channels", "seqLen", "classes", "dModel", "heads", "layers", "ff"] as const;
  for (const field of positive) {
    const value = config[field];
    if (!Number.isInteger(value) || value < 1) {
      throw inputError(`model config: ${field} must be a positive integer, got ${String(value)}`, { field });
    }
  }
  if (config.dModel % config.heads !== 0) {
    throw inputError(`model config: dModel ${config.dModel} is not divisible by heads ${config.heads}`, {
      field: "heads",
      hint: "choose heads so that dModel / heads is an integer (the reference uses 128 / 8 = 16)",
    });
  }
  if (!(config.dropout >= 0 && config.dropout < 1)) {
    throw inputError(`model config: dropout must be in [0, 1), got ${config.dropout}`, { field: "dropout" });
  }
  validateFamily(config);
  if (config.stem !== "conv") return;
  for (const field of ["kernels", "convChannels"] as const) {
    const list = config[field];
    if (!Array.isArray(list) || list.length !== 3 || !list.every((v) => Number.isInteger(v) && v >= 1)) {
      throw inputError(
        `model config: ${field} must be three positive integers, got ${JSON.stringify(list)}`,
        {
          field,
        },
      );
    }
  }
  if (!config.kernels.every((k) => k % 2 === 1)) {
    throw inputError(`model config: kernels must be odd (same-length convolution), got ${config.kernels}`, {
      field: "kernels",
    });
  }
  if (config.convChannels[2] !== config.dModel) {
    throw inputError(
      `model config: the last conv channel count ${config.convChannels[2]} must equal dModel ${config.dModel}`,
      { field: "convChannels" },
    );
  }
}

const CHOICES = {
  stem: STEMS,
  pos: POSITIONAL_ENCODINGS,
  norm: NORM_PLACEMENTS,
  normKind: NORM_KINDS,
  act: ACTIVATIONS,
  outputAct: OUTPUT_ACTIVATIONS,
  pool: POOLINGS,
} as const;

/** The family fields (stem, positions, norms, activations, pooling, head) of a config. */
function validateFamily(config: TSTConfig): void {
  for (const [field, allowed] of Object.entries(CHOICES)) {
    const value = config[field as keyof typeof CHOICES];
    if (!(allowed as readonly string[]).includes(value)) {
      throw inputError(
        `model config: ${field} must be one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`,
        { field },
      );
    }
  }
  for (const field of ["cls", "finalNorm"] as const) {
    if (typeof config[field] !== "boolean") {
      throw inputError(`model config: ${field} must be true or false, got ${JSON.stringify(config[field])}`, {
        field,
      });
    }
  }
  for (const field of ["patchLen", "patchStride", "headHidden"] as const) {
    const value = config[field];
    if (!Number.isInteger(value) || value < 0) {
      throw inputError(`model config: ${field} must be a non-negative integer, got ${String(value)}`, {
        field,
      });
    }
  }
  if (
    !(typeof config.embedScale === "number" && Number.isFinite(config.embedScale) && config.embedScale > 0)
  ) {
    throw inputError(`model config: embedScale must be a positive number, got ${String(config.embedScale)}`, {
      field: "embedScale",
    });
  }
  if (config.stem === "patch") {
    if (config.patchLen < 1 || config.patchLen > config.seqLen) {
      throw inputError(
        `model config: patchLen must be between 1 and seqLen (${config.seqLen}) for the patch stem, got ${config.patchLen}`,
        { field: "patchLen", hint: "a patch is a window of steps; it cannot be longer than the series" },
      );
    }
    if (config.patchStride < 1) {
      throw inputError(
        `model config: patchStride must be at least 1 for the patch stem, got ${config.patchStride}`,
        {
          field: "patchStride",
        },
      );
    }
  }
  if (config.pool === "cls" && !config.cls) {
    throw inputError('model config: pool "cls" needs a CLS token (cls: true)', {
      field: "pool",
      hint: "set cls to true, or pool by max, mean, last or flatten",
    });
  }
}

/** Tokens the stem makes from the steps (no CLS token): S, or the patch windows that fit. */
function stemTokens(config: Pick<TSTConfig, "seqLen" | "stem" | "patchLen" | "patchStride">): number {
  if (config.stem !== "patch") return config.seqLen;
  return Math.floor((config.seqLen - config.patchLen) / config.patchStride) + 1;
}

/**
 * Tokens T the encoder sees: the steps S (conv, linear) or the patch windows
 * ⌊(S − patchLen)/patchStride⌋ + 1, plus one for the CLS token. Every `B×T×…` hook has T rows.
 *
 * @example
 * tokenCount(makeConfig({ channels: 3, seqLen: 64, classes: 4, stem: "patch", patchLen: 8, patchStride: 8, cls: true })); // 9
 */
export function tokenCount(
  config: Pick<TSTConfig, "seqLen" | "stem" | "patchLen" | "patchStride" | "cls">,
): number {
  return stemTokens(config) + (config.cls ? 1 : 0);
}

/**
 * Real tokens of series with these real step counts (right-padded): a token is real when its
 * window's first step is real (patch: token t starts at step t·patchStride), and the CLS token
 * always is. The one mapping from step lengths to token lengths (alignment, position sweeps).
 *
 * @example
 * const config = makeConfig({ channels: 1, seqLen: 10, classes: 2, stem: "patch", patchLen: 4, patchStride: 2 });
 * tokenLengths(config, [10, 5]); // [4, 3]
 */
export function tokenLengths(
  config: Pick<TSTConfig, "seqLen" | "stem" | "patchLen" | "patchStride" | "cls">,
  stepLengths: readonly number[],
): number[] {
  const stem = stemTokens(config);
  const extra = config.cls ? 1 : 0;
  return stepLengths.map((n) => {
    const real =
      config.stem === "patch" ? Math.min(stem, Math.ceil(n / config.patchStride)) : Math.min(stem, n);
    return Math.max(0, real) + extra;
  });
}

/**
 * Width P of the pooled vector the head reads: D, or T·D when every token is kept (flatten).
 *
 * @example
 * pooledWidth(makeConfig({ channels: 12, seqLen: 25, classes: 10 })); // 128
 */
export function pooledWidth(config: TSTConfig): number {
  return config.pool === "flatten" ? tokenCount(config) * config.dModel : config.dModel;
}
