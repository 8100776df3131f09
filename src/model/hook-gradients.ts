/**
 * Gradients of a per-row metric of the logits with respect to hook activations (and the raw
 * input), for gradient baselines (attribution patching, integrated gradients, saliency).
 *
 * The forward graph is the eval graph of tst-graph.ts with the wanted hooks cached; since a
 * cached hook is a graph output, its Value is known, and the reverse pass of autodiff.ts runs
 * from the metric to those Values. The metric of row b is
 *
 *   M_b = Σ_k wp[b,k] · softmax(logits_b)[k] + Σ_k wl[b,k] · logits_b[k]
 *
 * (wp = one-hot of the true class gives P(true); wl = e_good − e_bad gives the logit difference),
 * and the graph differentiates Σ_b M_b: rows do not interact in eval mode, so the gradient at row
 * b is dM_b / d hook_b.
 */
import { inputError } from "../errors.js";
import { grad } from "../graph/autodiff.js";
import type { Graph, Value } from "../graph/ir.js";
import { toOnnx } from "../graph/onnx.js";
import { add, mul, reduceSum, softmax } from "../graph/ops/index.js";
import type { HostTensor } from "../runtime/session.js";
import type { HookedTST, PatchValue } from "./hooked-tst.js";
import { type HookName, hookShape, parseHook, startInputHooks } from "./hooks.js";
import { buildTSTGraph, type PatchPoint } from "./tst-graph.js";

/** A scalar metric of one row's logits and its gradient with respect to them (float64). */
export type LogitMetric = ((
  logits: Float64Array,
  row: number,
) => { value: number; gradient: Float64Array }) & {
  /**
   * The same metric as fixed weights per row (batch × K each): M_b = Σ_k probability[b,k] ·
   * softmax(logits_b)[k] + Σ_k logit[b,k] · logits_b[k]. With them the gradient graph computes
   * M itself, so no forward run has to produce the logits first (see {@link hookGradients}).
   */
  readonly weights?: (batch: number, classes: number) => MetricWeights;
};

/** A metric as weights on the softmax and on the logits (batch × K each; null = all 0). */
export interface MetricWeights {
  readonly probability: Float32Array | null;
  readonly logit: Float32Array | null;
}

/**
 * M_b = P(classes[b]) = softmax(logits_b)[y], with dM/dlogit_k = p_y (δ_yk − p_k) and 1 − p_y
 * taken as Σ_{j≠y} p_j (see the module comment).
 *
 * @example
 * const metric = probabilityMetric(Int32Array.of(3, 3)); // P(class 3) for two rows
 */
export function probabilityMetric(classes: ArrayLike<number>): LogitMetric {
  const metric = (logits: Float64Array, row: number) => {
    const y = classes[row];
    let max = -Infinity;
    for (const v of logits) max = Math.max(max, v);
    const p = logits.map((v) => Math.exp(v - max));
    const total = p.reduce((a, b) => a + b, 0);
    for (let k = 0; k < p.length; k++) p[k] /= total;
    let rest = 0;
    for (let k = 0; k < p.length; k++) if (k !== y) rest += p[k];
    const gradient = p.map((pk, k) => (k === y ? p[y] * rest : -p[y] * pk));
    return { value: p[y], gradient };
  };
  const weights = (batch: number, K: number): MetricWeights => ({
    probability: oneHotRows(batch, K, (b) => [[classes[b], 1]]),
    logit: null,
  });
  return Object.assign(metric, { weights });
}

/**
 * M_b = logit(good[b]) − logit(bad[b]).
 *
 * @example
 * const metric = logitDiffMetric([2], [5]);
 */
export function logitDiffMetric(good: ArrayLike<number>, bad: ArrayLike<number>): LogitMetric {
  const metric = (logits: Float64Array, row: number) => {
    const gradient = new Float64Array(logits.length);
    gradient[good[row]] += 1;
    gradient[bad[row]] -= 1;
    return { value: logits[good[row]] - logits[bad[row]], gradient };
  };
  const weights = (batch: number, K: number): MetricWeights => ({
    probability: null,
    logit: oneHotRows(batch, K, (b) => [
      [good[b], 1],
      [bad[b], -1],
    ]),
  });
  return Object.assign(metric, { weights });
}

