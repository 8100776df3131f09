/**
 * Hook points of the TST: every internal activation has a stable name
 * (TransformerLens naming, see DESIGN.md "Hook points"). A hook can be cached
 * (fetched as a graph output) or patched (replaced by a fed value where a mask
 * says so); both go through the same named points of the graph.
 */
import { inputError } from "../errors.js";
import type { Dim } from "../graph/ir.js";
import { pooledWidth, type TSTConfig, tokenCount } from "./config.js";

/** Hooks that exist once per layer, after the `blocks.<l>.` prefix. */
export type LayerHookSuffix =
  /** B×S×D: input of the layer (embed + pos for layer 0, else resid_post of the layer before). */
  | "hook_resid_pre"
  /** B×S×H×dh: queries, `resid_pre · W_Qᵀ + b_Q` split into heads (pre-norm: of norm1(resid_pre)). */
  | "attn.hook_q"
  /** B×S×H×dh: keys. */
  | "attn.hook_k"
  /** B×S×H×dh: values. */
  | "attn.hook_v"
  /** B×H×S(query)×S(key): softmax(q kᵀ / √dh) over keys (padded keys get 0). */
  | "attn.hook_pattern"
  /** B×S×H×dh: pattern · v per head, before W_O (a "head" is z[:, :, h, :]). */
  | "attn.hook_z"
  /** B×S×D: z (heads concatenated) · W_Oᵀ + b_O. */
  | "hook_attn_out"
  /** B×S×D: norm1(resid_pre + attn_out) (post-norm); resid_pre + attn_out (pre-norm). */
  | "hook_resid_mid"
  /** B×S×F: act(resid_mid · W_inᵀ + b_in) (pre-norm: act(norm2(resid_mid) · W_inᵀ + b_in)). */
  | "mlp.hook_post"
  /** B×S×D: post · W_outᵀ + b_out (before the residual add). */
  | "hook_mlp_out"
  /** B×S×D: norm2(resid_mid + mlp_out) (post-norm); resid_mid + mlp_out (pre-norm). */
  | "hook_resid_post";

/**
 * Every hook point. Shapes (B batch, S tokens (`tokenCount`: time steps, or patch windows, plus the
 * CLS token), D dModel, H heads, dh = D/H, F ff width, K classes, P pooled width (`pooledWidth`)):
 * - `hook_embed` B×S×D: stem output (the reference: conv→BN→ReLU ×3) × embedScale, with the CLS
 *   row prepended, before the positional table;
 * - `hook_pos_embed` B×S×D: the positional table (learned, sinusoidal or zeros) broadcast over the batch;
 * - `blocks.<l>.*`: see {@link LayerHookSuffix};
 * - `hook_pooled` B×P: the pooling (the reference: max over the real tokens) of the last resid_post;
 * - `logits` B×K.
 */
export type HookName =
  | "hook_embed"
  | "hook_pos_embed"
  | `blocks.${number}.${LayerHookSuffix}`
  | "hook_pooled"
  | "logits";

export const LAYER_HOOKS: readonly LayerHookSuffix[] = [
  "hook_resid_pre",
  "attn.hook_q",
  "attn.hook_k",
  "attn.hook_v",
  "attn.hook_pattern",
  "attn.hook_z",
  "hook_attn_out",
  "hook_resid_mid",
  "mlp.hook_post",
  "hook_mlp_out",
  "hook_resid_post",
];

/** Parts of a parsed hook name. `layer` is null for the hooks outside the blocks. */
export interface ParsedHook {
  name: HookName;
  layer: number | null;
  suffix: LayerHookSuffix | null;
}

/**
 * All hook names of a model, in computation order.
 *
 * @example
 * hookNames({ layers: 3 }).length; // 2 + 3·11 + 2 = 37
 */
export function hookNames(config: Pick<TSTConfig, "layers">): HookName[] {
  const names: HookName[] = ["hook_embed", "hook_pos_embed"];
  for (let l = 0; l < config.layers; l++) for (const s of LAYER_HOOKS) names.push(`blocks.${l}.${s}`);
  names.push("hook_pooled", "logits");
  return names;
}

/** Hooks outside the blocks. */
const MODEL_HOOKS = new Set(["hook_embed", "hook_pos_embed", "hook_pooled", "logits"]);

