/**
 * Stability of the head ranking: under input perturbations (each validated by the model's
 * accuracy on the perturbed inputs), and under resampling of the units. The `stability` study
 * stage and `tspatch stability`.
 */
import type { HookedTST } from "../model/hooked-tst.js";
import { predict } from "../patching/build-pairs.js";
import type { InputTable } from "../patching/engine.js";
import { presetComponents } from "../patching/presets.js";
import { rowEffect, sweep } from "../patching/sweep.js";
import type { Direction, Pair } from "../patching/types.js";
import { Rng } from "../random/rng.js";
import { adjustPValues, type Correction } from "../stats/multiplicity.js";
import { ttest1samp } from "../stats/ttest.js";
import { type Perturbation, perturbationLabel, perturbRows } from "./perturb.js";
import { type RankAgreement, rankAgreement } from "./rank-agreement.js";
import { STABILITY_STREAMS } from "./streams.js";
import { columnMeans, type Unit, unitMeans, unitsByDirection } from "./units.js";

export type StabilityMetric = "dp_true" | "logit_diff";

export interface StabilityOptions {
  perturbations: readonly Perturbation[];
  metric?: StabilityMetric;
  seed?: number;
  /** Accuracy drop (fraction) above which a perturbation is flagged (default 0.05). */
  maxAccuracyDrop?: number;
  /** Significance: one-sample t-test per head, this correction across heads (default bh), alpha 0.05. */
  correction?: Correction;
  alpha?: number;
  topK?: readonly number[];
  /** Bootstrap resamples of the agreement CIs (default 2000). */
  resamples?: number;
  /** Resampling stability: bootstrap resamples over units (default 1000). */
  resamplingDraws?: number;
  batchRows?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, detail?: string) => void;
}

/** Agreement of one direction's perturbed ranking with the unperturbed one. */
export interface DirectionStability {
  readonly direction: Direction;
  /** Units whose pairs survived (both members classified as right/wrong as before). */
  readonly units: number;
  readonly agreement: RankAgreement | null;
  /** Heads significant unperturbed (on the surviving units) and perturbed. */
  readonly significantBefore: readonly string[];
  readonly significantAfter: readonly string[];
  /** |sig before ∩ sig after| / |sig before|; null when nothing was significant before. */
  readonly significantRetained: number | null;
  /** Mean effect per head on the perturbed inputs. */
  readonly meanEffects: readonly number[];
}

export interface PerturbationStability {
  readonly perturbation: Perturbation;
  readonly label: string;
  readonly accuracy: number;
  readonly accuracyDrop: number;
  /** The perturbation costs more than `maxAccuracyDrop`: its ranking is of a broken model. */
  readonly flagged: boolean;
  readonly pairsSurviving: number;
  readonly pairsTotal: number;
  /** Set when no pair survived: why there is no ranking. */
  readonly message: string | null;
  readonly directions: readonly DirectionStability[];
}

/** Per head, how often a bootstrap resample of the units puts it in the top k / significant. */
export interface ResamplingStability {
  readonly direction: Direction;
  readonly draws: number;
  readonly units: number;
  /** k → per head probability of being among the k largest mean effects. */
  readonly topKProbability: Readonly<Record<string, readonly number[]>>;
  readonly significantProbability: readonly number[];
}

export interface StabilityResult {
  readonly metric: StabilityMetric;
  readonly heads: readonly string[];
  readonly accuracy: number;
  readonly unperturbed: readonly {
    readonly direction: Direction;
    readonly units: number;
    readonly meanEffects: readonly number[];
    readonly significant: readonly string[];
  }[];
  readonly perturbations: readonly PerturbationStability[];
  readonly resampling: readonly ResamplingStability[];
  readonly settings: {
    readonly seed: number;
    readonly maxAccuracyDrop: number;
    readonly correction: Correction;
    readonly alpha: number;
    readonly topK: readonly number[];
    readonly resamples: number;
    readonly resamplingDraws: number;
  };
  readonly seconds: number;
  readonly notes: readonly string[];
}

