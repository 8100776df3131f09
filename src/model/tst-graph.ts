/**
 * The Time Series Transformer as ONE IR graph with every hook point of
 * DESIGN.md. The same builder yields the forward graphs for evaluation and
 * patch sweeps (hooks cached as outputs, patched from inputs, optionally
 * starting part-way), the forward+backward graph for training, and the
 * standalone exported model (weights baked in as constants).
 *
 * Architecture: ../shared/models/reference/README.md ("Architecture (exact,
 * eval mode)"); variable-length convention: scripts/fixtures/tst_reference.py.
 *
 * Graph inputs (all with a symbolic `batch` axis):
 * - `x` float32 [batch, S, C]: raw values; normalised inside the graph by
 *   `pre.shift` / `pre.scale` [C] (`(x - shift) / scale`, identity for "none");
 * - `mask` bool [batch, S] (option `mask`): true = a real time step. Padded
 *   steps are set to 0 after normalisation (as the data layer pads), padded
 *   keys get no attention, and the max-pool ignores padded steps;
 * - every parameter under its canonical name (src/model/param-names.ts);
 * - `patch:<hook>:value` / `patch:<hook>:mask` for each patched hook;
 * - `start:<hook>` when the run starts at a hook (option `startAt`); a start at a
 *   sub-layer output takes two: the residual its layer adds it to, then the output
 *   (`start:blocks.<l>.hook_resid_pre` + `start:blocks.<l>.attn.hook_z`, which computes
 *   `hook_attn_out = z·W_Oᵀ + b_O` onward; resid_pre + `hook_attn_out`; resid_mid +
 *   `hook_mlp_out`; see `startInputHooks` in hooks.ts);
 * - train mode: `labels` float32 [batch, K] (one-hot) and dropout keep-masks
 *   `dropout:blocks.<l>.<attn_dropout|dropout1|mlp_dropout|dropout2>`;
 * - train mode with fed BatchNorm statistics: `loss_weight` [] and per BN layer [channels]
 *   `bn:<layer>.mean|var|grad_shift|grad_scale` (see `fedBatchNorm`).
 *
 * Outputs: `logits`, each cached hook under its own name; train mode adds
 * `loss` (mean cross-entropy), `grad:<param>` for every trainable parameter
 * and `bn:embed.bn<i>.batch_mean|batch_var` (biased, over all B×S positions).
 */
import { inputError } from "../errors.js";
import { grad } from "../graph/autodiff.js";
import { Graph, type Shape, type Value } from "../graph/ir.js";
import {
  add,
  concat,
  crossEntropy,
  div,
  dropout,
  expandAs,
  gelu,
  linear,
  matmul,
  mul,
  relu,
  replaceToken,
  reshape,
  slice,
  softmax,
  sub,
  transpose,
  where,
} from "../graph/ops/index.js";
import { pooledWidth, type TSTConfig, tokenCount } from "./config.js";
import type { GraphParts } from "./graph-parts.js";
import {
  type HookName,
  hookOrder,
  hookShape,
  layerOutputOf,
  parseHook,
  parseStartHook,
  startInputHooks,
  startInputShape,
} from "./hooks.js";
import { featureNorm } from "./norms.js";
import { poolTokens, positionTable } from "./pooling.js";
import { stemTokens, tokenMaskOf } from "./stems.js";

export { BN_EPS, LN_EPS } from "./graph-parts.js";

/** Where nn.TransformerEncoderLayer applies dropout, in call order (see scripts/fixtures/train_fixtures.py). */
export const DROPOUT_SITES = ["attn_dropout", "dropout1", "mlp_dropout", "dropout2"] as const;
export type DropoutSite = (typeof DROPOUT_SITES)[number];

/** A patched hook; `maskShape` must broadcast to the hook's shape (default: the full shape). */
export interface PatchPoint {
  hook: HookName;
  maskShape?: Shape;
}

