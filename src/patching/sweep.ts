import type { HookedTST } from "../model/hooked-tst.js";
import { type HookName, layerOutputOf, nextLayerProjections, startInputHooks } from "../model/hooks.js";
import { alignInputs, alignPair, checkAlignment, type PairAlignment } from "./align.js";
import { type FinishedPair, type FinishedRow, type Grouping, SweepCheckpoint } from "./checkpoint.js";
import {
  type CachedRows,
  cacheRows,
  checkAbort,
  type EngineOptions,
  type InputTable,
  type PatchedRun,
  runPatched,
  startHookForSites,
} from "./engine.js";
import { type EffectMetrics, effectMetrics, RECOVERY_EPSILON, type RecoveryBasis, score } from "./metrics.js";
import { type PathOptions, pathCacheHooks, pathRuns } from "./path.js";
import { componentSites } from "./setters.js";
import type { Alignment, Component, Pair, RowStatus } from "./types.js";

/**
 * A sweep: every component of a list, patched for every pair, batched (see
 * engine.ts). Pairs are processed in chunks of `pairsPerBatch`: one cached run
 * per distinct input of the chunk, then all patched runs of the chunk (pairs ×
 * components) in as few runtime calls as the start points allow. After each
 * chunk the finished pairs go to the checkpoint file (if any), so an
 * interrupted sweep resumes where it stopped.
 *
 * Inputs of different lengths are aligned as `align` says (align.ts): with `overlap` a patch
 * writes only steps real in both inputs, a position patch at a step that is padding in either is
 * `not_applicable` (no metrics), and a pair sharing no real step gets the target's own run
 * (`no_overlap`, effect 0).
 */

export interface SweepOptions {
  readonly components: readonly Component[];
  /** What recovery is normalised on (default p_true; use logit_diff for cross-class pairs). */
  recoveryBasis?: RecoveryBasis;
  /** Denominator threshold for recovery (default 1e-6). */
  epsilon?: number;
  /** Pairs per chunk (default 16). */
  pairsPerBatch?: number;
  /** Patched runs per runtime call (default 256). */
  batchRows?: number;
  /** How inputs of different lengths line up (default overlap; see align.ts). */
  align?: Alignment;
  /** Path patching: freeze MLPs after the sender (default true, see path.ts). */
  freezeMlps?: boolean;
  /** Called after each chunk with (pairs done, pairs total). */
  onProgress?: (done: number, total: number, detail?: string) => void;
  /** Abort between runtime calls; throws InterruptedError (finished chunks stay in the checkpoint). */
  signal?: AbortSignal;
  /** Checkpoint file of finished pairs (JSON lines); resumed from when it exists and matches. */
  checkpoint?: string;
  /** Extra text that must match for a checkpoint to be resumed (e.g. model and data file names). */
  fingerprint?: string;
  /**
   * Hooks the chunk cache fetches besides the components' own: a sweep on a few components (a
   * check before the main sweep) then runs the main sweep's cache graph instead of compiling one
   * of its own (each graph is an ONNX Runtime session, a large part of a small command's time).
   */
  cacheHooks?: readonly HookName[];
}

/** What every effect row records besides its metrics. */
interface EffectRowBase {
  readonly pair: Pair;
  readonly component: Component;
  readonly align: Alignment;
  /** Real steps of the source (before any resampling) and of the target. */
  readonly sourceSteps: number;
  readonly targetSteps: number;
  /** Share of the target's real steps that are real in the (aligned) source: what a whole-sequence patch writes. */
  readonly overlap: number;
  readonly status: RowStatus;
}

/** One patched run's effect; a `not_applicable` row has no metrics (null) and never enters statistics. */
export type EffectRow =
  | (EffectRowBase & EffectMetrics & { readonly status: "ok" | "no_overlap" })
  | (EffectRowBase & { readonly status: "not_applicable" } & typeof NO_METRICS);

/** The metrics of a `not_applicable` row: none. */
export const NO_METRICS = {
  dpTrue: null,
  recovery: null,
  logitDiff: null,
  dLogitDiff: null,
  klSource: null,
} as const satisfies { readonly [K in keyof EffectMetrics]: null };

/**
 * A row's effect in one metric, for callers that only sweep whole components (heads, layers,
 * MLPs): those rows always have metrics; only a position row at a padding step has none, and
 * reaching one here is a bug of the caller.
 *
 * @example
 * const effects = Float64Array.from(result.rows, (r) => rowEffect(r, "dLogitDiff"));
 */
export function rowEffect(row: EffectRow, metric: keyof EffectMetrics): number {
  const value = row[metric];
  if (value === null)
    throw new Error(`rowEffect: a ${row.status} row (a ${row.component.kind}) has no ${metric}`);
  return value;
}