/** batch × K weights, row b summing `entries(b)` ([class, weight] pairs). */
function oneHotRows(
  batch: number,
  K: number,
  entries: (row: number) => readonly (readonly [number, number])[],
): Float32Array {
  const out = new Float32Array(batch * K);
  for (let b = 0; b < batch; b++) for (const [k, w] of entries(b)) out[b * K + k] += w;
  return out;
}

export interface HookGradientOptions {
  /** Hooks to differentiate with respect to (their values are returned too). */
  hooks: readonly HookName[];
  /** The metric per row (see {@link probabilityMetric}, {@link logitDiffMetric}). */
  metric: LogitMetric;
  /** Also return d M / d x (the raw input, before normalisation). */
  wrtInput?: boolean;
  /** batch × S, 1 = real step. */
  mask?: Uint8Array | null;
  /**
   * Start at a hook (as HookedTST.run's `startAt`); the start value can then be among `hooks`,
   * e.g. integrated gradients along a path of `blocks.l.attn.hook_z` values.
   */
  startAt?: { hook: HookName; value: Float32Array; residual?: Float32Array };
  /** Hooks replaced by these values where the mask is 1, as in HookedTST.run. */
  patch?: Partial<Record<HookName, PatchValue>>;
  /** Rows per runtime call (default 64). */
  chunkSize?: number;
  /**
   * The logits of this very run (batch × K) when the caller has them already (e.g. from a cached
   * unpatched run of the same rows): the forward run is then skipped.
   */
  logits?: Float32Array;
  /** Fetch the hooks' values too (default true; false saves the copies when the caller has them). */
  values?: boolean;
  /**
   * Compute the metric inside the gradient graph from `metric.weights` (default false): one
   * forward+backward run and no forward run before it; the logits and M come out of that run.
   * Softmax's derivative is then taken in float32 (the host path takes it in float64 from the
   * logits, which matters only for probabilities within ~1e-6 of 0 or 1).
   */
  metricInGraph?: boolean;
}

export interface HookGradientResult {
  /** M_b per row. */
  metric: Float64Array;
  /** batch × K. */
  logits: Float32Array;
  /** d M_b / d hook, the hook's full shape (batch first). */
  grads: Partial<Record<HookName, Float32Array>>;
  /** The hook activations of the same run (empty with `values: false`). */
  values: Partial<Record<HookName, Float32Array>>;
  /** d M_b / d x (batch × S × C), when asked. */
  inputGrad: Float32Array | null;
}

const compiled = new Map<string, { bytes: Uint8Array; outputs: string[] }>();

/**
 * The metric per row and its gradient w.r.t. hooks: one forward run (the logits, skipped when
 * `options.logits` gives them or `options.metricInGraph` computes the metric in the graph), then
 * one forward+backward run.
 *
 * @example
 * const r = await hookGradients(model, x, { hooks: ["blocks.0.attn.hook_z"], metric: probabilityMetric(y), mask });
 * r.grads["blocks.0.attn.hook_z"]; // d P(y) / d z, batch × S × H × dh
 */