/**
 * The parts of a well-formed hook name, or null: the one place hook names are taken apart
 * (whether the layer exists is a question for {@link parseHook}, which knows the config).
 */
function splitHookName(name: string): { layer: number | null; suffix: LayerHookSuffix | null } | null {
  if (MODEL_HOOKS.has(name)) return { layer: null, suffix: null };
  const m = /^blocks\.(0|[1-9]\d*)\.(.+)$/.exec(name);
  if (m === null || !(LAYER_HOOKS as readonly string[]).includes(m[2])) return null;
  return { layer: Number(m[1]), suffix: m[2] as LayerHookSuffix };
}

/**
 * Parse and validate a hook name against a model config; a bad name is an
 * InputError listing the valid ones.
 *
 * @example
 * parseHook(config, "blocks.1.attn.hook_z"); // { name, layer: 1, suffix: "attn.hook_z" }
 */
export function parseHook(config: Pick<TSTConfig, "layers">, name: string): ParsedHook {
  const parts = splitHookName(name);
  if (parts !== null && (parts.layer === null || parts.layer < config.layers)) {
    return { name: name as HookName, ...parts };
  }
  throw inputError(`unknown hook point "${name}"`, {
    field: "hook",
    hint: `valid hook points: hook_embed, hook_pos_embed, blocks.<l>.{${LAYER_HOOKS.join(",")}} for l = 0..${config.layers - 1}, hook_pooled, logits`,
  });
}

/**
 * Shape of a hook's activation; the batch axis is `batch` (a symbolic dim)
 * unless a number is given.
 *
 * @example
 * hookShape(config, "blocks.0.attn.hook_pattern"); // ["batch", 8, 25, 25]
 */
export function hookShape(config: TSTConfig, name: HookName | string, batch: Dim = "batch"): Dim[] {
  const { dModel: D, heads: H, ff: F, classes: K } = config;
  const S = tokenCount(config);
  const dh = D / H;
  const { suffix, name: hook } = parseHook(config, name);
  if (suffix === null) {
    if (hook === "hook_pooled") return [batch, pooledWidth(config)];
    if (hook === "logits") return [batch, K];
    return [batch, S, D];
  }
  switch (suffix) {
    case "attn.hook_q":
    case "attn.hook_k":
    case "attn.hook_v":
    case "attn.hook_z":
      return [batch, S, H, dh];
    case "attn.hook_pattern":
      return [batch, H, S, S];
    case "mlp.hook_post":
      return [batch, S, F];
    default:
      return [batch, S, D];
  }
}

/** Suffixes of the per-layer hooks a run may start from (see {@link isStartHook}). */
const START_SUFFIXES: ReadonlySet<LayerHookSuffix | null> = new Set([
  "hook_resid_pre",
  "hook_resid_mid",
  "hook_resid_post",
  "attn.hook_z",
  "hook_attn_out",
  "hook_mlp_out",
] as const);

/**
 * Hooks a run may start from (fed as an input, earlier layers left out): the
 * residual stream points, whose value alone determines everything after them,
 * and the sub-layer outputs `blocks.<l>.attn.hook_z`, `blocks.<l>.hook_attn_out`
 * and `blocks.<l>.hook_mlp_out`, each fed together with the residual its layer
 * adds it to (`hook_resid_pre`, or `hook_resid_mid` for the MLP's output); see
 * {@link startInputHooks}.
 *
 * @example
 * isStartHook("blocks.2.hook_resid_pre"); // true
 * isStartHook("blocks.2.attn.hook_z");    // true: fed with blocks.2.hook_resid_pre
 * isStartHook("blocks.2.hook_mlp_out");   // true: fed with blocks.2.hook_resid_mid
 * isStartHook("blocks.2.attn.hook_q");    // false
 */
export function isStartHook(name: HookName): boolean {
  if (name === "hook_embed" || name === "hook_pooled") return true;
  const parts = splitHookName(name);
  return parts !== null && parts.layer !== null && START_SUFFIXES.has(parts.suffix);
}

/**
 * Check a start point: a hook of this model that a run can start from, else an InputError
 * naming the ones it can.
 *
 * @example
 * parseStartHook(config, "blocks.1.hook_resid_pre"); // "blocks.1.hook_resid_pre"
 */