/** Unpatched probabilities of a pair's two inputs (the source as aligned: resampled under `resample`). */
export interface PairBaseline {
  readonly pair: Pair;
  readonly sourceLogits: Float64Array;
  readonly targetLogits: Float64Array;
}

/**
 * Each pair's unpatched source and target logits, one run per distinct input: what a sweep's
 * baselines hold for inputs as they are (no resampled source), without a sweep's patched runs
 * and its per-chunk cache runs of every pair's two inputs. For checks that need only these (the
 * study's saturation check: a one-component sweep of 9,112 LSST pair-directions took 10 s).
 *
 * @example
 * const baselines = await pairBaselines(model, inputs, pairs, { batchRows: 256 });
 */
export async function pairBaselines(
  model: HookedTST,
  table: InputTable,
  pairs: readonly Pair[],
  options: EngineOptions = {},
): Promise<PairBaseline[]> {
  const rows = [...new Set(pairs.flatMap((p) => [p.source, p.target]))];
  const cache = await cacheRows(model, table, rows, [], options);
  return pairs.map((pair) => ({
    pair,
    sourceLogits: Float64Array.from(cache.logitsOf(pair.source)),
    targetLogits: Float64Array.from(cache.logitsOf(pair.target)),
  }));
}

/** One row's outcome in a chunk: logits of the patched run (the target's own when nothing was patched). */
export interface ChunkRuns {
  /** pairs × components, pair-major. */
  readonly logits: Float32Array[];
  readonly status: RowStatus[];
  /** One per pair. */
  readonly alignments: PairAlignment[];
}

export interface SweepResult {
  readonly rows: readonly EffectRow[];
  readonly baselines: readonly PairBaseline[];
  readonly recoveryBasis: RecoveryBasis;
  readonly align: Alignment;
  /** Applicable rows whose recovery cell is empty: undefined (denominator below epsilon) or not finite. */
  readonly undefinedRecovery: number;
  /** Applicable rows with a non-finite metric (their cells are empty in the CSV): non-finite logits. */
  readonly nonFiniteRows: number;
  /** Rows by status (not_applicable rows have no metrics; no_overlap rows have effect 0). */
  readonly statusCounts: Readonly<Record<RowStatus, number>>;
  /** Pairs taken from the checkpoint instead of computed. */
  readonly resumedPairs: number;
  /** The grouping used (a resumed sweep's is the checkpoint's). */
  readonly grouping: Grouping;
}

/**
 * Patch every component for every pair.
 *
 * @example
 * const result = await sweep(model, inputs, pairs, { components: presetComponents(model.config, "heads") });
 * result.rows[0].dpTrue;
 */
export async function sweep(
  model: HookedTST,
  table: InputTable,
  pairs: readonly Pair[],
  options: SweepOptions,
): Promise<SweepResult> {
  return assembleSweep(pairs, options.components, await sweepFinished(model, table, pairs, options));
}

/** A sweep's finished pairs (computed or read from its checkpoint), before rows are made of them. */
export interface FinishedSweep {
  /** By {@link pairKey}. */
  readonly finished: ReadonlyMap<string, FinishedPair>;
  readonly recoveryBasis: RecoveryBasis;
  readonly align: Alignment;
  readonly resumedPairs: number;
  readonly grouping: Grouping;
}

/**
 * {@link sweep}'s computation: every pair's logits and rows, without the rows assembled (a sweep
 * run in parts, see side-by-side.ts, assembles the parts once).
 *
 * @example
 * const part = await sweepFinished(model, inputs, pairs.slice(0, 32), options);
 */