export interface TSTGraphOptions {
  /** Declare the `mask` input (variable-length batches). Default false: every step is real. */
  mask?: boolean;
  /** Hooks fetched as outputs (named as the hook). */
  cache?: readonly HookName[];
  /** Hooks replaced by `where(patch:<hook>:mask, patch:<hook>:value, activation)`. */
  patch?: readonly (HookName | PatchPoint)[];
  /**
   * Start from this hook, fed as input `start:<hook>`; nothing before it is in the graph.
   * `blocks.<l>.attn.hook_z` is fed with `start:blocks.<l>.hook_resid_pre` as well.
   */
  startAt?: HookName;
  /**
   * With `startAt` a sub-layer output of layer l (`attn.hook_z`, `hook_attn_out`, `hook_mlp_out`):
   * recompute layer l at one token per row only, the token a patch of that output wrote (attention
   * is the only place tokens mix, and it comes before them, so the rest of layer l changes that
   * token alone). Inputs: both `startInputHooks` of that token ([batch, 1, …]),
   * `start:blocks.<l>.hook_resid_post` [batch, T, D] (the unpatched layer output) and `start:step`
   * int64 [batch] (which token). Layer l's hooks are not computed as a whole, so none may
   * be cached or patched.
   */
  startStep?: boolean;
  /**
   * With `startStep` at layer l < L − 1: layer l + 1 projects only the recomputed token to q, k
   * and v and takes every other token's from `start:blocks.<l+1>.attn.hook_q|k|v` [batch, T, H,
   * dh] (the target's unpatched values): its input changed at that token alone, and the
   * projections work token by token. Its attention and everything after run on all tokens.
   */
  startStepNext?: boolean;
  /** "train": BatchNorm batch statistics, dropout masks, loss and gradients. Default "eval". */
  mode?: "eval" | "train";
  /** Train mode: declare dropout mask inputs (default: config.dropout > 0). */
  dropout?: boolean;
  /** Train mode: add `grad:<param>` outputs (default true). */
  gradients?: boolean;
  /**
   * Train mode: where BatchNorm's statistics come from. "batch" (default): the call's own rows.
   * "fed": a whole batch's, fed per layer with the corrections that make a micro-batch's
   * gradients sum to the whole batch's (see `fedBatchNorm`; src/train/micro-batch.ts feeds them).
   */
  batchNormStats?: "batch" | "fed";
  /** Bake these inputs (parameters, `pre.shift`, `pre.scale`) into the graph as constants. */
  constants?: ReadonlyMap<string, Float32Array>;
}

export interface TSTGraph {
  graph: Graph;
  config: TSTConfig;
  /** Outputs worth fetching: `logits`, cached hooks, and in train mode loss, grads, BN stats. */
  outputs: string[];
  /** Parameter inputs declared (canonical names) with their shapes. */
  params: Map<string, Shape>;
  /** Trainable parameters (all declared parameters except BN running stats), in declaration order. */
  trainable: string[];
}

/** Names of the dropout mask inputs and their shapes for a config. */
export function dropoutInputs(config: TSTConfig, batch: number | string = "batch"): Map<string, Shape> {
  const { dModel: D, heads: H, ff: F } = config;
  const S = tokenCount(config);
  const shapes: Record<DropoutSite, Shape> = {
    attn_dropout: [batch, H, S, S],
    dropout1: [batch, S, D],
    mlp_dropout: [batch, S, F],
    dropout2: [batch, S, D],
  };
  const out = new Map<string, Shape>();
  for (let l = 0; l < config.layers; l++) {
    for (const site of DROPOUT_SITES) out.set(`dropout:blocks.${l}.${site}`, shapes[site]);
  }
  return out;
}

/**
 * Build the TST graph for one option signature.
 *
 * @example
 * const { graph } = buildTSTGraph(config, { cache: ["blocks.0.attn.hook_z"], mask: true });
 * const session = await runtime.compile(graph, ["logits", "blocks.0.attn.hook_z"]);
 */