export async function hookGradients(
  model: HookedTST,
  x: Float32Array | null,
  options: HookGradientOptions,
): Promise<HookGradientResult> {
  const { config } = model;
  const { seqLen: S, channels: C, classes: K } = config;
  const hooks = [...new Set(options.hooks.map((h) => parseHook(config, h).name))];
  const start = options.startAt;
  const startHook = start === undefined ? undefined : parseHook(config, start.hook).name;
  if (options.wrtInput && start !== undefined) {
    throw inputError("the input gradient needs a run from x, not from a start hook", { field: "wrtInput" });
  }
  let mask = options.mask ?? null;
  if (mask?.every((m) => m !== 0)) mask = null;
  const inGraph = options.metricInGraph === true && options.logits === undefined;
  const weightsOf = options.metric.weights;
  if (inGraph && weightsOf === undefined) {
    throw inputError("metricInGraph needs a metric with weights (probabilityMetric, logitDiffMetric)", {
      field: "metricInGraph",
    });
  }
  const forward = inGraph
    ? null
    : options.logits !== undefined
      ? { logits: options.logits, batch: options.logits.length / K }
      : await model.run(start === undefined ? x : null, {
          mask,
          startAt: start,
          patch: options.patch,
          chunkSize: options.chunkSize,
        });
  const batch =
    forward?.batch ??
    (start === undefined || startHook === undefined
      ? (x as Float32Array).length / (S * C)
      : start.value.length / (hookShape(config, startHook, 1) as number[]).reduce((a, b) => a * b, 1));
  const metric = new Float64Array(batch);
  let logitWeights: Float32Array = new Float32Array(batch * K);
  let probabilityWeights: Float32Array | null = null;
  if (forward === null) {
    const w = (weightsOf as NonNullable<LogitMetric["weights"]>)(batch, K);
    logitWeights = w.logit ?? logitWeights;
    probabilityWeights = w.probability ?? new Float32Array(batch * K);
  } else {
    for (let b = 0; b < batch; b++) {
      const row = Float64Array.from(forward.logits.subarray(b * K, (b + 1) * K));
      const m = options.metric(row, b);
      metric[b] = m.value;
      logitWeights.set(m.gradient, b * K);
    }
  }

  const patches = Object.entries(options.patch ?? {}).map(([name, p]) => {
    const hook = parseHook(config, name).name;
    const value = p as PatchValue;
    const full = hookShape(config, hook, batch) as number[];
    const maskData = value.mask instanceof Uint8Array ? value.mask : value.mask.data;
    const maskDims = value.mask instanceof Uint8Array ? full : [...value.mask.dims];
    return { hook, value: value.value, maskData, maskDims };
  });
  const points: PatchPoint[] = patches.map((p) => ({
    hook: p.hook,
    maskShape: p.maskDims.map((d, i) => (i === 0 && d === batch && d !== 1 ? "batch" : d)),
  }));
  const withValues = options.values ?? true;
  const key = JSON.stringify([
    config,
    hooks,
    !!options.wrtInput,
    mask !== null,
    startHook ?? null,
    points,
    withValues,
    inGraph,
  ]);
  let entry = compiled.get(key);
  if (entry === undefined) {
    const g = gradientGraph(model, hooks, !!options.wrtInput, mask !== null, startHook, points, {
      withValues,
      inGraph,
    });
    entry = { bytes: toOnnx(g.graph, { outputs: g.outputs }), outputs: g.outputs };
    compiled.set(key, entry);
  }
  const session = await model.runtime.compileBytes(entry.bytes);
  const weights = model.weightFeeds();
  const chunk = Math.max(1, options.chunkSize ?? 64);
  const per = new Map(
    hooks.map((h) => [h, (hookShape(config, h, 1) as number[]).reduce((a, b) => a * b, 1)]),
  );
  const result: HookGradientResult = {
    metric,
    logits: forward?.logits ?? new Float32Array(batch * K),
    grads: {},
    values: {},
    inputGrad: options.wrtInput ? new Float32Array(batch * S * C) : null,
  };
  for (const h of hooks) {
    result.grads[h] = new Float32Array(batch * (per.get(h) as number));
    if (withValues) result.values[h] = new Float32Array(batch * (per.get(h) as number));
  }
  const startFeeds: { hook: HookName; value: Float32Array }[] = [];
  if (start !== undefined && startHook !== undefined) {
    const inputs = startInputHooks(startHook);
    if (inputs.length === 2) startFeeds.push({ hook: inputs[0], value: start.residual as Float32Array });
    startFeeds.push({ hook: startHook, value: start.value });
  }
  for (let r0 = 0; r0 < batch; r0 += chunk) {
    const r1 = Math.min(batch, r0 + chunk);
    const n = r1 - r0;
    const slice = <T extends Float32Array | Uint8Array>(data: T, width: number): T =>
      data.subarray(r0 * width, r1 * width) as T;
    const feeds: Record<string, HostTensor> = { ...weights };
    if (startFeeds.length === 0) feeds.x = { data: slice(x as Float32Array, S * C), dims: [n, S, C] };
    for (const f of startFeeds) {
      const dims = hookShape(config, f.hook, n) as number[];
      feeds[`start:${f.hook}`] = { data: slice(f.value, f.value.length / batch), dims };
    }
    if (mask !== null) feeds.mask = { data: slice(mask, S), dims: [n, S], dtype: "bool" };
    for (const p of patches) {
      const full = hookShape(config, p.hook, n) as number[];
      feeds[`patch:${p.hook}:value`] = { data: slice(p.value, p.value.length / batch), dims: full };
      const rowWise = points[patches.indexOf(p)].maskShape?.[0] === "batch";
      const dims = p.maskDims.map((d, i) => (i === 0 && rowWise ? n : d));
      const width = p.maskData.length / p.maskDims[0];
      feeds[`patch:${p.hook}:mask`] = {
        data: rowWise ? slice(p.maskData, width) : p.maskData,
        dims,
        dtype: "bool",
      };
    }
    feeds["metric:logit_weights"] = { data: slice(logitWeights, K), dims: [n, K] };
    if (probabilityWeights !== null) {
      feeds["metric:probability_weights"] = { data: slice(probabilityWeights, K), dims: [n, K] };
    }
    const out = await session.run(feeds, entry.outputs);
    if (inGraph) {
      const m = out.metric.data as Float32Array;
      for (let i = 0; i < n; i++) metric[r0 + i] = m[i];
      result.logits.set(out.logits.data as Float32Array, r0 * K);
    }
    for (const h of hooks) {
      const w = per.get(h) as number;
      (result.grads[h] as Float32Array).set(out[`grad:${h}`].data as Float32Array, r0 * w);
      if (withValues) (result.values[h] as Float32Array).set(out[h].data as Float32Array, r0 * w);
    }
    if (result.inputGrad !== null) result.inputGrad.set(out["grad:x"].data as Float32Array, r0 * S * C);
  }
  return result;
}

