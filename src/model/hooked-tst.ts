import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import type { LabelMap } from "../data/labels.js";
import type { PreprocessSpec } from "../data/preprocess.js";
import { inputError } from "../errors.js";
import { type Dim, ShapeError } from "../graph/ir.js";
import { toOnnx } from "../graph/onnx.js";
import { type CompiledGraph, type HostTensor, Runtime } from "../runtime/session.js";
import { sourceDigest } from "../source-digest.js";
import { type TSTConfig, tokenCount, validateConfig } from "./config.js";
import {
  type HookName,
  hookShape,
  layerOutputOf,
  nextLayerProjections,
  parseHook,
  parseStartHook,
  startInputHooks,
  startInputShape,
} from "./hooks.js";
import { initParams } from "./init.js";
import { numel, paramShapes } from "./param-names.js";
import { buildTSTGraph, type PatchPoint, type TSTGraphOptions } from "./tst-graph.js";

/** An activation: row-major data and its dims (batch first). */
export interface Activation {
  data: Float32Array;
  dims: number[];
}

/** A replacement for one hook: `value` has the hook's full shape; `mask` (1 = replace) broadcasts to it. */
export interface PatchValue {
  value: Float32Array;
  /** A Uint8Array of the full shape, or data with dims broadcastable to it (e.g. [batch, 1, H, 1] for heads of z). */
  mask: Uint8Array | { data: Uint8Array; dims: readonly number[] };
}

export interface RunOptions {
  /** batch × seqLen, 1 = real step, 0 = padding (from the data layer's `paddingMask`). */
  mask?: Uint8Array | null;
  /** Hooks to return in `cache`. */
  cache?: readonly HookName[];
  /** Hooks to replace (caching a patched hook returns the patched value). */
  patch?: Partial<Record<HookName, PatchValue>>;
  /**
   * Start the run at a residual-stream hook with this value (x is then not needed). A start at a
   * sub-layer output also needs `residual`, the residual stream its layer adds it to: the layer's
   * `hook_resid_pre` for `attn.hook_z` (q/k/v and attention are then not computed) and
   * `hook_attn_out`, its `hook_resid_mid` for `hook_mlp_out` (see `startInputHooks`).
   */
  startAt?: {
    hook: HookName;
    value: Float32Array;
    residual?: Float32Array;
    /**
     * A sub-layer output start at one token per row (see `startStep` in tst-graph.ts): `value` and
     * `residual` hold that token only, `residPost` the layer's whole unpatched `hook_resid_post`,
     * and `token` (one per row) says which token it is. `next`: the next
     * layer's unpatched q, k and v (batch × T × H × dh each), so that it projects only that token
     * (`startStepNext` in tst-graph.ts).
     */
    step?: {
      token: Int32Array;
      residPost: Float32Array;
      next?: { q: Float32Array; k: Float32Array; v: Float32Array };
    };
  };
  /** Rows per runtime call (default: the model's `chunkSize`). */
  chunkSize?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface RunResult {
  /** batch × classes. */
  logits: Float32Array;
  batch: number;
  classes: number;
  cache: Partial<Record<HookName, Activation>>;
}

/** What a model carries besides its weights (saved in config.json of a model directory). */
export interface ModelMeta {
  /** Preprocessing fitted on TRAIN; its normalisation runs inside the graph. null: raw inputs. */
  preprocess?: PreprocessSpec | null;
  /** Class index ↔ label string. null: unknown (indices only). */
  labelMap?: LabelMap | null;
  /** Where the weights came from (free-form, e.g. `{ source: "import-pth", file }`). */
  provenance?: Record<string, unknown>;
}

const DEFAULT_CHUNK = 256;
let sharedRuntime: Runtime | undefined;

/** The process-wide runtime used when a model is not given one. */
export function defaultRuntime(): Runtime {
  sharedRuntime ??= new Runtime();
  return sharedRuntime;
}

// Serialised graphs per (config, graph signature): weights are graph inputs, so one graph (and the
// runtime's session for it, cached by its bytes) serves every model of the same shape. Sessions
// stay with the runtime, so `runtime.release()` never leaves a released session here.
const serialised = new Map<string, { bytes: Uint8Array; outputs: string[] }>();

/**
 * A TST whose every internal activation is a named hook point (see
 * `hooks.ts`); caching and patching are the same mechanism. Weights live in
 * `params` (canonical names, Float32Array each) and are fed to a compiled
 * graph, so changing them in place needs no recompilation.
 *
 * @example
 * const model = HookedTST.fromConfig(makeConfig({ channels: 12, seqLen: 25, classes: 9 }), 0);
 * const { logits, cache } = await model.run(x, { cache: ["blocks.0.attn.hook_z"] });
 * const patched = await model.run(x, {
 *   patch: { "blocks.0.attn.hook_z": { value: other.cache["blocks.0.attn.hook_z"].data, mask: { data: headMask, dims: [batch, 1, 8, 1] } } },
 * });
 */
export class HookedTST {
  readonly config: TSTConfig;
  readonly params: Map<string, Float32Array>;
  preprocess: PreprocessSpec | null;
  labelMap: LabelMap | null;
  provenance: Record<string, unknown>;
  readonly runtime: Runtime;
  /**
   * Rows per runtime call of a run that does not say (default 256): a memory budget lowers it,
   * so every run of a command, including ones made inside the patching layer, stays within it.
   */
  chunkSize = DEFAULT_CHUNK;

