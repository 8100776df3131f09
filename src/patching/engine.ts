import { InterruptedError } from "../errors.js";
import { type TSTConfig, tokenCount } from "../model/config.js";
import type { HookedTST, PatchValue } from "../model/hooked-tst.js";
import {
  type HookName,
  hookOrder,
  hookShape,
  layerOutputOf,
  nextLayerProjections,
  parseHook,
  startInputHooks,
} from "../model/hooks.js";
import { type PatchSite, siteMask } from "./setters.js";

/**
 * The one generic patch engine. Every patch kind reduces to "run the target
 * with these hook entries replaced by these values" ({@link PatchedRun});
 * the engine batches many such runs into few runtime calls:
 *
 * 1. Cache: one run per distinct input row fetches every hook any patched run
 *    needs, as the source of patch values and as start points ({@link cacheRows}).
 * 2. Group: runs with the same start point and the same patched hooks (with the
 *    same mask shapes) share one compiled graph; each group is cut into batches of
 *    `batchRows` patched runs, rows of many pairs and components mixed.
 * 3. Prefix reuse: a run whose earliest patched hook is in layer l starts from the
 *    target's cached `blocks.l.hook_resid_pre`; layers before l are not recomputed
 *    (they would give the target's own values again). When that earliest hook is
 *    `blocks.l.attn.hook_z` (head patching in z mode) the run starts there, fed the
 *    target's cached resid_pre and z of layer l, so layer l's q/k/v and attention are
 *    not recomputed either. A patch of a start input (the z there) is applied to the fed
 *    value on the host, so the graph has no masked select at the start point.
 * 4. Steps: a patch may carry a step mask (`steps`, from overlap alignment, align.ts): only those
 *    time steps are written. On the host path the patch's spans are cut to those steps; in the graph
 *    the patch's mask gets a full time axis (a separate group and graph). A patch without `steps`
 *    (equal lengths, the common case) takes exactly the unrestricted path.
 */

/** Model inputs in the model's layout: rows × seqLen × channels, and a 1 = real step mask (or null). */
export interface InputTable {
  readonly x: Float32Array;
  readonly mask: Uint8Array | null;
  readonly rows: number;
}

/**
 * One patched run: the target row, and what replaces which hook entries. `steps` (seqLen values,
 * 1 = write) restricts a patch to those time steps; absent = the site's steps as selected.
 */
export interface PatchedRun {
  readonly target: number;
  readonly patches: readonly {
    readonly site: PatchSite;
    readonly value: Float32Array;
    readonly steps?: Uint8Array;
  }[];
}

export interface EngineOptions {
  /** Patched runs per runtime call (default 256; a cache run: the model's `chunkSize`, which a memory budget sets). */
  batchRows?: number;
  signal?: AbortSignal;
}

/** Activations of the cached rows (one unpatched run per row). */
export class CachedRows {
  private readonly index = new Map<number, number>();
  constructor(
    readonly rows: readonly number[],
    readonly logits: Float32Array,
    readonly classes: number,
    private readonly acts: ReadonlyMap<HookName, { data: Float32Array; per: number }>,
  ) {
    rows.forEach((r, i) => {
      this.index.set(r, i);
    });
  }

  has(row: number): boolean {
    return this.index.has(row);
  }

  /** Whether `hook` was cached. */
  holds(hook: HookName): boolean {
    return this.acts.has(hook);
  }

  /** Logits of `row` (a view). */
  logitsOf(row: number): Float32Array {
    const i = this.position(row);
    return this.logits.subarray(i * this.classes, (i + 1) * this.classes);
  }

  /** The activation of `row` at `hook` (a view, the hook's shape without the batch axis). */
  act(row: number, hook: HookName): Float32Array {
    const entry = this.acts.get(hook);
    if (entry === undefined) throw new Error(`patching engine: hook ${hook} was not cached`);
    const i = this.position(row);
    return entry.data.subarray(i * entry.per, (i + 1) * entry.per);
  }