/**
 * Head-ranking stability under perturbations and resampling.
 *
 * @example
 * const result = await runStability(model, inputs, pairs, { perturbations: parsePerturbations(["gaussian:0.1"]) });
 * result.perturbations[0].directions[0].agreement?.spearman; // { estimate, ci }
 */
export async function runStability(
  model: HookedTST,
  inputs: InputTable & { readonly trueClass: ArrayLike<number>; readonly lengths: ArrayLike<number> },
  pairs: readonly Pair[],
  options: StabilityOptions,
): Promise<StabilityResult> {
  const started = performance.now();
  const { layers: L, heads: H, seqLen: S, channels: C } = model.config;
  const m = L * H;
  const heads = Array.from({ length: m }, (_, j) => `L${Math.floor(j / H)}H${j % H}`);
  const metric = options.metric ?? "dp_true";
  const seed = options.seed ?? 0;
  const maxDrop = options.maxAccuracyDrop ?? 0.05;
  const correction = options.correction ?? "bh";
  const alpha = options.alpha ?? 0.05;
  const topK = options.topK ?? [3, 5];
  const resamples = options.resamples ?? 2000;
  const draws = options.resamplingDraws ?? 1000;
  const components = presetComponents(model.config, "heads");
  const total = options.perturbations.length + 1;

  const effectsOn = async (table: InputTable): Promise<Float64Array> => {
    const result = await sweep(model, table, pairs, {
      components,
      batchRows: options.batchRows,
      signal: options.signal,
    });
    return Float64Array.from(result.rows, (r) =>
      rowEffect(r, metric === "dp_true" ? "dpTrue" : "dLogitDiff"),
    );
  };
  const accuracyOf = (predicted: Int32Array) => {
    let labelled = 0;
    let right = 0;
    predicted.forEach((p, i) => {
      if (inputs.trueClass[i] < 0) return;
      labelled++;
      if (p === inputs.trueClass[i]) right++;
    });
    return labelled === 0 ? Number.NaN : right / labelled;
  };
  const significant = (unitEffects: Float64Array, n: number, idx?: ArrayLike<number>): boolean[] => {
    const p = new Float64Array(m);
    for (let j = 0; j < m; j++) {
      const column = Float64Array.from(
        { length: n },
        (_, i) => unitEffects[(idx === undefined ? i : idx[i]) * m + j],
      );
      p[j] = n >= 2 ? ttest1samp(column).pvalue : Number.NaN;
    }
    return adjustPValues(
      Float64Array.from(p, (v) => (Number.isNaN(v) ? 1 : v)),
      correction,
      alpha,
    ).reject;
  };
  const names = (flags: boolean[]) => heads.filter((_, j) => flags[j]);

  const cleanPredicted = await predict(model, inputs.x, inputs.mask);
  const accuracy = accuracyOf(cleanPredicted);
  const clean = await effectsOn(inputs);
  options.onProgress?.(1, total, "unperturbed");
  const allUnits = unitsByDirection(pairs);
  const unperturbed = [...allUnits].map(([direction, units]) => {
    const u = unitMeans(units, clean, m);
    return {
      direction,
      units: units.length,
      meanEffects: Array.from(columnMeans(u, m, Uint32Array.from(units.keys()))),
      significant: names(significant(u, units.length)),
    };
  });

  const perturbations: PerturbationStability[] = [];
  let stream = STABILITY_STREAMS.agreement;
  for (const [index, perturbation] of options.perturbations.entries()) {
    const x = perturbRows(inputs, S, C, perturbation, seed);
    const table: InputTable = { x, mask: inputs.mask, rows: inputs.rows };
    const predicted = await predict(model, x, inputs.mask);
    const acc = accuracyOf(predicted);
    const correct = (row: number, pred: ArrayLike<number>) => pred[row] === inputs.trueClass[row];
    const survives = pairs.map(
      (p) =>
        correct(p.source, predicted) === correct(p.source, cleanPredicted) &&
        correct(p.target, predicted) === correct(p.target, cleanPredicted),
    );
    const surviving = survives.filter(Boolean).length;
    const label = perturbationLabel(perturbation);
    const base = {
      perturbation,
      label,
      accuracy: acc,
      accuracyDrop: accuracy - acc,
      flagged: accuracy - acc > maxDrop,
      pairsSurviving: surviving,
      pairsTotal: pairs.length,
    };
    if (surviving === 0) {
      perturbations.push({
        ...base,
        message: `${label}: none of the ${pairs.length} pairs survives (every pair's source or target changed between right and wrong), so there is no ranking to compare; use a smaller strength`,
        directions: [],
      });
      options.onProgress?.(index + 2, total, label);
      continue;
    }
    const perturbed = await effectsOn(table);
    const directions: DirectionStability[] = [];
    for (const [direction, units] of allUnits) {
      const kept: Unit[] = units
        .map((u) => ({ ...u, pairs: u.pairs.filter((p) => survives[p]) }))
        .filter((u) => u.pairs.length > 0);
      if (kept.length === 0) {
        directions.push({
          direction,
          units: 0,
          agreement: null,
          significantBefore: [],
          significantAfter: [],
          significantRetained: null,
          meanEffects: [],
        });
        continue;
      }
      const before = unitMeans(kept, clean, m);
      const after = unitMeans(kept, perturbed, m);
      const agreement = rankAgreement(before, after, m, { seed, resamples, topK, stream: stream++ });
      const sigBefore = significant(before, kept.length);
      const sigAfter = significant(after, kept.length);
      const nBefore = sigBefore.filter(Boolean).length;
      const both = sigBefore.filter((s, j) => s && sigAfter[j]).length;
      directions.push({
        direction,
        units: kept.length,
        agreement,
        significantBefore: names(sigBefore),
        significantAfter: names(sigAfter),
        significantRetained: nBefore === 0 ? null : both / nBefore,
        meanEffects: Array.from(columnMeans(after, m, Uint32Array.from(kept.keys()))),
      });
    }
    perturbations.push({ ...base, message: null, directions });
    options.onProgress?.(index + 2, total, label);
  }

  const resampling: ResamplingStability[] = [];
  for (const [d, [direction, units]] of [...allUnits].entries()) {
    const n = units.length;
    const u = unitMeans(units, clean, m);
    const rng = new Rng(seed, STABILITY_STREAMS.resampling + d);
    const inTop: Record<string, number[]> = Object.fromEntries(
      topK.map((k) => [String(k), new Array(m).fill(0)]),
    );
    const sig = new Array<number>(m).fill(0);
    const idx = new Uint32Array(n);
    for (let b = 0; b < draws; b++) {
      rng.fillInts(idx, n);
      const means = columnMeans(u, m, idx);
      const order = Array.from({ length: m }, (_, j) => j).sort((a, c) => means[c] - means[a] || a - c);
      for (const k of topK) for (const j of order.slice(0, k)) inTop[String(k)][j] += 1;
      significant(u, n, idx).forEach((s, j) => {
        if (s) sig[j] += 1;
      });
    }
    // Counts divided once at the end: adding 1/draws a thousand times overshoots 1 (1.0000000000000007).
    const share = (counts: number[]) => counts.map((c) => c / draws);
    resampling.push({
      direction,
      draws,
      units: n,
      topKProbability: Object.fromEntries(Object.entries(inTop).map(([k, v]) => [k, share(v)])),
      significantProbability: share(sig),
    });
  }

  return {
    metric,
    heads,
    accuracy,
    unperturbed,
    perturbations,
    resampling,
    settings: { seed, maxAccuracyDrop: maxDrop, correction, alpha, topK, resamples, resamplingDraws: draws },
    seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
    notes: [
      "ranking = mean effect per head over units (one unit = one target input per direction), head mode z",
      "each perturbed ranking is compared with the unperturbed one on the same surviving units; CIs: BCa bootstrap over units",
      "significant = one-sample t-test per head, corrected across heads",
      "accuracy is on every labelled input of the data given (the TEST split by default), perturbed the same way",
    ],
  };
}