  constructor(
    config: TSTConfig,
    params: Map<string, Float32Array>,
    meta: ModelMeta = {},
    runtime: Runtime = defaultRuntime(),
  ) {
    validateConfig(config);
    const problems: string[] = [];
    for (const { name, shape } of paramShapes(config)) {
      const data = params.get(name);
      if (data === undefined) problems.push(`missing ${name} [${shape}]`);
      else if (data.length !== numel(shape)) {
        problems.push(`${name}: ${data.length} values, expected [${shape}] = ${numel(shape)}`);
      }
    }
    const known = new Set(paramShapes(config).map((p) => p.name));
    for (const name of params.keys()) if (!known.has(name)) problems.push(`unexpected ${name}`);
    if (problems.length > 0) {
      throw inputError(`weights do not fit the model config:\n  ${problems.join("\n  ")}`, {
        hint: "the weights and config.json must come from the same model",
      });
    }
    if (meta.preprocess && meta.preprocess.channels !== config.channels) {
      throw inputError(
        `preprocessing is for ${meta.preprocess.channels} channels, the model takes ${config.channels}`,
        { field: "preprocess.channels" },
      );
    }
    this.config = config;
    this.params = params;
    this.preprocess = meta.preprocess ?? null;
    this.labelMap = meta.labelMap ?? null;
    this.provenance = meta.provenance ?? {};
    this.runtime = runtime;
  }

  /**
   * A freshly initialised model (PyTorch default init, see `init.ts`), seeded.
   *
   * @example
   * const model = HookedTST.fromConfig(makeConfig({ channels: 2, seqLen: 8, classes: 10 }), 42);
   */
  static fromConfig(config: TSTConfig, seed: number, meta: ModelMeta = {}, runtime?: Runtime): HookedTST {
    return new HookedTST(config, initParams(config, seed), meta, runtime);
  }

  /**
   * The same parameters (shared, not copied) and metadata on another runtime: other threads or
   * memory options, other sessions. The rows per call stay at the default.
   *
   * @example
   * const single = model.onRuntime(new Runtime({ threads: 1 })); // single.params === model.params
   */
  onRuntime(runtime: Runtime): HookedTST {
    const meta = { preprocess: this.preprocess, labelMap: this.labelMap, provenance: this.provenance };
    return new HookedTST(this.config, this.params, meta, runtime);
  }

  /**
   * The feeds every graph of this model takes: parameters under their
   * canonical names and the normalisation constants `pre.shift` / `pre.scale`.
   */
  weightFeeds(): Record<string, HostTensor> {
    const feeds: Record<string, HostTensor> = {};
    for (const { name, shape } of paramShapes(this.config)) {
      feeds[name] = { data: this.params.get(name) as Float32Array, dims: shape };
    }
    const C = this.config.channels;
    const norm = this.preprocess?.normalize;
    feeds["pre.shift"] = { data: Float32Array.from(norm?.shift ?? new Array(C).fill(0)), dims: [C] };
    feeds["pre.scale"] = { data: Float32Array.from(norm?.scale ?? new Array(C).fill(1)), dims: [C] };
    return feeds;
  }