export async function sweepFinished(
  model: HookedTST,
  table: InputTable,
  pairs: readonly Pair[],
  options: SweepOptions,
): Promise<FinishedSweep> {
  const align = checkAlignment(options.align ?? "overlap");
  const basis = options.recoveryBasis ?? "p_true";
  const epsilon = options.epsilon ?? RECOVERY_EPSILON;
  const requested = {
    pairsPerBatch: Math.max(1, options.pairsPerBatch ?? 16),
    batchRows: Math.max(1, options.batchRows ?? 256),
  };
  const components = options.components;
  const checkpoint =
    options.checkpoint === undefined
      ? null
      : SweepCheckpoint.open(options.checkpoint, {
          fingerprint: options.fingerprint ?? "",
          components,
          pairs,
          basis,
          epsilon,
          freezeMlps: options.freezeMlps ?? true,
          align,
          grouping: requested,
        });
  const grouping = checkpoint?.grouping ?? requested;
  const runOptions = { ...options, batchRows: grouping.batchRows };
  const done = checkpoint?.finished() ?? new Map<string, FinishedPair>();
  const hooks = [...new Set([...cacheHooksFor(model, components), ...(options.cacheHooks ?? [])])];
  // Pairs as computed (under resample the source points to its resampled row of `aligned`). All
  // pairs, finished or not, so that chunks are the same as in an uninterrupted run.
  const aligned = alignInputs(table, pairs, align, model.config.seqLen, model.config.channels);

  const computed = new Map<string, FinishedPair>();
  let finished = done.size;
  options.onProgress?.(finished, pairs.length);
  // Chunks start at fixed pair indices, never at the resume point: a chunk left half-done by a
  // kill is recomputed whole, so every pair sees the same runtime batches as in an uninterrupted run.
  for (let c0 = 0; c0 < pairs.length; c0 += grouping.pairsPerBatch) {
    const chunk = pairs.slice(c0, c0 + grouping.pairsPerBatch);
    if (chunk.every((p) => done.has(pairKey(p)))) continue;
    checkAbort(options.signal);
    const runPairs = aligned.pairs.slice(c0, c0 + grouping.pairsPerBatch);
    const cache = await cacheRows(
      model,
      aligned.table,
      runPairs.flatMap((p) => [p.source, p.target]),
      hooks,
      runOptions,
    );
    const runs = await patchedChunk(model, aligned.table, cache, runPairs, components, runOptions);
    chunk.forEach((pair, i) => {
      if (done.has(pairKey(pair))) return;
      const run = runPairs[i];
      const source = score(cache.logitsOf(run.source));
      const target = score(cache.logitsOf(run.target));
      const a = runs.alignments[i];
      const original = alignPair(table, pair.source, pair.target, model.config);
      const rows = components.map((_, j) => {
        const status = runs.status[i * components.length + j];
        return {
          status,
          overlap: a.overlap,
          sourceSteps: original.sourceSteps,
          targetSteps: a.targetSteps,
          metrics:
            status === "not_applicable"
              ? null
              : effectMetrics(
                  score(runs.logits[i * components.length + j]),
                  source,
                  target,
                  pair,
                  basis,
                  epsilon,
                ),
        };
      });
      const baseline = { pair, sourceLogits: source.logits, targetLogits: target.logits };
      computed.set(pairKey(pair), { baseline, rows });
      checkpoint?.append(pair, baseline, rows);
      finished++;
    });
    options.onProgress?.(finished, pairs.length);
  }

  return {
    finished: new Map([...done, ...computed]),
    recoveryBasis: basis,
    align,
    resumedPairs: done.size,
    grouping,
  };
}

/**
 * The result of a sweep from its finished pairs: rows pair-major in `pairs` order, each with the
 * caller's pair and component objects, and the counts.
 *
 * @example
 * const result = assembleSweep(pairs, components, await sweepFinished(model, inputs, pairs, options));
 */
export function assembleSweep(
  pairs: readonly Pair[],
  components: readonly Component[],
  run: FinishedSweep,
): SweepResult {
  const { align } = run;
  const rows: EffectRow[] = [];
  const baselines: PairBaseline[] = [];
  for (const pair of pairs) {
    const entry = run.finished.get(pairKey(pair));
    if (entry === undefined) throw new Error(`sweep: pair ${pairKey(pair)} was never finished`);
    baselines.push({ ...entry.baseline, pair });
    // Rows from a checkpoint or another thread carry this run's component objects and pair (same order, checked by the fingerprint).
    entry.rows.forEach((r, j) => {
      rows.push(effectRow(pair, components[j], align, r));
    });
  }
  const statusCounts = { ok: 0, not_applicable: 0, no_overlap: 0 };
  for (const r of rows) statusCounts[r.status]++;
  const applicable = rows.filter((r) => r.status !== "not_applicable");
  return {
    rows,
    baselines,
    recoveryBasis: run.recoveryBasis,
    align,
    undefinedRecovery: applicable.filter((r) => r.recovery === null || !Number.isFinite(r.recovery)).length,
    nonFiniteRows: applicable.filter(
      (r) => ![r.dpTrue, r.logitDiff, r.dLogitDiff, r.klSource].every((v) => Number.isFinite(v)),
    ).length,
    statusCounts,
    resumedPairs: run.resumedPairs,
    grouping: run.grouping,
  };
}

function effectRow(pair: Pair, component: Component, align: Alignment, r: FinishedRow): EffectRow {
  const m = r.status === "not_applicable" || r.metrics === null ? null : r.metrics;
  const values = m ?? NO_METRICS;
  // Written out, not spread: one object shape for every row of a sweep (tens of thousands). The
  // cast ties the metrics to the status; `m` decides both.
  return {
    pair,
    component,
    align,
    sourceSteps: r.sourceSteps,
    targetSteps: r.targetSteps,
    overlap: r.overlap,
    dpTrue: values.dpTrue,
    recovery: values.recovery,
    logitDiff: values.logitDiff,
    dLogitDiff: values.dLogitDiff,
    klSource: values.klSource,
    status: m === null ? "not_applicable" : r.status,
  } as EffectRow;
}