  private position(row: number): number {
    const i = this.index.get(row);
    if (i === undefined) throw new Error(`patching engine: row ${row} was not cached`);
    return i;
  }
}

/**
 * One unpatched run of each row, caching `hooks`.
 *
 * @example
 * const cache = await cacheRows(model, table, [58, 31], ["blocks.0.attn.hook_z"]);
 * cache.act(58, "blocks.0.attn.hook_z"); // 25 × 8 × 16 values
 */
export async function cacheRows(
  model: HookedTST,
  table: InputTable,
  rows: readonly number[],
  hooks: readonly HookName[],
  options: EngineOptions = {},
): Promise<CachedRows> {
  const unique = [...new Set(rows)];
  const { seqLen: S, channels: C } = model.config;
  const x = new Float32Array(unique.length * S * C);
  const mask = table.mask === null ? null : new Uint8Array(unique.length * S);
  unique.forEach((r, i) => {
    x.set(table.x.subarray(r * S * C, (r + 1) * S * C), i * S * C);
    if (mask !== null) mask.set((table.mask as Uint8Array).subarray(r * S, (r + 1) * S), i * S);
  });
  checkAbort(options.signal);
  const hookList = [...new Set(hooks)];
  const result = await model.run(x, {
    mask,
    cache: hookList,
    chunkSize: options.batchRows ?? model.chunkSize,
  });
  const acts = new Map<HookName, { data: Float32Array; per: number }>();
  for (const h of hookList) {
    const act = result.cache[h];
    if (act === undefined) throw new Error(`patching engine: the model did not return hook ${h}`);
    acts.set(h, { data: act.data, per: act.data.length / unique.length });
  }
  return new CachedRows(unique, result.logits, result.classes, acts);
}

/**
 * The point a run starts from: the earliest patched hook when it is a sub-layer output of its
 * layer l (`attn.hook_z`, `hook_attn_out`, `hook_mlp_out`: the layer's work before it is the
 * target's own), else `blocks.l.hook_resid_pre`. The target's values of every hook in
 * `startInputHooks(start)` must be cached.
 */
export function startHookOf(model: HookedTST, run: PatchedRun): HookName {
  return startHookForSites(
    model,
    run.patches.map((p) => p.site),
  );
}

/** {@link startHookOf} for a list of sites. */
export function startHookForSites(model: HookedTST, sites: readonly PatchSite[]): HookName {
  let first: { hook: HookName; layer: number; order: number } | null = null;
  for (const site of sites) {
    const { layer, name } = parseHook(model.config, site.hook);
    if (layer === null) throw new Error(`patching engine: hook ${site.hook} is outside the blocks`);
    const order = hookOrder(model.config, name);
    if (first === null || order < first.order) first = { hook: name, layer, order };
  }
  if (first === null) throw new Error("patching engine: a patched run must patch something");
  return layerOutputOf(first.hook) !== null ? first.hook : `blocks.${first.layer}.hook_resid_pre`;
}

/**
 * Run many patched runs, batched; returns the logits of each run (K values each), in order.
 * `cache` must hold every target's start values (`startInputHooks` of {@link startHookOf}).
 *
 * @example
 * const logits = await runPatched(model, table, cache, runs, { batchRows: 512 });
 */
export async function runPatched(
  model: HookedTST,
  table: InputTable,
  cache: CachedRows,
  runs: readonly PatchedRun[],
  options: EngineOptions = {},
): Promise<Float32Array[]> {
  return (await runPatchedWithCache(model, table, cache, runs, [], options)).logits;
}

/**
 * {@link runPatched}, also fetching hooks of every patched run (`acts.get(hook)[i]`
 * is run i's activation, the hook's shape without the batch axis).
 */