  /**
   * A compiled session for one graph signature (the graph is built and
   * serialised once per process, compiled once per runtime).
   */
  async compile(options: TSTGraphOptions): Promise<{ session: CompiledGraph; outputs: string[] }> {
    const contribOps = this.runtime.contribOps;
    const key = JSON.stringify([this.config, signature(options), contribOps]);
    const serialise = () => {
      let entry = serialised.get(key);
      if (entry === undefined) {
        const built = buildTSTGraph(this.config, options);
        entry = {
          bytes: toOnnx(built.graph, { outputs: built.outputs, contribOps }),
          outputs: built.outputs,
        };
        serialised.set(key, entry);
      }
      return entry;
    };
    // A warm command finds the graph by what makes it (the code that builds and serialises it
    // included) and loads the optimised file without serialising it (about 20 ms a graph).
    const graphSignature = JSON.stringify([graphCodeDigest(), key]);
    const known = serialised.has(key) ? null : this.runtime.knownGraph(graphSignature);
    if (known !== null) {
      return {
        session: await this.runtime.compileKey(known.graphKey, () => serialise().bytes),
        outputs: known.outputs,
      };
    }
    const entry = serialise();
    this.runtime.recordGraph(graphSignature, entry.bytes, entry.outputs);
    return { session: await this.runtime.compileBytes(entry.bytes), outputs: entry.outputs };
  }

