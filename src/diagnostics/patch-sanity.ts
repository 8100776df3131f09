/**
 * Patch sanity, on a sample of pairs before every sweep (the failures users report most with
 * patching libraries are silent: a hook that never fires, a batch that mixes rows, TransformerLens
 * #1005). Four checks:
 * 1. identity: a pair with source = target changes nothing, for every requested component;
 * 2. everything: patching the whole residual stream entering layer 0 gives the source's output;
 * 3. batching: a batched sweep equals the same sweep one run per runtime call;
 * 4. no-op (after the sweep, on every pair): a component whose patch left the logit difference
 *    and P(true) exactly unchanged in every pair with source ≠ target never reached the model.
 * Failures are `error` findings: a sweep with a broken patch has no result to report.
 * Checks 1–3 run the sweep's own graphs (its cache graph, its start points) plus one start at
 * layer 0, in two runs: a small sweep's cost is mostly compiling graphs and runtime calls.
 */
import type { HookedTST } from "../model/hooked-tst.js";
import type { InputTable } from "../patching/engine.js";
import { softmax } from "../patching/metrics.js";
import { componentColumns } from "../patching/presets.js";
import { cacheHooksFor, type EffectRow, rowEffect, sweep } from "../patching/sweep.js";
import type { Component, Pair } from "../patching/types.js";
import { componentName } from "../stats/units.js";
import type { Finding } from "./finding.js";

export interface PatchSanityOptions {
  /** Pairs checked (evenly spaced over the list; default 3). */
  sample?: number;
  /** Components compared batched vs unbatched (evenly spaced; default 12). */
  batchComponents?: number;
  /** Patched runs per runtime call of the batched checks (default the sweep's: 256); a memory budget's rows. */
  batchRows?: number;
  /** Valid length of each input row, to skip "everything" on pairs of different lengths. */
  lengths?: ArrayLike<number>;
  signal?: AbortSignal;
  /** The sweep under test (default: the engine's); a test passes a broken one to see the checks fire. */
  sweep?: typeof sweep;
}

/** Largest |Δ logit difference| and |ΔP| that count as "no change" in floating point. */
export const LOGIT_TOLERANCE = 1e-4;
export const PROBABILITY_TOLERANCE = 1e-5;

/**
 * Run checks 1–3 on a sample of pairs.
 *
 * @example
 * const findings = await patchSanity(model, built.inputs, built.pairs.pairs, components);
 * if (findings.some((f) => f.severity === "error")) …
 */
export async function patchSanity(
  model: HookedTST,
  table: InputTable,
  pairs: readonly Pair[],
  components: readonly Component[],
  options: PatchSanityOptions = {},
): Promise<Finding[]> {
  const sample = spaced(pairs, options.sample ?? 3);
  if (sample.length === 0 || components.length === 0) return [];
  const findings: Finding[] = [];
  // Every check caches what the sweep caches: they all run the sweep's cache graph.
  const cacheHooks = cacheHooksFor(model, components);
  const base = { signal: options.signal, batchRows: options.batchRows, cacheHooks };
  const run = options.sweep ?? sweep;

  // Checks 1–3 share one batched run: the identity pairs and the sample, every component and the
  // whole residual stream entering layer 0 (graphs and runtime calls are a small sweep's main cost).
  // Ids are renumbered so that the two halves never share a pair key.
  const everything: Component = { kind: "resid", layer: 0, point: "pre" };
  const checked = [...components, everything];
  const identityPairs = sample.map((p, i) => ({ ...p, id: i, source: p.target }));
  const samplePairs = sample.map((p, i) => ({ ...p, id: sample.length + i }));
  const batched = await run(model, table, [...identityPairs, ...samplePairs], {
    ...base,
    components: checked,
  });
  const rowsOf = (pairIndex: number) =>
    batched.rows.slice(pairIndex * checked.length, (pairIndex + 1) * checked.length);
  const identityRows = identityPairs.flatMap((_, i) => rowsOf(i));
  const moved = applicable(identityRows).filter(
    (r) => Math.abs(r.dLogitDiff) > LOGIT_TOLERANCE || Math.abs(r.dpTrue) > PROBABILITY_TOLERANCE,
  );
  if (moved.length > 0) {
    findings.push({
      code: "patch-identity",
      severity: "error",
      message: `patching an input with its own activations changed the output in ${moved.length} of ${identityRows.length} runs (e.g. ${describe(moved[0])}): the patch writes the wrong values`,
      detail: {
        runs: identityRows.length,
        changed: moved.length,
        max_abs_d_logit_diff: maxAbs(moved.map((r) => r.dLogitDiff)),
      },
    });
  }

  const lengths = options.lengths;
  const sameLength = sample
    .map((p, i) => ({ p, i: identityPairs.length + i }))
    .filter(({ p }) => lengths === undefined || lengths[p.source] === lengths[p.target]);
  if (sameLength.length > 0) {
    const misses = sameLength.map(({ i }) => {
      const r = rowsOf(i)[components.length];
      const b = batched.baselines[i];
      const pSource = softmax(b.sourceLogits)[r.pair.trueClass];
      const pTarget = softmax(b.targetLogits)[r.pair.trueClass];
      return Math.abs(pTarget + rowEffect(r, "dpTrue") - pSource);
    });
    const worst = Math.max(...misses);
    if (worst > PROBABILITY_TOLERANCE) {
      findings.push({
        code: "patch-everything",
        severity: "error",
        message: `patching the whole residual stream entering layer 0 did not give the source's output (|P_patched − P_source| up to ${worst.toExponential(2)})`,
        detail: { pairs: sameLength.length, max_abs_difference: worst },
      });
    }
  }

  const some = spaced(components, options.batchComponents ?? 12);
  const single = await run(model, table, samplePairs, {
    ...base,
    components: some,
    batchRows: 1,
    pairsPerBatch: 1,
  });
  // Position rows at a padding step have no metrics in either run (same pairs, same components).
  const diffs = single.rows.map((other, k) => {
    const pairIndex = identityPairs.length + Math.floor(k / some.length);
    const r = rowsOf(pairIndex)[components.indexOf(some[k % some.length])];
    return r.status === "not_applicable" || other.status === "not_applicable"
      ? 0
      : Math.abs(r.dLogitDiff - other.dLogitDiff);
  });
  const worstBatch = Math.max(0, ...diffs);
  if (worstBatch > LOGIT_TOLERANCE) {
    findings.push({
      code: "patch-batching",
      severity: "error",
      message: `a batched sweep differs from the same sweep run one patch at a time (|Δ logit difference| up to ${worstBatch.toExponential(2)}): rows are mixed in a batch`,
      detail: { runs: diffs.length, max_abs_difference: worstBatch, tolerance: LOGIT_TOLERANCE },
    });
  }
  return findings;
}

