import { inputError } from "../errors.js";

/**
 * Shape of a Time Series Transformer: the reference architecture of
 * `../shared/models/reference/README.md` by default (conv stack 5/3/3 → 32/64/128 channels,
 * dModel 128, 8 heads, 3 post-norm encoder layers with ff 256, max-pool over time, linear head).
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
