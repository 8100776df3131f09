import type { HookedTST } from "../model/hooked-tst.js";
import type { HookName } from "../model/hooks.js";
import { alignPair } from "./align.js";
import {
  type CachedRows,
  type EngineOptions,
  type InputTable,
  type PatchedRun,
  runPatchedWithCache,
} from "./engine.js";
import type { PatchSite } from "./setters.js";
import type { Component, HeadRef, Pair } from "./types.js";

/**
 * Path patching, sender head → receiver head's q, k or v input (Wang et al. 2022 [1],
 * §3.1 and Appendix B; the hook-based recipe of ARENA's IOI chapter [2]). It measures
 * the part of the sender's effect that reaches the output *only* through the
 * receiver's chosen input. For a pair (source, target):
 *
 * 1. Cache the target's and the source's unpatched runs (the sweep's cache).
 * 2. Run the target from `blocks.{ls}.hook_resid_pre` with the sender's z
 *    (`blocks.ls.attn.hook_z[:, :, hs, :]`) taken from the source and everything
 *    else after it frozen to the target's values: every head's z in layers
 *    ls+1 … L−1 and (with `freezeMlps`, the default) every `hook_mlp_out` in
 *    layers ls … L−1. Only the residual stream and its LayerNorms recompute, so the
 *    sender's change reaches later layers directly. Cache the receiver layer's
 *    `attn.hook_q|k|v` of this run. (Freezing layers at or after the receiver's
 *    does not change its q/k/v, which depend only on its resid_pre; so one run per
 *    sender serves every receiver.)
 * 3. Run the target from `blocks.{lr}.hook_resid_pre` with only the receiver's
 *    q (or k, or v), head hr, replaced by the value cached in step 2; everything
 *    downstream recomputes freely. The metrics of this run are the path's effect.
 *
 * With `freezeMlps: false` the MLPs between sender and receiver recompute in step 2,
 * so paths through MLPs count as part of the sender → receiver path (MLPs treated as
 * part of the residual stream, the convention of [2]).
 *
 * References:
 * [1] K. Wang, A. Variengien, A. Conmy, B. Shlegeris, J. Steinhardt, "Interpretability in the
 *     Wild: a Circuit for Indirect Object Identification in GPT-2 small", arXiv:2211.00593 (2022).
 * [2] C. McDougall et al., ARENA 3.0, "Indirect Object Identification", section 4 "Path patching".
 */

export interface PathOptions extends EngineOptions {
  /** Freeze every MLP output after the sender to the target's value (default true). */
  freezeMlps?: boolean;
}

type PathComponent = Extract<Component, { kind: "path" }>;

/** Hooks step 2 needs from the cache for senders in layer `ls` (beyond the start points). */
export function pathCacheHooks(layers: number, senderLayer: number): HookName[] {
  const hooks: HookName[] = [`blocks.${senderLayer}.attn.hook_z`];
  for (let m = senderLayer; m < layers; m++)
    hooks.push(`blocks.${m}.attn.hook_z`, `blocks.${m}.hook_mlp_out`);
  return hooks;
}

/**
 * The step-3 runs of path patching for each (pair, path component), in the
 * order `pairs × components`. Runs step 2 (batched over pairs and senders) to
 * get the receivers' inputs.
 *
 * @example
 * const runs = await pathRuns(model, table, cache, pairs, [{ kind: "path", sender: { layer: 0, head: 1 }, receiver: { layer: 2, head: 5 }, input: "q" }]);
 */
export async function pathRuns(
  model: HookedTST,
  table: InputTable,
  cache: CachedRows,
  pairs: readonly Pair[],
  components: readonly PathComponent[],
  options: PathOptions = {},
): Promise<PatchedRun[]> {
  const L = model.config.layers;
  const freezeMlps = options.freezeMlps ?? true;
  const senders = new Map<string, HeadRef>();
  for (const c of components) senders.set(headKey(c.sender), c.sender);

  // Step 2: one run per (pair, sender), fetching q/k/v of every later layer.
  const step2: PatchedRun[] = [];
  const step2Index = new Map<string, number>();
  const fetch = new Set<HookName>();
  for (const pair of pairs) {
    // Overlap alignment: the sender's value is written only at steps real in both inputs (align.ts).
    const steps = alignPair(table, pair.source, pair.target, model.config).writeSteps ?? undefined;
    for (const [key, sender] of senders) {
      const patches: { site: PatchSite; value: Float32Array; steps?: Uint8Array }[] = [
        {
          site: { hook: `blocks.${sender.layer}.attn.hook_z`, select: [null, [sender.head], null] },
          value: cache.act(pair.source, `blocks.${sender.layer}.attn.hook_z`),
          steps,
        },
      ];
      for (let m = sender.layer; m < L; m++) {
        if (m > sender.layer) {
          const hook: HookName = `blocks.${m}.attn.hook_z`;
          patches.push({ site: { hook, select: [null, null, null] }, value: cache.act(pair.target, hook) });
        }
        if (freezeMlps) {
          const hook: HookName = `blocks.${m}.hook_mlp_out`;
          patches.push({ site: { hook, select: [null, null] }, value: cache.act(pair.target, hook) });
        }
      }
      for (let m = sender.layer + 1; m < L; m++) {
        for (const s of ["q", "k", "v"] as const) fetch.add(`blocks.${m}.attn.hook_${s}`);
      }
      step2Index.set(`${pairKey(pair)}|${key}`, step2.length);
      step2.push({ target: pair.target, patches });
    }
  }
  // Runs of different sender layers cannot fetch the same hooks (a hook before the start is not in
  // the graph), so step 2 is grouped per sender layer.
  const receiverInputs = new Map<number, Map<HookName, Float32Array>>();
  const layersOfSenders = [...new Set([...senders.values()].map((s) => s.layer))];
  for (const ls of layersOfSenders) {
    const members = step2.map((_, i) => i).filter((i) => senderLayerOf(step2[i]) === ls);
    const hooks = [...fetch].filter((h) => Number(h.split(".")[1]) > ls);
    const { acts } = await runPatchedWithCache(
      model,
      table,
      cache,
      members.map((i) => step2[i]),
      hooks,
      options,
    );
    members.forEach((i, j) => {
      const m = new Map<HookName, Float32Array>();
      for (const h of hooks) m.set(h, acts.get(h)![j]);
      receiverInputs.set(i, m);
    });
  }

  // Step 3: only the receiver's input is patched, with the value from step 2.
  const runs: PatchedRun[] = [];
  for (const pair of pairs) {
    for (const c of components) {
      const i = step2Index.get(`${pairKey(pair)}|${headKey(c.sender)}`)!;
      const hook: HookName = `blocks.${c.receiver.layer}.attn.hook_${c.input}`;
      runs.push({
        target: pair.target,
        patches: [
          {
            site: { hook, select: [null, [c.receiver.head], null] },
            value: receiverInputs.get(i)!.get(hook)!,
          },
        ],
      });
    }
  }
  return runs;
}

function senderLayerOf(run: PatchedRun): number {
  return Number(run.patches[0].site.hook.split(".")[1]);
}

function headKey(h: HeadRef): string {
  return `${h.layer}.${h.head}`;
}

function pairKey(p: Pair): string {
  return `${p.id}:${p.direction}`;
}