export function parseStartHook(config: Pick<TSTConfig, "layers">, name: string): HookName {
  const hook = parseHook(config, name).name;
  if (!isStartHook(hook)) {
    throw inputError(`a run cannot start at "${hook}"`, {
      field: "startAt",
      hint: "start at hook_embed, hook_pooled, blocks.<l>.hook_resid_pre|mid|post, blocks.<l>.attn.hook_z, blocks.<l>.hook_attn_out or blocks.<l>.hook_mlp_out",
    });
  }
  return hook;
}

/**
 * The hooks whose values a run starting at `start` is fed (graph inputs
 * `start:<hook>`, in this order): the start hook itself, and for a sub-layer
 * output first the residual the layer adds it to: `hook_resid_pre` for
 * `attn.hook_z` and `hook_attn_out`, `hook_resid_mid` for `hook_mlp_out`.
 *
 * @example
 * startInputHooks("blocks.1.attn.hook_z"); // ["blocks.1.hook_resid_pre", "blocks.1.attn.hook_z"]
 * startInputHooks("blocks.1.hook_mlp_out"); // ["blocks.1.hook_resid_mid", "blocks.1.hook_mlp_out"]
 * startInputHooks("hook_embed");           // ["hook_embed"]
 */
export function startInputHooks(start: HookName): HookName[] {
  const parts = splitHookName(start);
  if (parts === null || parts.layer === null) return [start];
  if (parts.suffix === "attn.hook_z" || parts.suffix === "hook_attn_out") {
    return [`blocks.${parts.layer}.hook_resid_pre`, start];
  }
  if (parts.suffix === "hook_mlp_out") return [`blocks.${parts.layer}.hook_resid_mid`, start];
  return [start];
}

/**
 * The output (`hook_resid_post`) of the layer a sub-layer output belongs to (`attn.hook_z`,
 * `hook_attn_out`, `hook_mlp_out`), else null: after those, the rest of the layer works token by
 * token, so a run started there with one token changed can recompute that token alone and merge
 * it into the layer's unpatched output (a one-token start, `startStep` in tst-graph.ts).
 *
 * @example
 * layerOutputOf("blocks.1.hook_mlp_out"); // "blocks.1.hook_resid_post"
 * layerOutputOf("blocks.1.hook_resid_pre"); // null
 */
export function layerOutputOf(start: HookName): HookName | null {
  const parts = splitHookName(start);
  if (parts === null || parts.layer === null) return null;
  const subLayer =
    parts.suffix === "attn.hook_z" || parts.suffix === "hook_attn_out" || parts.suffix === "hook_mlp_out";
  return subLayer ? `blocks.${parts.layer}.hook_resid_post` : null;
}

/**
 * The next layer's q, k and v after a one-token start at this sub-layer output (see
 * `layerOutputOf`), or none in the last layer: that layer's input changes at the one token, so a
 * run fed their unpatched values projects only that token (`startStepNext` in tst-graph.ts).
 *
 * @example
 * nextLayerProjections({ layers: 3 }, "blocks.0.attn.hook_z");
 * // ["blocks.1.attn.hook_q", "blocks.1.attn.hook_k", "blocks.1.attn.hook_v"]
 */
export function nextLayerProjections(config: Pick<TSTConfig, "layers">, start: HookName): HookName[] {
  const parts = splitHookName(start);
  if (layerOutputOf(start) === null || parts === null || parts.layer === null) return [];
  const next = parts.layer + 1;
  if (next >= config.layers) return [];
  return (["q", "k", "v"] as const).map((name): HookName => `blocks.${next}.attn.hook_${name}`);
}

/**
 * The shape a start input is fed in (`start:<hook>`): the hook's own, or with one token per row
 * for a one-token start (`oneToken`), whose layer output alone is fed whole.
 *
 * @example
 * startInputShape(config, "blocks.1.attn.hook_z", "batch", true); // ["batch", 1, H, d_head]
 */
export function startInputShape(config: TSTConfig, hook: HookName, batch: Dim, oneToken: boolean): Dim[] {
  const shape = hookShape(config, hook, batch);
  return oneToken && !hook.endsWith("hook_resid_post") ? [shape[0], 1, ...shape.slice(2)] : shape;
}

/**
 * Position of a hook in computation order (for "is a before b" checks).
 *
 * @example
 * hookOrder(config, "hook_embed") < hookOrder(config, "logits"); // true
 */
export function hookOrder(config: Pick<TSTConfig, "layers">, name: HookName): number {
  return hookNames(config).indexOf(name);
}
