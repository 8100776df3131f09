/**
 * All baselines on the same pairs as exact patching, and how far each agrees with it: the
 * `baselines` study stage and `tspatch baselines`.
 */
import { inputError } from "../errors.js";
import { tokenCount } from "../model/config.js";
import type { HookedTST } from "../model/hooked-tst.js";
import type { InputTable } from "../patching/engine.js";
import { presetComponents } from "../patching/presets.js";
import { sweep } from "../patching/sweep.js";
import type { Component, Direction, Pair } from "../patching/types.js";
import { type RankAgreement, rankAgreement } from "../stability/rank-agreement.js";
import { unitMeans, unitsByDirection } from "../stability/units.js";
import { spearman } from "../stats/correlation.js";
import { ATTENTION_SCORES, attentionScores } from "./attention-scores.js";
import { type AtpEstimates, attributionPatching } from "./attribution-patching.js";
import { integratedGradients } from "./integrated-gradients.js";
import { type BaselineMetric, exactEffect } from "./pair-rows.js";
import { type RandomNullResult, randomPatchingNull } from "./random-null.js";
import { gradientTimesInput } from "./saliency.js";
import { BASELINE_STREAMS } from "./streams.js";

export interface BaselineOptions {
  metric?: BaselineMetric;
  /** Integrated-gradients quadrature nodes of the first pass (default 64; doubled per pair and layer until complete within 1%, cap 512). */
  igSteps?: number;
  /** Integrated-gradients completeness tolerance (default 0.01; 0 = one pass with `igSteps` nodes). */
  igTolerance?: number;
  /** Random-patching null draws per pair (default 49, smallest p 0.02; 0 = skip the null). */
  nullDraws?: number;
  /** Also compare AtP with exact patching per head × position (default false: L·H·S runs per pair). */
  positions?: boolean;
  /** |mean exact − mean AtP| above which a component is flagged (default 0.05, metric units). */
  atpTolerance?: number;
  /** Bootstrap resamples for agreement CIs (default 2000). */
  resamples?: number;
  seed?: number;
  /** Patched (forward) runs per runtime call (default 256). */
  batchRows?: number;
  /**
   * Rows per call of the backward graphs (attribution patching, integrated gradients, saliency),
   * which hold far more per row than a forward run: a memory budget's `gradientRows`. Default:
   * each method's own (AtP 128 pairs, IG `batchRows`, saliency 64).
   */
  gradientRows?: number;
  signal?: AbortSignal;
  onStage?: (stage: string) => void;
}

/** One baseline's agreement with exact patching in one direction. */
export interface BaselineAgreement extends RankAgreement {
  readonly baseline: string;
  readonly direction: Direction;
}

/** A component AtP gets wrong (mean over one direction's units). */
export interface FlaggedComponent {
  readonly component: string;
  readonly direction: Direction;
  readonly exact: number;
  readonly atp: number;
  readonly reason: "large error" | "sign flip" | "large error, sign flip";
}

/** AtP against exact patching for one kind of component. */
export interface AtpCheck {
  readonly kind: "heads" | "layers" | "mlps" | "head-positions";
  /** Spearman ρ of per-component means (per direction, with bootstrap CI over units). */
  readonly agreement: readonly BaselineAgreement[];
  /** Spearman ρ over every (pair, component) value. */
  readonly pooledSpearman: number;
  /** Largest |exact − AtP| over pairs and components, and where. */
  readonly worstAbsoluteError: { readonly value: number; readonly component: string; readonly pair: number };
  readonly flagged: readonly FlaggedComponent[];
}

export interface BaselineResult {
  readonly metric: BaselineMetric;
  readonly headMode: "z";
  readonly pairs: readonly Pair[];
  /** Component names: heads `L{l}H{h}`, layers `attn{l}`, MLPs `mlp{l}`. */
  readonly names: {
    readonly heads: readonly string[];
    readonly layers: readonly string[];
    readonly mlps: readonly string[];
  };
  /** Per pair (rows) × component: exact patching. */
  readonly exact: {
    readonly heads: number[][];
    readonly layers: number[][];
    readonly mlps: number[][];
    readonly headPositions: number[][] | null;
  };
  readonly attention: Record<(typeof ATTENTION_SCORES)[number], number[][]>;
  readonly atp: {
    readonly heads: number[][];
    readonly layers: number[][];
    readonly mlps: number[][];
    readonly headPositions: number[][] | null;
  };
  readonly integratedGradients: {
    readonly heads: number[][];
    /** Nodes of the first pass; `stepsHistogram` counts the (pair, layer) integrals per node count. */
    readonly steps: number;
    readonly maxStepsUsed: number;
    readonly stepsHistogram: Readonly<Record<number, number>>;
    readonly tolerance: number;
    readonly unconverged: number;
    readonly worstRelativeError: number;
    readonly worstAbsoluteError: number;
    readonly minDelta: number;
    /** Per layer and pair: Σ_h IG_h, the metric difference it should equal, the nodes used. */
    readonly completeness: readonly {
      readonly layer: number;
      readonly sum: number[];
      readonly delta: number[];
      readonly steps: number[];
    }[];
    readonly method: string;
  };
  /** Gradient × input per pair: steps × channels (row-major). */
  readonly saliency: { readonly steps: number; readonly channels: number; readonly maps: number[][] };
  readonly randomNull: RandomNullResult | null;
  /** Every head baseline against exact patching, per direction. */
  readonly agreement: readonly BaselineAgreement[];
  readonly atpCheck: readonly AtpCheck[];
  readonly seconds: Readonly<Record<string, number>>;
  readonly notes: readonly string[];
}

