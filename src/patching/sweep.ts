import type { HookedTST } from "../model/hooked-tst.js";
import { type HookName, startInputHooks } from "../model/hooks.js";
import { type Grouping, SweepCheckpoint } from "./checkpoint.js";
import {
  type CachedRows,
  cacheRows,
  checkAbort,
  type InputTable,
  type PatchedRun,
  runPatched,
  startHookForSites,
} from "./engine.js";
import { type EffectMetrics, effectMetrics, RECOVERY_EPSILON, type RecoveryBasis, score } from "./metrics.js";
import { type PathOptions, pathCacheHooks, pathRuns } from "./path.js";
import { componentSites } from "./setters.js";
import type { Component, Pair } from "./types.js";

/**
 * A sweep: every component of a list, patched for every pair, batched (see
 * engine.ts). Pairs are processed in chunks of `pairsPerBatch`: one cached run
 * per distinct input of the chunk, then all patched runs of the chunk (pairs ×
 * components) in as few runtime calls as the start points allow. After each
 * chunk the finished pairs go to the checkpoint file (if any), so an
 * interrupted sweep resumes where it stopped.
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
}

/** One patched run's effect. */
export interface EffectRow extends EffectMetrics {
  readonly pair: Pair;
  readonly component: Component;
}

/** Unpatched probabilities of a pair's two inputs. */
export interface PairBaseline {
  readonly pair: Pair;
  readonly sourceLogits: Float64Array;
  readonly targetLogits: Float64Array;
}

export interface SweepResult {
  readonly rows: readonly EffectRow[];
  readonly baselines: readonly PairBaseline[];
  readonly recoveryBasis: RecoveryBasis;
  /** Rows whose recovery cell is empty: undefined (denominator below epsilon) or not finite. */
  readonly undefinedRecovery: number;
  /** Rows with a non-finite metric (their cells are empty in the CSV): non-finite logits. */
  readonly nonFiniteRows: number;
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
          grouping: requested,
        });
  const grouping = checkpoint?.grouping ?? requested;
  const runOptions = { ...options, batchRows: grouping.batchRows };
  const done = checkpoint?.finished() ?? new Map();
  const hooks = cacheHooksFor(model, components);

  const computed = new Map<string, { baseline: PairBaseline; rows: EffectRow[] }>();
  let finished = done.size;
  options.onProgress?.(finished, pairs.length);
  // Chunks start at fixed pair indices, never at the resume point: a chunk left half-done by a
  // kill is recomputed whole, so every pair sees the same runtime batches as in an uninterrupted run.
  for (let c0 = 0; c0 < pairs.length; c0 += grouping.pairsPerBatch) {
    const chunk = pairs.slice(c0, c0 + grouping.pairsPerBatch);
    if (chunk.every((p) => done.has(pairKey(p)))) continue;
    checkAbort(options.signal);
    const cache = await cacheRows(
      model,
      table,
      chunk.flatMap((p) => [p.source, p.target]),
      hooks,
      runOptions,
    );
    const logits = await patchedLogits(model, table, cache, chunk, components, runOptions);
    chunk.forEach((pair, i) => {
      if (done.has(pairKey(pair))) return;
      const source = score(cache.logitsOf(pair.source));
      const target = score(cache.logitsOf(pair.target));
      const rows = components.map((component, j) => ({
        pair,
        component,
        ...effectMetrics(score(logits[i * components.length + j]), source, target, pair, basis, epsilon),
      }));
      const baseline = { pair, sourceLogits: source.logits, targetLogits: target.logits };
      computed.set(pairKey(pair), { baseline, rows });
      checkpoint?.append(pair, baseline, rows);
      finished++;
    });
    options.onProgress?.(finished, pairs.length);
  }

  const rows: EffectRow[] = [];
  const baselines: PairBaseline[] = [];
  for (const pair of pairs) {
    const key = pairKey(pair);
    const entry = computed.get(key) ?? done.get(key)!;
    baselines.push(entry.baseline);
    // Rows from the checkpoint carry this run's component objects and pair (same order, checked by the fingerprint).
    entry.rows.forEach((r: EffectMetrics, j: number) => {
      rows.push({ ...r, pair, component: components[j] });
    });
  }
  return {
    rows,
    baselines,
    recoveryBasis: basis,
    undefinedRecovery: rows.filter((r) => r.recovery === null || !Number.isFinite(r.recovery)).length,
    nonFiniteRows: rows.filter(
      (r) => ![r.dpTrue, r.logitDiff, r.dLogitDiff, r.klSource].every((v) => Number.isFinite(v)),
    ).length,
    resumedPairs: done.size,
    grouping,
  };
}

/** Logits of every (pair, component) run of a chunk, pair-major. */
export async function patchedLogits(
  model: HookedTST,
  table: InputTable,
  cache: CachedRows,
  pairs: readonly Pair[],
  components: readonly Component[],
  options: PathOptions = {},
): Promise<Float32Array[]> {
  const runs: PatchedRun[] = new Array(pairs.length * components.length);
  const paths = components.map((c, j) => ({ c, j })).filter(({ c }) => c.kind === "path");
  const sites = components.map((c) => (c.kind === "path" ? null : componentSites(model.config, c)));
  pairs.forEach((pair, i) => {
    components.forEach((_, j) => {
      const s = sites[j];
      if (s === null) return;
      runs[i * components.length + j] = {
        target: pair.target,
        patches: s.map((site) => ({ site, value: cache.act(pair.source, site.hook) })),
      };
    });
  });
  if (paths.length > 0) {
    const pathComponents = paths.map(({ c }) => c as Extract<Component, { kind: "path" }>);
    const made = await pathRuns(model, table, cache, pairs, pathComponents, options);
    pairs.forEach((_, i) => {
      paths.forEach(({ j }, k) => {
        runs[i * components.length + j] = made[i * paths.length + k];
      });
    });
  }
  return runPatched(model, table, cache, runs, options);
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
    for (const h of startInputHooks(startHookForSites(model, sites))) hooks.add(h);
  }
  return [...hooks];
}

export function pairKey(p: Pair): string {
  return `${p.id}:${p.direction}`;
}