/**
 * Check 4, on a finished sweep: components whose patch changed nothing in any pair.
 *
 * @example
 * noOpFindings(result.rows);
 */
export function noOpFindings(rows: readonly EffectRow[]): Finding[] {
  const tally = new Map<Component, NoOpTally>();
  for (const r of rows) {
    if (r.pair.source === r.pair.target || r.status === "not_applicable") continue;
    // A single position late in the model can legitimately lose the max-pool in every pair.
    const wholeSequence = !("position" in r.component) || r.component.position === undefined;
    countPatch(tally, r.component, wholeSequence, r.dLogitDiff !== 0 || r.dpTrue !== 0);
  }
  const finding = noOpFinding(new Map([...tally].map(([c, t]) => [componentLabel(c), t])));
  return finding === null ? [] : [finding];
}

/** How often one component was patched (source ≠ target, applicable) and how often that changed the output. */
export interface NoOpTally {
  runs: number;
  changed: number;
  /** A whole-sequence patch (not one position). */
  wholeSequence: boolean;
}

/**
 * Count one patched run of `key` into `tally`.
 *
 * @example
 * countPatch(tally, "L0H3", true, row.dLogitDiff !== 0);
 */
export function countPatch<K>(
  tally: Map<K, NoOpTally>,
  key: K,
  wholeSequence: boolean,
  changed: boolean,
): void {
  const entry = tally.get(key) ?? { runs: 0, changed: 0, wholeSequence };
  entry.runs++;
  if (changed) entry.changed++;
  tally.set(key, entry);
}

/**
 * The no-op finding of a tally by component name: components whose patch changed nothing in any
 * run. An error when a whole-sequence patch is among them (the hook never fired), a warning when
 * only single positions are (they can legitimately never win the max-pool); null when none.
 * `kind` names the family in the message and the detail (the study checks each kind's table).
 *
 * @example
 * const finding = noOpFinding(tally, "head");
 */
export function noOpFinding(tally: ReadonlyMap<string, NoOpTally>, kind?: string): Finding | null {
  const dead = [...tally.entries()].filter(([, e]) => e.runs > 0 && e.changed === 0);
  if (dead.length === 0) return null;
  const wholeSequence = dead.filter(([, e]) => e.wholeSequence).length;
  const names = dead.map(([name]) => name);
  return {
    code: "patch-no-op",
    severity: wholeSequence > 0 ? "error" : "warning",
    message:
      `${kind === undefined ? "" : `${kind}: `}${dead.length} component(s) left every output exactly unchanged in all pairs (${names.slice(0, 8).join(", ")}${names.length > 8 ? ", …" : ""})` +
      (wholeSequence > 0
        ? ": the patch never reached the model (hook not fired); this is not a zero effect"
        : ": single positions that never win the max-pool can do this; check before reading them as zero effects"),
    detail: {
      ...(kind === undefined ? {} : { kind }),
      components: names,
      runs_each: dead[0][1].runs,
      whole_sequence: wholeSequence,
    },
  };
}

function spaced<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return items.slice();
  return Array.from({ length: count }, (_, i) => items[Math.floor((i * items.length) / count)]);
}

function maxAbs(values: readonly number[]): number {
  return values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

/** A row that was patched: it has metrics (position rows at a padding step do not). */
type AppliedRow = Extract<EffectRow, { status: "ok" | "no_overlap" }>;

function applicable(rows: readonly EffectRow[]): AppliedRow[] {
  return rows.filter((r): r is AppliedRow => r.status !== "not_applicable");
}

function describe(r: AppliedRow): string {
  return `${componentLabel(r.component)} on input ${r.pair.target}: Δ logit difference ${r.dLogitDiff.toExponential(2)}`;
}

/** The component's column name in `tspatch stats` (L0H3, L1mlp, L2H5P4, …). */
function componentLabel(c: Component): string {
  const col = componentColumns(c);
  const text = (v: number | null) => (v === null ? "" : String(v));
  return componentName(col.component, text(col.layer), text(col.head), text(col.position), col.detail);
}