/**
 * Run every baseline on `pairs` and compare each with exact patching.
 *
 * @example
 * const result = await runBaselines(model, inputs, pairs, { seed: 0 });
 * result.agreement.find((a) => a.baseline === "atp" && a.direction === "denoise")?.spearman;
 */
export async function runBaselines(
  model: HookedTST,
  inputs: InputTable & { readonly trueClass: ArrayLike<number> },
  pairs: readonly Pair[],
  options: BaselineOptions = {},
): Promise<BaselineResult> {
  const { layers: L, heads: H, seqLen: S, channels: C } = model.config;
  // The gradient baselines index hook rows by time step; a model with other tokens is refused.
  if (tokenCount(model.config) !== S) {
    throw inputError("the baselines need a model whose tokens are its time steps", {
      field: "--baselines",
      hint: "use a conv or linear stem without --cls, or leave out --baselines (exact patching works on every model)",
    });
  }
  const metric = options.metric ?? "dp_true";
  const seed = options.seed ?? 0;
  const seconds: Record<string, number> = {};
  const timed = async <T>(stage: string, work: () => Promise<T>): Promise<T> => {
    options.onStage?.(stage);
    const t0 = performance.now();
    const out = await work();
    seconds[stage] = Number(((performance.now() - t0) / 1000).toFixed(3));
    return out;
  };
  const headNames = Array.from({ length: L * H }, (_, j) => `L${Math.floor(j / H)}H${j % H}`);
  const layerNames = Array.from({ length: L }, (_, l) => `attn${l}`);
  const mlpNames = Array.from({ length: L }, (_, l) => `mlp${l}`);
  const headPosNames = options.positions
    ? headNames.flatMap((name) => Array.from({ length: S }, (_, s) => `${name}@${s}`))
    : [];

  const components: Component[] = [
    ...presetComponents(model.config, "heads"),
    ...presetComponents(model.config, "layers"),
    ...presetComponents(model.config, "mlp"),
    ...(options.positions ? presetComponents(model.config, "head-pos") : []),
  ];
  const exactRun = await timed("exact", () =>
    sweep(model, inputs, pairs, { components, batchRows: options.batchRows, signal: options.signal }),
  );
  const perPair = components.length;
  const take = (from: number, count: number) => {
    const out = new Float64Array(pairs.length * count);
    for (let p = 0; p < pairs.length; p++) {
      for (let j = 0; j < count; j++)
        out[p * count + j] = exactEffect(exactRun.rows[p * perPair + from + j], metric);
    }
    return out;
  };
  const exact = {
    heads: take(0, L * H),
    layers: take(L * H, L),
    mlps: take(L * H + L, L),
    headPositions: options.positions ? take(L * H + 2 * L, L * H * S) : null,
  };
  const attention = await timed("attention", () => attentionScores(model, inputs, pairs));
  const atp = await timed("atp", () =>
    attributionPatching(model, inputs, pairs, {
      metric,
      positions: options.positions,
      pairsPerBatch: options.gradientRows,
    }),
  );
  const ig = await timed("integrated_gradients", () =>
    integratedGradients(model, inputs, pairs, {
      metric,
      steps: options.igSteps,
      tolerance: options.igTolerance,
      batchRows: options.gradientRows ?? options.batchRows,
    }),
  );
  const saliency = await timed("saliency", () =>
    gradientTimesInput(model, inputs, pairs, metric, options.gradientRows),
  );
  const draws = options.nullDraws ?? 49;
  const randomNull =
    draws > 0
      ? await timed("random_null", () =>
          randomPatchingNull(model, inputs, pairs, exact.heads, inputs.trueClass, {
            draws,
            seed,
            metric,
            batchRows: options.batchRows,
            signal: options.signal,
          }),
        )
      : null;

  const units = unitsByDirection(pairs);
  const agreeOptions = (stream: number) => ({ seed, resamples: options.resamples, stream });
  const agreement: BaselineAgreement[] = [];
  const headBaselines: [string, Float64Array][] = [
    ["atp", atp.heads],
    ["integrated_gradients", ig.heads],
    ...ATTENTION_SCORES.map((s): [string, Float64Array] => [`attention_${s}`, attention[s]]),
  ];
  let stream = BASELINE_STREAMS.agreement;
  for (const [direction, list] of units) {
    const exactUnits = unitMeans(list, exact.heads, L * H);
    for (const [name, values] of headBaselines) {
      const a = rankAgreement(exactUnits, unitMeans(list, values, L * H), L * H, agreeOptions(stream++));
      agreement.push({ ...a, baseline: name, direction });
    }
  }

  const tolerance = options.atpTolerance ?? 0.05;
  const check = (
    kind: AtpCheck["kind"],
    ex: Float64Array,
    est: Float64Array,
    names: readonly string[],
  ): AtpCheck => {
    const m = names.length;
    let worst = { value: 0, component: names[0], pair: 0 };
    for (let i = 0; i < ex.length; i++) {
      const e = Math.abs(ex[i] - est[i]);
      if (e > worst.value) worst = { value: e, component: names[i % m], pair: Math.floor(i / m) };
    }
    const agree: BaselineAgreement[] = [];
    const flagged: FlaggedComponent[] = [];
    for (const [direction, list] of units) {
      const exU = unitMeans(list, ex, m);
      const atU = unitMeans(list, est, m);
      if (m >= 2)
        agree.push({ ...rankAgreement(exU, atU, m, agreeOptions(stream++)), baseline: "atp", direction });
      const means = (u: Float64Array) =>
        Array.from({ length: m }, (_, j) => list.reduce((s, _u, i) => s + u[i * m + j], 0) / list.length);
      const me = means(exU);
      const ma = means(atU);
      me.forEach((e, j) => {
        const large = Math.abs(e - ma[j]) > tolerance;
        const flip = Math.abs(e) >= 0.01 && Math.sign(e) !== Math.sign(ma[j]);
        if (large || flip) {
          flagged.push({
            component: names[j],
            direction,
            exact: e,
            atp: ma[j],
            reason: large && flip ? "large error, sign flip" : large ? "large error" : "sign flip",
          });
        }
      });
    }
    return {
      kind,
      agreement: agree,
      pooledSpearman: spearman(ex, est).correlation,
      worstAbsoluteError: worst,
      flagged,
    };
  };
  const atpCheck = [
    check("heads", exact.heads, atp.heads, headNames),
    check("layers", exact.layers, atp.layers, layerNames),
    check("mlps", exact.mlps, atp.mlps, mlpNames),
  ];
  if (exact.headPositions !== null && atp.headPositions !== null) {
    atpCheck.push(check("head-positions", exact.headPositions, atp.headPositions, headPosNames));
  }

  const rowsOf = (values: Float64Array, m: number) =>
    Array.from({ length: values.length / m }, (_, p) => Array.from(values.subarray(p * m, (p + 1) * m)));
  const componentRows = (set: AtpEstimates) => ({
    heads: rowsOf(set.heads, L * H),
    layers: rowsOf(set.layers, L),
    mlps: rowsOf(set.mlps, L),
    headPositions: set.headPositions === null ? null : rowsOf(set.headPositions, L * H * S),
  });
  return {
    metric,
    headMode: "z",
    pairs,
    names: { heads: headNames, layers: layerNames, mlps: mlpNames },
    exact: componentRows(exact),
    attention: {
      entropy: rowsOf(attention.entropy, L * H),
      max: rowsOf(attention.max, L * H),
      variance: rowsOf(attention.variance, L * H),
    },
    atp: componentRows(atp),
    integratedGradients: {
      heads: rowsOf(ig.heads, L * H),
      steps: ig.steps,
      maxStepsUsed: ig.maxStepsUsed,
      stepsHistogram: ig.stepsHistogram,
      tolerance: ig.tolerance,
      unconverged: ig.unconverged,
      worstRelativeError: ig.worstRelativeError,
      worstAbsoluteError: ig.worstAbsoluteError,
      minDelta: ig.minDelta,
      completeness: ig.completeness.map((c) => ({
        layer: c.layer,
        sum: Array.from(c.sum),
        delta: Array.from(c.delta),
        steps: Array.from(c.steps),
      })),
      method: ig.method,
    },
    saliency: { steps: S, channels: C, maps: rowsOf(saliency, S * C) },
    randomNull,
    agreement,
    atpCheck,
    seconds,
    notes: [
      "exact patching and every baseline use head mode z (true per-head, before W_O)",
      "agreement: Spearman ρ / Kendall τ-b of per-head means over units (one unit = one target input per direction), BCa bootstrap CI over units",
      "attention statistics: mean over real queries of entropy (nats), max weight and variance of each query's attention over real keys (definitions in src/baselines/attention-scores.ts)",
    ],
  };
}
