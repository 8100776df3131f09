/**
 * Random-patching null: how large is a head's effect when the source is a random input of
 * another class, i.e. carries no information about the target's true class? For each pair and
 * draw r the head is patched from a random row whose true class differs from the target's
 * (seeded, one stream per pair). Per head, the null statistic of draw r is the mean |effect|
 * over the pairs, matching the observed statistic (mean |effect| of the real pairs), and
 *
 *   p = (1 + #{r : null_r ≥ observed}) / (R + 1)
 *
 * (B. Phipson, G. K. Smyth, "Permutation P-values Should Never Be Zero", Stat. Appl. Genet. Mol.
 * Biol. 9(1), 2010).
 */
import { inputError } from "../errors.js";
import type { HookedTST } from "../model/hooked-tst.js";
import type { InputTable } from "../patching/engine.js";
import { presetComponents } from "../patching/presets.js";
import { sweep } from "../patching/sweep.js";
import type { Pair } from "../patching/types.js";
import { Rng } from "../stats/rng.js";
import { type BaselineMetric, exactEffect } from "./pair-rows.js";
import { BASELINE_STREAMS } from "./streams.js";

export interface RandomNullResult {
  readonly draws: number;
  /** Per head (l·H + h): the R null statistics (mean |effect| over pairs of each draw). */
  readonly nullMeans: readonly (readonly number[])[];
  /** Per head: every null |effect| (pairs × draws), for a histogram. */
  readonly nullAbsEffects: readonly (readonly number[])[];
  /** Per head: the observed mean |effect| over the pairs. */
  readonly observed: readonly number[];
  /** Per head: the empirical p-value with the +1 correction. */
  readonly pvalues: readonly number[];
  readonly method: string;
}

export interface RandomNullOptions {
  /** Draws per pair (default 49). */
  draws?: number;
  seed?: number;
  metric?: BaselineMetric;
  batchRows?: number;
  signal?: AbortSignal;
}

/**
 * The random-patching null of every head, against the observed per-pair head effects.
 *
 * @param observedEffects pairs × (L·H) exact effects of the real pairs
 * @param trueClass true class per row of the table (-1 = unlabelled, never drawn)
 * @example
 * const nul = await randomPatchingNull(model, inputs, pairs, exactHeads, inputs.trueClass, { draws: 99 });
 * nul.pvalues[3];
 */
export async function randomPatchingNull(
  model: HookedTST,
  table: InputTable,
  pairs: readonly Pair[],
  observedEffects: Float64Array,
  trueClass: ArrayLike<number>,
  options: RandomNullOptions = {},
): Promise<RandomNullResult> {
  const { layers: L, heads: H } = model.config;
  const m = L * H;
  const R = options.draws ?? 49;
  if (!(Number.isInteger(R) && R >= 1))
    throw inputError(`null draws must be a positive integer, got ${R}`, { field: "draws" });
  const seed = options.seed ?? 0;
  const nullPairs: Pair[] = [];
  pairs.forEach((pair, i) => {
    const y = trueClass[pair.target];
    const pool: number[] = [];
    for (let r = 0; r < table.rows; r++) if (trueClass[r] >= 0 && trueClass[r] !== y) pool.push(r);
    if (pool.length === 0) {
      throw inputError(`no input of a class other than the target's (${y}) to draw random sources from`, {
        field: "pairs",
        hint: "the random-patching null needs data with at least two classes",
      });
    }
    const rng = new Rng(seed, BASELINE_STREAMS.randomNull + i);
    for (let r = 0; r < R; r++)
      nullPairs.push({ ...pair, id: i * R + r, source: pool[rng.int(pool.length)] });
  });
  const result = await sweep(model, table, nullPairs, {
    components: presetComponents(model.config, "heads"),
    batchRows: options.batchRows,
    signal: options.signal,
  });
  const metric = options.metric ?? "dp_true";
  const n = pairs.length;
  const nullMeans = Array.from({ length: m }, () => new Array<number>(R).fill(0));
  const nullAbs = Array.from({ length: m }, () => new Array<number>(n * R));
  result.rows.forEach((row, k) => {
    const run = Math.floor(k / m);
    const j = k % m;
    const pair = Math.floor(run / R);
    const r = run % R;
    const v = Math.abs(exactEffect(row, metric));
    nullAbs[j][pair * R + r] = v;
    nullMeans[j][r] += v / n;
  });
  const observed = Array.from({ length: m }, (_, j) => {
    let s = 0;
    for (let p = 0; p < n; p++) s += Math.abs(observedEffects[p * m + j]);
    return s / n;
  });
  const pvalues = observed.map((o, j) => (1 + nullMeans[j].filter((v) => v >= o).length) / (R + 1));
  return {
    draws: R,
    nullMeans,
    nullAbsEffects: nullAbs,
    observed,
    pvalues,
    method: `${R} random sources of another class per pair; statistic mean |effect| over ${n} pairs; p = (1 + #null ≥ observed)/(R + 1) (Phipson & Smyth 2010)`,
  };
}