/**
 * The eval graph plus L = Σ G ⊙ logits and its reverse pass; with `inGraph`, L = Σ_b M_b with
 * M_b = Σ P ⊙ softmax(logits_b) + Σ G ⊙ logits_b computed in the graph (outputs `metric`, `logits`).
 */
function gradientGraph(
  model: HookedTST,
  hooks: readonly HookName[],
  wrtInput: boolean,
  masked: boolean,
  startAt: HookName | undefined,
  patch: readonly PatchPoint[],
  mode: { withValues: boolean; inGraph: boolean },
): { graph: Graph; outputs: string[] } {
  const K = model.config.classes;
  const built = buildTSTGraph(model.config, { mask: masked, cache: hooks, startAt, patch });
  const g = built.graph;
  const logits = g.outputs.get("logits") as Value;
  const weights = g.input("metric:logit_weights", ["batch", K]);
  let perRow = reduceSum(mul(logits, weights), [1], false);
  if (mode.inGraph) {
    const probability = g.input("metric:probability_weights", ["batch", K]);
    perRow = add(perRow, reduceSum(mul(softmax(logits, 1), probability), [1], false));
    g.output("metric", perRow);
  }
  const total = reduceSum(perRow, [0], false);
  const wrt = hooks.map((h) => g.outputs.get(h) as Value);
  if (wrtInput) wrt.push(g.getInput("x") as Value);
  const grads = grad(total, wrt);
  const outputs: string[] = mode.withValues ? [...hooks] : [];
  if (mode.inGraph) outputs.push("metric", "logits");
  hooks.forEach((h, i) => {
    g.output(`grad:${h}`, grads[i]);
    outputs.push(`grad:${h}`);
  });
  if (wrtInput) {
    g.output("grad:x", grads[hooks.length]);
    outputs.push("grad:x");
  }
  return { graph: g, outputs };
}