export async function runPatchedWithCache(
  model: HookedTST,
  table: InputTable,
  cache: CachedRows,
  runs: readonly PatchedRun[],
  fetch: readonly HookName[],
  options: EngineOptions = {},
): Promise<{ logits: Float32Array[]; acts: Map<HookName, Float32Array[]> }> {
  const K = model.config.classes;
  const S = model.config.seqLen;
  const batchRows = Math.max(1, options.batchRows ?? 256);
  const out: Float32Array[] = new Array(runs.length);
  const acts = new Map<HookName, Float32Array[]>(fetch.map((h) => [h, new Array<Float32Array>(runs.length)]));
  const groups = new Map<
    string,
    { start: HookName; members: number[]; masks: Map<HookName, number[]>; oneToken: boolean }
  >();
  // The token each one-token run recomputes (see oneTokenOf), by run index.
  const tokenOfRun = new Int32Array(runs.length).fill(-1);
  const maskCache = new Map<string, { dims: number[]; data: Uint8Array }>();
  const spanCache = new Map<string, Int32Array>();
  const siteSpans = spanCacheOf(model.config);
  type Patch = PatchedRun["patches"][number];
  // A chunk's runs share their components' site objects: each site's key is built once.
  const siteKeys = new WeakMap<PatchSite, string>();
  const keyOf = (p: Patch) => {
    let key = siteKeys.get(p.site);
    if (key === undefined) {
      key = `${p.site.hook}|${JSON.stringify(p.site.select)}`;
      siteKeys.set(p.site, key);
    }
    return p.steps === undefined ? key : `${key}|${p.steps.join("")}`;
  };
  const maskOf = (p: Patch) => {
    const key = keyOf(p);
    let m = maskCache.get(key);
    if (m === undefined) {
      m = siteMask(model.config, p.site);
      if (p.steps !== undefined) m = restrictToSteps(model, p.site.hook, m, p.steps);
      maskCache.set(key, m);
    }
    return m;
  };
  const spansOf = (p: Patch) => {
    const key = keyOf(p);
    // Step-restricted spans vary with every pair of unequal lengths: kept for this call only.
    const cache = p.steps === undefined ? siteSpans : spanCache;
    let spans = cache.get(key);
    if (spans === undefined) {
      const shape = (hookShape(model.config, p.site.hook, 1) as number[]).slice(1);
      spans = maskSpans(shape, maskOf(p));
      cache.set(key, spans);
    }
    return spans;
  };
  // A run starts where startHookOf says when the cache holds that start's inputs and nothing
  // fetched comes before it; else at its layer's resid_pre (a cache built for other components).
  const startFor = (run: PatchedRun): HookName => {
    const start = startHookOf(model, run);
    const { layer } = parseHook(model.config, start);
    const fits =
      startInputHooks(start).every((h) => cache.holds(h)) &&
      fetch.every((h) => hookOrder(model.config, h) >= hookOrder(model.config, start));
    return fits || layer === null ? start : `blocks.${layer}.hook_resid_pre`;
  };
  runs.forEach((run, i) => {
    const start = startFor(run);
    const hooks = run.patches.map((p) => `${p.site.hook}:${maskOf(p).dims.join("x")}`);
    if (new Set(run.patches.map((p) => p.site.hook)).size !== run.patches.length) {
      throw new Error("patching engine: a run patches the same hook twice; merge the sites");
    }
    const token = fetch.length === 0 ? oneTokenOf(model, cache, start, run, spansOf) : -1;
    tokenOfRun[i] = token;
    const key = `${start}|${token >= 0 ? "one token|" : ""}${hooks.sort().join("|")}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = {
        start,
        members: [],
        masks: new Map(run.patches.map((p) => [p.site.hook, maskOf(p).dims])),
        oneToken: token >= 0,
      };
      groups.set(key, group);
    }
    group.members.push(i);
  });

  const pool = acquireStartBuffers();
  try {
    for (const group of groups.values()) {
      if (group.oneToken) {
        await runOneTokenGroup(model, table, cache, runs, group, tokenOfRun, spansOf, out, pool, {
          batchRows,
          signal: options.signal,
        });
        continue;
      }
      const startInputs = startInputHooks(group.start).map((hook) => ({
        hook,
        per: (hookShape(model.config, hook, 1) as number[]).reduce((a, b) => a * b, 1),
      }));
      // A patch of a start input is applied to the fed start value here, on the host: the graph then
      // has no masked select there (ONNX Runtime's broadcasting Where over a z start cost over a quarter
      // of a patched run from the last layer's z on LSST); the selected values are the same.
      const startIndex = new Map(startInputs.map((s, k) => [s.hook, k]));
      for (let b0 = 0; b0 < group.members.length; b0 += batchRows) {
        checkAbort(options.signal);
        const members = group.members.slice(b0, b0 + batchRows);
        const n = members.length;
        const startValues = startInputs.map((s, k) => startBuffer(pool, k, n * s.per));
        const mask = table.mask === null ? null : new Uint8Array(n * S);
        const patch: Partial<Record<HookName, PatchValue>> = {};
        const buffers = new Map<
          HookName,
          { value: Float32Array; mask: Uint8Array; per: number; maskPer: number }
        >();
        for (const [hook, dims] of group.masks) {
          if (startIndex.has(hook)) continue;
          const per = (hookShape(model.config, hook, 1) as number[]).reduce((a, c) => a * c, 1);
          const maskPer = dims.reduce((a, c) => a * c, 1);
          const buf = { value: new Float32Array(n * per), mask: new Uint8Array(n * maskPer), per, maskPer };
          buffers.set(hook, buf);
          patch[hook] = { value: buf.value, mask: { data: buf.mask, dims: [n, ...dims] } };
        }
        members.forEach((runIndex, row) => {
          const run = runs[runIndex];
          startInputs.forEach((s, k) => {
            startValues[k].set(cache.act(run.target, s.hook), row * s.per);
          });
          if (mask !== null)
            mask.set((table.mask as Uint8Array).subarray(run.target * S, (run.target + 1) * S), row * S);
          for (const p of run.patches) {
            const { site, value } = p;
            const k = startIndex.get(site.hook);
            if (k !== undefined) {
              const target = startValues[k];
              const offset = row * startInputs[k].per;
              writeSpans(target, offset, value, spansOf(p));
              continue;
            }
            const buf = buffers.get(site.hook)!;
            buf.value.set(value, row * buf.per);
            buf.mask.set(maskOf(p).data, row * buf.maskPer);
          }
        });
        const result = await model.run(null, {
          startAt: {
            hook: group.start,
            value: startValues[startValues.length - 1],
            residual: startValues.length === 2 ? startValues[0] : undefined,
          },
          mask,
          patch,
          cache: fetch,
          chunkSize: n,
        });
        members.forEach((runIndex, row) => {
          out[runIndex] = result.logits.slice(row * K, (row + 1) * K);
          for (const [hook, list] of acts) {
            const data = result.cache[hook]!.data;
            const per = data.length / n;
            list[runIndex] = data.slice(row * per, (row + 1) * per);
          }
        });
      }
    }
  } finally {
    releaseStartBuffers(pool);
  }
  return { logits: out, acts };
}

/**
 * A site mask cut to the time steps `steps` (1 = keep): the time axis (the first axis of every
 * patchable hook but the attention pattern) is made whole so that the mask can differ per step.
 */
function restrictToSteps(
  model: HookedTST,
  hook: HookName,
  mask: { dims: number[]; data: Uint8Array },
  steps: Uint8Array,
): { dims: number[]; data: Uint8Array } {
  const S = tokenCount(model.config);
  if (hook.endsWith("hook_pattern") || steps.length !== S) {
    throw new Error(`patching engine: a step mask needs a hook with a time axis first and ${S} steps`);
  }
  const per = mask.dims.slice(1).reduce((a, b) => a * b, 1);
  const data = new Uint8Array(S * per);
  for (let t = 0; t < S; t++) {
    if (steps[t] === 0) continue;
    const from = mask.dims[0] === 1 ? 0 : t * per;
    data.set(mask.data.subarray(from, from + per), t * per);
  }
  return { dims: [S, ...mask.dims.slice(1)], data };
}

// Spans of a site (hook, selection) depend only on the model's shape: kept from call to call,
// so the checks before a sweep and the sweep's chunks compute each once (a 1-pair head sweep's
// calls computed 61, in cold code that cost as much as its runtime calls).
const spanCaches = new WeakMap<TSTConfig, Map<string, Int32Array>>();

function spanCacheOf(config: TSTConfig): Map<string, Int32Array> {
  let cache = spanCaches.get(config);
  if (cache === undefined) {
    cache = new Map();
    spanCaches.set(config, cache);
  }
  return cache;
}

/**
 * The entries a broadcasting site mask selects in one row of a hook of `shape`, as
 * contiguous spans: offset, length, offset, length, ... (row-major).
 */
function maskSpans(
  shape: readonly number[],
  mask: { dims: readonly number[]; data: Uint8Array },
): Int32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const maskStrides = mask.dims.map((_, i) => mask.dims.slice(i + 1).reduce((a, b) => a * b, 1));
  // Trailing axes the mask broadcasts over are one decision each: a z head mask decides per
  // (step, head) for d_head values at once, a whole-stream mask once for the row.
  let lead = shape.length;
  let block = 1;
  while (lead > 0 && mask.dims[lead - 1] === 1) block *= shape[--lead];
  const spans: number[] = [];
  const index = new Array<number>(lead).fill(0);
  let m = 0;
  for (let flat = 0; flat < size; flat += block) {
    if (mask.data[m] !== 0) {
      const last = spans.length - 2;
      if (last >= 0 && spans[last] + spans[last + 1] === flat) spans[last + 1] += block;
      else spans.push(flat, block);
    }
    for (let a = lead - 1; a >= 0; a--) {
      const step = mask.dims[a] === 1 ? 0 : maskStrides[a];
      m += step;
      if (++index[a] < shape[a]) break;
      m -= step * shape[a];
      index[a] = 0;
    }
  }
  return Int32Array.from(spans);
}

export function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new InterruptedError("patching interrupted; finished pairs are kept in the checkpoint");
}

// Feed buffers of start values are reused from call to call: they are overwritten row by row
// before each runtime call, and fresh ones of tens of MB per sweep cost more in page faults than
// the copies into them (LSST 24-head sweep: 22.4x instead of 16x the study's loop, median). A call
// that runs while another holds the pool (concurrent sweeps) allocates its own.
const startBuffers: Float32Array[] = [];
let startBuffersInUse = false;

/**
 * The token a run can be recomputed at alone (a one-token start, `startStep` in tst-graph.ts), or
 * -1. It must patch only the sub-layer output it starts from (z, attn_out, mlp_out), within one
 * token, and the cache must hold the layer's unpatched output. Attention is the only place tokens
 * mix and it comes before those, so the rest of the layer changes that token alone: head, layer
 * and MLP × time-step patches then recompute 1 of T tokens in their own layer.
 */
function oneTokenOf(
  model: HookedTST,
  cache: CachedRows,
  start: HookName,
  run: PatchedRun,
  spansOf: (p: PatchedRun["patches"][number]) => Int32Array,
): number {
  const layerOutput = layerOutputOf(start);
  if (run.patches.length !== 1 || run.patches[0].site.hook !== start || layerOutput === null) return -1;
  if (!cache.holds(layerOutput)) return -1;
  const { dModel } = model.config;
  const spans = spansOf(run.patches[0]);
  if (spans.length === 0) return -1;
  const token = Math.floor(spans[0] / dModel);
  for (let i = 0; i < spans.length; i += 2) {
    if (
      Math.floor(spans[i] / dModel) !== token ||
      Math.floor((spans[i] + spans[i + 1] - 1) / dModel) !== token
    ) {
      return -1;
    }
  }
  return token;
}

/** The runs of one one-token group (see {@link oneTokenOf}), batched as the other groups are. */
async function runOneTokenGroup(
  model: HookedTST,
  table: InputTable,
  cache: CachedRows,
  runs: readonly PatchedRun[],
  group: { start: HookName; members: number[] },
  tokenOfRun: Int32Array,
  spansOf: (p: PatchedRun["patches"][number]) => Int32Array,
  out: Float32Array[],
  pool: Float32Array[] | null,
  options: { batchRows: number; signal?: AbortSignal },
): Promise<void> {
  const { seqLen: S, classes: K, dModel: D } = model.config;
  const T = tokenCount(model.config);
  const [residualHook, outputHook] = startInputHooks(group.start);
  const residPostHook = layerOutputOf(group.start) as HookName;
  // The next layer's unpatched q, k, v, when cached: it then projects the one token alone.
  const nextHooks = nextLayerProjections(model.config, group.start);
  const reuseNext = nextHooks.length > 0 && nextHooks.every((h) => cache.holds(h));
  for (let b0 = 0; b0 < group.members.length; b0 += options.batchRows) {
    checkAbort(options.signal);
    const members = group.members.slice(b0, b0 + options.batchRows);
    const n = members.length;
    const residual = startBuffer(pool, 0, n * D);
    const output = startBuffer(pool, 1, n * D);
    const residPost = startBuffer(pool, 2, n * T * D);
    const next = reuseNext ? nextHooks.map((_, i) => startBuffer(pool, 3 + i, n * T * D)) : null;
    const token = new Int32Array(n);
    const mask = table.mask === null ? null : new Uint8Array(n * S);
    members.forEach((runIndex, row) => {
      const run = runs[runIndex];
      const t = tokenOfRun[runIndex];
      residual.set(cache.act(run.target, residualHook).subarray(t * D, (t + 1) * D), row * D);
      output.set(cache.act(run.target, outputHook).subarray(t * D, (t + 1) * D), row * D);
      residPost.set(cache.act(run.target, residPostHook), row * T * D);
      if (next !== null) {
        for (let i = 0; i < nextHooks.length; i++)
          next[i].set(cache.act(run.target, nextHooks[i]), row * T * D);
      }
      token[row] = t;
      if (mask !== null)
        mask.set((table.mask as Uint8Array).subarray(run.target * S, (run.target + 1) * S), row * S);
      // The patch's spans lie in token t: shifted to that token's row of the output.
      writeSpans(output, row * D - t * D, run.patches[0].value, spansOf(run.patches[0]));
    });
    const result = await model.run(null, {
      startAt: {
        hook: group.start,
        value: output,
        residual,
        step: { token, residPost, next: next === null ? undefined : { q: next[0], k: next[1], v: next[2] } },
      },
      mask,
      chunkSize: n,
    });
    members.forEach((runIndex, row) => {
      out[runIndex] = result.logits.slice(row * K, (row + 1) * K);
    });
  }
}

/** Write `value` at its spans (offset, length pairs) into `target`, shifted by `offset`. */
function writeSpans(target: Float32Array, offset: number, value: Float32Array, spans: Int32Array): void {
  for (let i = 0; i < spans.length; i += 2) {
    const o = spans[i];
    const length = spans[i + 1];
    // A head's slice of z is one short span per time step (d_head values): a plain loop there, as a
    // subarray view per span cost more than the copy.
    if (length > 64) target.set(value.subarray(o, o + length), offset + o);
    else for (let j = o; j < o + length; j++) target[offset + j] = value[j];
  }
}

function acquireStartBuffers(): Float32Array[] | null {
  if (startBuffersInUse) return null;
  startBuffersInUse = true;
  return startBuffers;
}

function releaseStartBuffers(pool: Float32Array[] | null): void {
  if (pool !== null) startBuffersInUse = false;
}

function startBuffer(pool: Float32Array[] | null, slot: number, length: number): Float32Array {
  if (pool === null) return new Float32Array(length);
  const existing = pool[slot];
  if (existing !== undefined && existing.length >= length) return existing.subarray(0, length);
  const fresh = new Float32Array(length);
  pool[slot] = fresh;
  return fresh;
}