export function buildTSTGraph(config: TSTConfig, options: TSTGraphOptions = {}): TSTGraph {
  const g = new Graph();
  const train = options.mode === "train";
  const { seqLen: S, channels: C, dModel: D, heads: H, classes: K } = config;
  const dh = D / H;
  const params = new Map<string, Shape>();
  const trainable: string[] = [];
  const paramValues: Value[] = [];
  const constants = options.constants;

  const param = (name: string, shape: Shape): Value => {
    const data = constants?.get(name);
    if (data !== undefined) return g.constant(data, shape);
    const existing = g.getInput(name);
    if (existing !== undefined) return existing;
    const v = g.input(name, shape);
    params.set(name, shape);
    if (!name.includes("running_") && !name.startsWith("pre.")) {
      trainable.push(name);
      paramValues.push(v);
    }
    return v;
  };

  const cache = new Set<HookName>((options.cache ?? []).map((h) => parseHook(config, h).name));
  const patches = new Map<HookName, Shape | undefined>();
  for (const p of options.patch ?? []) {
    const point = typeof p === "string" ? { hook: p } : p;
    patches.set(parseHook(config, point.hook).name, point.maskShape);
  }
  const startAt = options.startAt === undefined ? undefined : parseStartHook(config, options.startAt);
  const startOrder = startAt === undefined ? -1 : hookOrder(config, startAt);
  // The layer recomputed at one token per row (options.startStep), else -1.
  const stepLayer = options.startStep ? startStepLayer(config, startAt, [...cache, ...patches.keys()]) : -1;
  if (options.startStepNext && (stepLayer < 0 || stepLayer + 1 >= config.layers)) {
    throw inputError("startStepNext needs a one-token start (startStep) below the last layer", {
      field: "startStepNext",
    });
  }
  // The one-token start's recomputed token [batch, 1, D], for layer stepLayer + 1 (startStepNext).
  let stepToken: Value | null = null;
  // Which token a one-token start recomputed, per row (int64 [batch]).
  const stepIndex = stepLayer >= 0 ? g.input("start:step", ["batch"], "int64") : null;
  for (const h of [...cache, ...patches.keys()]) {
    if (startAt !== undefined && hookOrder(config, h) < startOrder) {
      throw inputError(
        `hook "${h}" comes before the start point "${startAt}", so the run never computes it`,
        {
          field: "startAt",
          hint: "cache or patch it in a run that starts earlier",
        },
      );
    }
  }

  // A hook point: patch (if asked), then cache (the cache records the patched value).
  const hook = (name: HookName, value: Value): Value => {
    let v = value;
    if (patches.has(name)) {
      const shape = hookShape(config, name);
      const mask = g.input(`patch:${name}:mask`, patches.get(name) ?? shape, "bool");
      v = where(mask, g.input(`patch:${name}:value`, shape), v);
    }
    if (cache.has(name)) g.output(name, v);
    return v;
  };
  const start = (name: HookName): Value =>
    g.input(`start:${name}`, startInputShape(config, name, "batch", stepLayer >= 0));
  const dropoutMasks = train && (options.dropout ?? config.dropout > 0);
  const drop = (l: number, site: DropoutSite, x: Value): Value => {
    if (!dropoutMasks) return x;
    const name = `dropout:blocks.${l}.${site}`;
    const shape = dropoutInputs(config).get(name) as Shape;
    return dropout(x, g.input(name, shape, "bool"), config.dropout);
  };

  const xInput = startAt === undefined ? g.input("x", ["batch", S, C]) : null;
  const mask = options.mask ? g.input("mask", ["batch", S], "bool") : null;
  const minusInf = g.scalar(Number.NEGATIVE_INFINITY);
  const outputs: string[] = ["logits"];
  const bnOutputs: string[] = [];
  const corrections: Value[] = []; // fed-statistics BatchNorm's loss terms (see fedBatchNorm in stems.ts)

  const parts: GraphParts = {
    g,
    config,
    train,
    param,
    statistic(name, value) {
      g.output(name, value);
      bnOutputs.push(name);
    },
    batchNormStats: options.batchNormStats ?? "batch",
    lossTerm(value) {
      corrections.push(value);
    },
  };
  const tokenMask = mask === null ? null : tokenMaskOf(parts, mask);

  // --- embedding: preprocessing, stem, CLS token, positional table --------------------------
  // The table is added after the embed hook, so a patched or fed embedding gets it too.
  const embedWithPositions = (embed: Value) =>
    add(embed, hook("hook_pos_embed", positionTable(parts, embed)));
  let resid: Value;
  if (xInput !== null) {
    let h = div(sub(xInput, param("pre.shift", [C])), param("pre.scale", [C]));
    if (mask !== null) h = where(reshape(mask, ["batch", S, 1]), h, g.scalar(0));
    let tokens = stemTokens(parts, h);
    if (config.embedScale !== 1) tokens = mul(tokens, g.scalar(config.embedScale));
    if (config.cls) {
      const first = slice(tokens, 1, 0, 1); // [B, 1, D]: only its shape is used
      const cls = expandAs(reshape(param("embed.cls", [D]), [1, 1, D]), first);
      tokens = concat([cls, tokens], 1);
    }
    resid = embedWithPositions(hook("hook_embed", tokens));
  } else if (startAt === "hook_embed") {
    resid = embedWithPositions(hook("hook_embed", start("hook_embed")));
  } else {
    // A start at a sub-layer output feeds its residual first; every other start is one input.
    resid = start(startInputHooks(startAt as HookName)[0]);
  }

  // --- encoder layers -----------------------------------------------------------------------
  // Post-norm (the reference): x = norm1(x + attn(x)); x = norm2(x + mlp(x)). Pre-norm
  // (`norm_first`): x = x + attn(norm1(x)); x = x + mlp(norm2(x)). The hooks keep their places:
  // resid_mid is what the MLP's residual add starts from, resid_post what leaves the layer.
  const T = tokenCount(config);
  const preNorm = config.norm === "pre";
  const keyMask = tokenMask === null ? null : reshape(tokenMask, ["batch", 1, 1, T]);
  const scale = g.scalar(1 / Math.sqrt(dh));
  const activation = (x: Value) => (config.act === "gelu" ? gelu(x) : relu(x));
  for (let l = 0; l < config.layers; l++) {
    const b = `blocks.${l}`;
    const at = (suffix: string) => `${b}.${suffix}` as HookName;
    const order = (suffix: string) => hookOrder(config, at(suffix));
    if (startOrder > order("hook_resid_post")) continue;
    if (startOrder <= order("attn.hook_z")) {
      let zRaw: Value;
      if (startOrder <= order("hook_resid_pre")) {
        resid = hook(at("hook_resid_pre"), resid);
        // After a one-token start one layer down (startStepNext), only that token is projected.
        const oneToken = options.startStepNext && l === stepLayer + 1 ? stepToken : null;
        const projected = oneToken ?? resid;
        const attnIn = preNorm ? featureNorm(parts, projected, `${b}.ln1`, tokenMask) : projected;
        const project = (name: "q" | "k" | "v", W: string, bias: string): Value => {
          const own = linear(attnIn, param(`${b}.attn.${W}`, [D, D]), param(`${b}.attn.${bias}`, [D]));
          const hookName = at(`attn.hook_${name}`);
          if (oneToken === null || stepIndex === null)
            return hook(hookName, reshape(own, ["batch", T, H, dh]));
          const unpatched = g.input(`start:${hookName}`, hookShape(config, hookName));
          return hook(hookName, replaceToken(unpatched, stepIndex, reshape(own, ["batch", 1, H, dh])));
        };
        const q = project("q", "W_Q", "b_Q");
        const k = project("k", "W_K", "b_K");
        const v = project("v", "W_V", "b_V");
        // scores[b, h, q, k] = (q / √dh) · k  (PyTorch scales q before the product).
        let scores = matmul(transpose(mul(q, scale), [0, 2, 1, 3]), transpose(k, [0, 2, 3, 1]));
        if (keyMask !== null) scores = where(keyMask, scores, minusInf);
        const pattern = hook(at("attn.hook_pattern"), softmax(scores, -1));
        const zHeads = matmul(drop(l, "attn_dropout", pattern), transpose(v, [0, 2, 1, 3])); // [B, H, T, dh]
        zRaw = transpose(zHeads, [0, 2, 1, 3]);
      } else {
        // Started at this layer's z: `resid` is the fed resid_pre, q/k/v and attention are skipped.
        zRaw = start(at("attn.hook_z"));
      }
      const z = hook(at("attn.hook_z"), zRaw);
      const attnOut = hook(
        at("hook_attn_out"),
        linear(
          reshape(z, ["batch", l === stepLayer ? 1 : T, D]),
          param(`${b}.attn.W_O`, [D, D]),
          param(`${b}.attn.b_O`, [D]),
        ),
      );
      resid = add(resid, drop(l, "dropout1", attnOut));
      if (!preNorm) resid = featureNorm(parts, resid, `${b}.ln1`, tokenMask);
    } else if (startAt === at("hook_attn_out")) {
      // Started at this layer's attention output: `resid` is the fed resid_pre.
      const attnOut = hook(at("hook_attn_out"), start(at("hook_attn_out")));
      resid = add(resid, drop(l, "dropout1", attnOut));
      if (!preNorm) resid = featureNorm(parts, resid, `${b}.ln1`, tokenMask);
    }
    if (startAt === at("hook_mlp_out")) {
      // Started at this layer's MLP output: `resid` is the fed resid_mid.
      const mlpOut = hook(at("hook_mlp_out"), start(at("hook_mlp_out")));
      resid = add(resid, drop(l, "dropout2", mlpOut));
      if (!preNorm) resid = featureNorm(parts, resid, `${b}.ln2`, tokenMask);
    } else if (startOrder <= order("hook_resid_mid")) {
      const mid = hook(at("hook_resid_mid"), resid);
      const mlpIn = preNorm ? featureNorm(parts, mid, `${b}.ln2`, tokenMask) : mid;
      const post = hook(
        at("mlp.hook_post"),
        activation(
          linear(mlpIn, param(`${b}.mlp.W_in`, [config.ff, D]), param(`${b}.mlp.b_in`, [config.ff])),
        ),
      );
      const mlpOut = hook(
        at("hook_mlp_out"),
        linear(
          drop(l, "mlp_dropout", post),
          param(`${b}.mlp.W_out`, [D, config.ff]),
          param(`${b}.mlp.b_out`, [D]),
        ),
      );
      resid = add(mid, drop(l, "dropout2", mlpOut));
      if (!preNorm) resid = featureNorm(parts, resid, `${b}.ln2`, tokenMask);
    }
    if (l === stepLayer && stepIndex !== null) {
      // The recomputed token into the unpatched layer output.
      stepToken = resid;
      resid = replaceToken(start(at("hook_resid_post")), stepIndex, resid);
    }
    resid = hook(at("hook_resid_post"), resid);
  }

  // --- pooling and classifier ---------------------------------------------------------------
  let pooled: Value;
  if (startAt === "hook_pooled") pooled = hook("hook_pooled", resid);
  else {
    if (config.finalNorm) resid = featureNorm(parts, resid, "ln_final", tokenMask);
    if (config.outputAct === "relu") resid = relu(resid);
    else if (config.outputAct === "gelu") resid = gelu(resid);
    pooled = hook("hook_pooled", poolTokens(parts, resid, tokenMask));
  }
  // The classifier runs on [batch, 1, P]. Written plainly on [batch, P], ONNX Runtime's own fusions
  // of MatMul(x, Transpose(W)) + Add (Gemm with transB) produce an invalid model when x is also a
  // graph output (a cached hook_pooled): "node input ... is not a graph input, initializer, or output
  // of a previous node". The emitter now writes linear layers as Gemm itself (onnx-fusions.ts, tested
  // on exactly that graph), so this reshape only matters for `toOnnx(..., { fuse: false })`.
  const P = pooledWidth(config);
  let headIn = reshape(pooled, ["batch", 1, P]);
  let headWidth = P;
  if (config.headHidden > 0) {
    const Hh = config.headHidden;
    headIn = activation(linear(headIn, param("unembed.W_hidden", [Hh, P]), param("unembed.b_hidden", [Hh])));
    headWidth = Hh;
  }
  const classified = linear(headIn, param("unembed.W_U", [K, headWidth]), param("unembed.b_U", [K]));
  const logits = hook("logits", reshape(classified, ["batch", K]));
  g.output("logits", logits);
  for (const h of cache) if (h !== "logits") outputs.push(h);

  if (train) {
    const labels = g.input("labels", ["batch", K]);
    const loss = crossEntropy(logits, labels);
    g.output("loss", loss);
    outputs.push("loss", ...bnOutputs);
    if (options.gradients ?? true) {
      // Fed statistics: this call's share of the whole batch's mean loss, plus the BN corrections.
      let target = loss;
      if (options.batchNormStats === "fed") {
        target = mul(loss, g.input("loss_weight", []));
        for (const term of corrections) target = add(target, term);
      }
      const grads = grad(target, paramValues);
      trainable.forEach((name, i) => {
        g.output(`grad:${name}`, grads[i]);
        outputs.push(`grad:${name}`);
      });
    }
  }
  return { graph: g, config, outputs, params, trainable };
}

/**
 * The layer of a one-token start (`startStep`): `startAt` must be a sub-layer output (see
 * `layerOutputOf`), and no cached or patched hook may be in that layer (they would hold one token,
 * not the whole layer).
 */
function startStepLayer(
  config: TSTConfig,
  startAt: HookName | undefined,
  hooks: readonly HookName[],
): number {
  const layer = startAt === undefined ? null : parseHook(config, startAt).layer;
  if (startAt === undefined || layer === null || layerOutputOf(startAt) === null) {
    throw inputError(
      "a one-token start needs startAt = blocks.<l>.attn.hook_z, hook_attn_out or hook_mlp_out",
      {
        field: "startStep",
      },
    );
  }
  const inLayer = hooks.find((h) => parseHook(config, h).layer === layer);
  if (inLayer !== undefined) {
    throw inputError(`"${inLayer}" is in the layer a one-token start recomputes at one token only`, {
      field: "startStep",
      hint: "cache or patch it in a run without startStep",
    });
  }
  return layer;
}