  /**
   * Run the model on raw input (batch × seqLen × channels, row-major, or a
   * `{ x, mask }` batch as `prepareInputs` returns), with optional caching,
   * patching, padding mask and a start point.
   *
   * @example
   * const { logits } = await model.run(prepareInputs(model, testSet));
   */
  async run(
    input: Float32Array | { x: Float32Array; mask?: Uint8Array | null } | null,
    options: RunOptions = {},
  ): Promise<RunResult> {
    const { seqLen: S, channels: C, classes: K } = this.config;
    const x = input === null || input instanceof Float32Array ? input : input.x;
    const givenMask =
      options.mask ?? (input === null || input instanceof Float32Array ? null : (input.mask ?? null));
    const start = options.startAt;
    // The fed start values, in the order of startInputHooks (resid_pre first for a z start).
    const startFeeds: { hook: HookName; value: Float32Array }[] = [];
    // A one-token start's next-layer q, k, v (whole rows, not one token).
    const nextFeeds: { hook: HookName; value: Float32Array }[] = [];
    let batch: number;
    if (start !== undefined) {
      const hook = parseStartHook(this.config, start.hook);
      const inputs = startInputHooks(hook);
      if (inputs.length === 2 && !(start.residual instanceof Float32Array)) {
        throw inputError(`a run starting at "${hook}" also needs startAt.residual`, {
          field: "startAt.residual",
          hint: `pass the ${inputs[0]} activation of the same rows`,
        });
      }
      if (inputs.length === 2) startFeeds.push({ hook: inputs[0], value: start.residual as Float32Array });
      startFeeds.push({ hook, value: start.value });
      const step = start.step;
      if (step !== undefined) {
        const layerOutput = layerOutputOf(hook);
        if (layerOutput === null) {
          throw inputError(`a one-token start needs a sub-layer output start point, not "${hook}"`, {
            field: "startAt.step",
          });
        }
        startFeeds.push({ hook: layerOutput, value: step.residPost });
      }
      const rowShape = (h: HookName) => startInputShape(this.config, h, 1, step !== undefined);
      batch = rowsOf(start.value, rowShape(hook), `start value of ${hook}`);
      const T = tokenCount(this.config);
      if (step !== undefined && (step.token.length !== batch || step.token.some((t) => !(t >= 0 && t < T)))) {
        throw inputError(`startAt.step.token must hold ${batch} token indices (one per row) in 0..${T - 1}`, {
          field: "startAt.step.token",
        });
      }
      if (step?.next !== undefined) {
        // None in the last layer: the graph builder then refuses startStepNext.
        const hooks = nextLayerProjections(this.config, hook);
        for (const [i, h] of hooks.entries()) {
          const name = (["q", "k", "v"] as const)[i];
          const rowsHere = rowsOf(step.next[name], hookShape(this.config, h, 1), `startAt.step.next.${name}`);
          if (rowsHere !== batch) {
            throw inputError(`startAt.step.next.${name} has ${rowsHere} rows, the start value has ${batch}`, {
              field: "startAt.step.next",
            });
          }
          nextFeeds.push({ hook: h, value: step.next[name] });
        }
      }
      for (const f of startFeeds) {
        const rowsHere = rowsOf(f.value, rowShape(f.hook), `start value of ${f.hook}`);
        if (rowsHere !== batch) {
          throw inputError(`start value of ${f.hook} has ${rowsHere} rows, the start value has ${batch}`, {
            field: "startAt.residual",
          });
        }
      }
    } else {
      if (x === null) throw inputError("no input x given", { field: "x" });
      batch = rowsOf(x, [1, S, C], `input x (batch × ${S} steps × ${C} channels)`);
    }
    let mask = givenMask;
    if (mask !== null) {
      if (mask.length !== batch * S) {
        throw inputError(`mask has ${mask.length} values, expected batch ${batch} × ${S} steps`, {
          field: "mask",
        });
      }
      if (mask.every((m) => m !== 0)) mask = null; // every step real: the unmasked graph is the same function
    }
    const cache = [...new Set((options.cache ?? []).map((h) => parseHook(this.config, h).name))];
    const patches = Object.entries(options.patch ?? {}).map(([name, p]) => {
      const hook = parseHook(this.config, name).name;
      return { hook, ...normalisePatch(this.config, hook, p as PatchValue, batch) };
    });
    const graphOptions: TSTGraphOptions = {
      mask: mask !== null,
      cache,
      patch: patches.map((p): PatchPoint => ({ hook: p.hook, maskShape: p.maskShape })),
      startAt: start?.hook,
      startStep: start?.step !== undefined,
      startStepNext: start?.step?.next !== undefined,
    };
    let compiledGraph: { session: CompiledGraph; outputs: string[] };
    try {
      compiledGraph = await this.compile(graphOptions);
    } catch (error) {
      if (error instanceof ShapeError) throw inputError(error.message, { field: "patch" });
      throw error;
    }
    const { session, outputs } = compiledGraph;
    const weights = this.weightFeeds();
    const chunk = Math.max(1, options.chunkSize ?? this.chunkSize);
    // One runtime call (the common case): its output arrays are fresh, and become the result as
    // they are; several: each call's rows are copied into place.
    let logits: Float32Array | undefined;
    const cached = new Map<HookName, Activation>();
    for (let r0 = 0; r0 < batch; r0 += chunk) {
      const r1 = Math.min(batch, r0 + chunk);
      const n = r1 - r0;
      const feeds: Record<string, HostTensor> = { ...weights };
      if (start !== undefined) {
        for (const f of startFeeds) {
          const dims = startInputShape(this.config, f.hook, n, start.step !== undefined);
          feeds[`start:${f.hook}`] = rows(f.value, batch, r0, r1, dims);
        }
        for (const f of nextFeeds) {
          feeds[`start:${f.hook}`] = rows(f.value, batch, r0, r1, hookShape(this.config, f.hook, n));
        }
        if (start.step !== undefined) {
          feeds["start:step"] = {
            data: BigInt64Array.from(start.step.token.subarray(r0, r1), (t) => BigInt(t)),
            dims: [n],
            dtype: "int64",
          };
        }
      } else {
        feeds.x = rows(x as Float32Array, batch, r0, r1, [n, S, C]);
      }
      if (mask !== null) feeds.mask = { ...rows(mask, batch, r0, r1, [n, S]), dtype: "bool" };
      for (const p of patches) {
        feeds[`patch:${p.hook}:value`] = rows(p.value, batch, r0, r1, hookShape(this.config, p.hook, n));
        const maskDims = p.maskShape.map((d) => (d === "batch" ? n : d)) as number[];
        const maskData = p.maskShape[0] === "batch" ? rows(p.mask, batch, r0, r1, maskDims).data : p.mask;
        feeds[`patch:${p.hook}:mask`] = { data: maskData, dims: maskDims, dtype: "bool" };
      }
      const result = await session.run(feeds, outputs);
      if (n === batch) {
        logits = result.logits.data as Float32Array;
        for (const h of cache) {
          cached.set(h, {
            data: result[h].data as Float32Array,
            dims: hookShape(this.config, h, batch) as number[],
          });
        }
      } else {
        logits ??= new Float32Array(batch * K);
        logits.set(result.logits.data as Float32Array, r0 * K);
        for (const h of cache) {
          let act = cached.get(h);
          if (act === undefined) {
            const dims = hookShape(this.config, h, batch) as number[];
            act = { data: new Float32Array(numel(dims)), dims };
            cached.set(h, act);
          }
          act.data.set(result[h].data as Float32Array, (r0 * act.data.length) / batch);
        }
      }
      options.onProgress?.(r1, batch);
    }
    return { logits: logits as Float32Array, batch, classes: K, cache: Object.fromEntries(cached) };
  }
}

/** The code that builds and serialises a TST graph: the model, graph, op and layer modules. */
function graphCodeDigest(): string {
  const ext = extname(fileURLToPath(import.meta.url));
  return ["./", "../graph/", "../graph/ops/", "../graph/nn/"]
    .map((dir) => sourceDigest(new URL(`${dir}module${ext}`, import.meta.url).href))
    .join(",");
}

/** Everything that changes the graph (not the data): the memo key of a compiled session. */
function signature(options: TSTGraphOptions): unknown {
  return {
    mask: options.mask ?? false,
    cache: [...(options.cache ?? [])].sort(),
    patch: (options.patch ?? [])
      .map((p) => (typeof p === "string" ? { hook: p } : p))
      .sort((a, b) => (a.hook < b.hook ? -1 : a.hook > b.hook ? 1 : 0)),
    startAt: options.startAt ?? null,
    startStep: options.startStep ?? false,
    startStepNext: options.startStepNext ?? false,
    mode: options.mode ?? "eval",
    dropout: options.dropout ?? null,
    gradients: options.gradients ?? null,
    batchNormStats: options.batchNormStats ?? "batch",
  };
}

function rowsOf(data: Float32Array, rowShape: readonly Dim[], what: string): number {
  const per = numel(rowShape as number[]);
  if (data.length === 0 || data.length % per !== 0) {
    throw inputError(`${what}: ${data.length} values is not a whole number of rows of ${per}`, {
      field: "x",
      hint: "the input must be batch × seqLen × channels values, padded or resampled to the model's length",
    });
  }
  return data.length / per;
}

function rows<T extends Float32Array | Uint8Array>(
  data: T,
  batch: number,
  r0: number,
  r1: number,
  dims: readonly Dim[],
): { data: T; dims: number[] } {
  const per = data.length / batch;
  const view = r0 === 0 && r1 === batch ? data : (data.subarray(r0 * per, r1 * per) as T);
  return { data: view, dims: dims as number[] };
}

function normalisePatch(
  config: TSTConfig,
  hook: HookName,
  patch: PatchValue,
  batch: number,
): { value: Float32Array; mask: Uint8Array; maskShape: Dim[] } {
  const full = hookShape(config, hook, batch) as number[];
  if (!(patch?.value instanceof Float32Array) || patch.value.length !== numel(full)) {
    throw inputError(
      `patch value for ${hook} must be a Float32Array of ${numel(full)} values (shape [${full}]), got ${patch?.value?.length ?? "none"}`,
      { field: `patch.${hook}.value` },
    );
  }
  const m = patch.mask;
  const data = m instanceof Uint8Array ? m : m?.data;
  const dims = m instanceof Uint8Array ? full : [...(m?.dims ?? [])];
  const fits =
    data instanceof Uint8Array &&
    dims.length === full.length &&
    dims.every((d, i) => d === full[i] || d === 1) &&
    data.length === numel(dims);
  if (!fits) {
    throw inputError(
      `patch mask for ${hook} must have dims broadcastable to [${full}] (each equal or 1) and matching data; got dims [${dims}] with ${data?.length ?? "no"} values`,
      { field: `patch.${hook}.mask` },
    );
  }
  // The batch axis stays symbolic (so chunks share a session) unless the mask broadcasts over rows.
  const maskShape: Dim[] = dims.map((d, i) => (i === 0 && d === batch && d !== 1 ? "batch" : d));
  if (maskShape[0] === 1 && batch === 1) maskShape[0] = "batch";
  return { value: patch.value, mask: data as Uint8Array, maskShape };
}