/**
 * Every (pair, component) run of a chunk under overlap alignment (pairs of `table` as computed;
 * a resampled source is a row of its own): a whole-sequence patch writes the steps real in both
 * inputs; a position patch at a step that is padding in either is `not_applicable`, and every
 * patch of a pair without a shared real step is `no_overlap`: these rows get the target's
 * unpatched logits (nothing is patched). Logits are pair-major (pairs × components).
 *
 * @example
 * const { logits, status } = await patchedChunk(model, table, cache, pairs, presetComponents(model.config, "head-pos"));
 */
export async function patchedChunk(
  model: HookedTST,
  table: InputTable,
  cache: CachedRows,
  pairs: readonly Pair[],
  components: readonly Component[],
  options: PathOptions = {},
): Promise<ChunkRuns> {
  const n = components.length;
  const alignments = pairs.map((p) => alignPair(table, p.source, p.target, model.config));
  const status: RowStatus[] = new Array(pairs.length * n);
  const runs: PatchedRun[] = new Array(pairs.length * n);
  const paths = components.map((c, j) => ({ c, j })).filter(({ c }) => c.kind === "path");
  const sites = components.map((c) => (c.kind === "path" ? null : componentSites(model.config, c)));
  pairs.forEach((pair, i) => {
    const a = alignments[i];
    components.forEach((c, j) => {
      const position = "position" in c ? c.position : undefined;
      if (position !== undefined) {
        status[i * n + j] = a.shared === null || a.shared[position] !== 0 ? "ok" : "not_applicable";
      } else status[i * n + j] = a.patchedSteps === 0 ? "no_overlap" : "ok";
      const s = sites[j];
      if (s === null) return;
      // Rows that report no effect (not applicable, no overlap) are still run, unrestricted, and
      // their results dropped: the batches then hold exactly the runs they held before alignment
      // existed, so equal-length pairs keep their numbers bit for bit (ONNX Runtime's float32
      // kernels can round differently when a batch changes size). A position patch inside the
      // overlap writes one shared step and needs no step mask.
      const steps =
        position === undefined && status[i * n + j] === "ok" ? (a.writeSteps ?? undefined) : undefined;
      runs[i * n + j] = {
        target: pair.target,
        patches: s.map((site) => ({ site, value: cache.act(pair.source, site.hook), steps })),
      };
    });
  });
  if (paths.length > 0) {
    const pathComponents = paths.map(({ c }) => c as Extract<Component, { kind: "path" }>);
    const made = await pathRuns(model, table, cache, pairs, pathComponents, options);
    pairs.forEach((_, i) => {
      paths.forEach(({ j }, k) => {
        runs[i * n + j] = made[i * paths.length + k];
      });
    });
  }
  const logits = await runPatched(model, table, cache, runs, options);
  pairs.forEach((pair, i) => {
    for (let j = 0; j < n; j++) {
      if (status[i * n + j] !== "ok") logits[i * n + j] = cache.logitsOf(pair.target).slice();
    }
  });
  return { logits, status, alignments };
}

/** Every hook the chunk cache must hold for these components (patch values and start points). */
export function cacheHooksFor(model: HookedTST, components: readonly Component[]): HookName[] {
  const hooks = new Set<HookName>();
  for (const c of components) {
    if (c.kind === "path") {
      for (const h of pathCacheHooks(model.config.layers, c.sender.layer)) hooks.add(h);
      hooks.add(`blocks.${c.sender.layer}.hook_resid_pre`);
      hooks.add(`blocks.${c.receiver.layer}.hook_resid_pre`);
      continue;
    }
    const sites = componentSites(model.config, c);
    for (const s of sites) hooks.add(s.hook);
    const start = startHookForSites(model, sites);
    for (const h of startInputHooks(start)) hooks.add(h);
    // A one-token patch of a sub-layer output recomputes its layer at that token alone, on the
    // target's unpatched layer output (engine.ts, oneTokenOf).
    const layerOutput = layerOutputOf(start);
    // and the next layer projects only that token, given the others' q, k and v.
    if ("position" in c && c.position !== undefined && layerOutput !== null) {
      hooks.add(layerOutput);
      for (const h of nextLayerProjections(model.config, start)) hooks.add(h);
    }
  }
  return [...hooks];
}

export function pairKey(p: Pair): string {
  return `${p.id}:${p.direction}`;
}
