/**
 * The study's optional robustness stages: stability of the head ranking (src/stability) and the
 * baselines against exact patching (src/baselines), each turned into its typed results.json
 * section. Nothing here is timed: the sections must be byte-identical for the same seed.
 */

import { runBaselines } from "../baselines/run-baselines.js";
import type { HookedTST } from "../model/hooked-tst.js";
import type { ModelInputs } from "../patching/inputs.js";
import type { Pair } from "../patching/types.js";
import { DEFAULT_PERTURBATIONS, parsePerturbations } from "../stability/perturb.js";
import type { RankAgreement } from "../stability/rank-agreement.js";
import { runStability } from "../stability/run-stability.js";
import { columnMeans, unitMeans, unitsByDirection } from "../stability/units.js";
import type { StudyConfig } from "./config.js";
import type { AgreementStats, BaselinesSection, Estimate, StabilitySection } from "./results-schema.js";

/** The quick study's reduced grids: one perturbation × one strength, few null draws, few IG nodes. */
const QUICK = {
  perturbations: ["gaussian:0.1"],
  resamplingDraws: 100,
  igSteps: 8,
  igTolerance: 0,
  nullDraws: 5,
};
const FULL = {
  perturbations: DEFAULT_PERTURBATIONS,
  resamplingDraws: 1000,
  igSteps: 64,
  igTolerance: 0.01,
  nullDraws: 49,
};

/** Heads whose null distribution results.json keeps for fig5 (the largest observed effects). */
const NULL_HISTOGRAM_HEADS = 4;

/** Rank-agreement bootstrap resamples: the plan's count, capped (a CI of ρ needs no 10 000). */
const AGREEMENT_RESAMPLES_CAP = 2000;

function grid(config: StudyConfig) {
  return config.quick ? QUICK : FULL;
}

/** Stability and baselines measure ΔP(true) or the logit difference; other plan metrics use ΔP(true). */
function robustnessMetric(config: StudyConfig): "dp_true" | "logit_diff" {
  return config.metric === "logit_diff" ? "logit_diff" : "dp_true";
}

function metricNote(config: StudyConfig): string[] {
  return config.metric === robustnessMetric(config)
    ? []
    : [
        `rankings use ΔP(true): stability and baselines are defined for ΔP(true) and the logit difference, not ${config.metric}`,
      ];
}

const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);

function estimate(e: RankAgreement["spearman"], method: string): Estimate {
  return {
    estimate: finite(e.estimate),
    ci: {
      low: finite(e.ci.low),
      high: finite(e.ci.high),
      level: e.ci.level,
      // The interval's own notes (a basic fallback, an estimate outside its interval) travel with it.
      method: e.notes.length > 0 ? `${method}; ${e.notes.join("; ")}` : method,
    },
  };
}

function agreementStats(a: RankAgreement): AgreementStats {
  return {
    units: a.units,
    spearman: estimate(a.spearman, a.method),
    kendall: estimate(a.kendall, a.method),
    top_k_jaccard: Object.fromEntries(Object.entries(a.topKJaccard).filter(([, v]) => Number.isFinite(v))),
  };
}

/** Rows per runtime call under a memory budget (absent: each method's default). */
export interface RuntimeSizes {
  /** Forward (patched) runs per call. */
  batchRows?: number;
  /** Rows per call of the backward graphs (attribution patching, integrated gradients, saliency). */
  gradientRows?: number;
}

/**
 * The stability section: the head ranking under the configured perturbation grid and under
 * bootstrap resampling of the units, against the unperturbed ranking.
 *
 * @example
 * const section = await stabilitySection(model, inputs, pairs, quickScale(defaultStudyConfig()));
 */
export async function stabilitySection(
  model: HookedTST,
  inputs: ModelInputs,
  pairs: readonly Pair[],
  config: StudyConfig,
  sizes: RuntimeSizes = {},
): Promise<StabilitySection> {
  const g = grid(config);
  const result = await runStability(model, inputs, pairs, {
    perturbations: parsePerturbations(g.perturbations),
    metric: robustnessMetric(config),
    seed: config.seeds.stats,
    correction: config.correction,
    alpha: config.alpha,
    resamples: Math.min(config.bootstrapResamples, AGREEMENT_RESAMPLES_CAP),
    resamplingDraws: g.resamplingDraws,
    batchRows: sizes.batchRows,
  });
  return {
    method: `the head sweep re-run on perturbed inputs (${g.perturbations.join("; ")}), its ranking compared with the unperturbed one over the surviving units; and ${g.resamplingDraws} bootstrap resamples of the units`,
    accuracy: result.accuracy,
    max_accuracy_drop: result.settings.maxAccuracyDrop,
    heads: [...result.heads],
    perturbations: result.perturbations.map((p) => ({
      kind: p.perturbation.kind,
      strength: p.perturbation.strength,
      label: p.label,
      accuracy: p.accuracy,
      accuracy_drop: p.accuracyDrop,
      flagged: p.flagged,
      pairs_surviving: p.pairsSurviving,
      pairs_total: p.pairsTotal,
      message: p.message,
      directions: p.directions.map((d) => ({
        direction: d.direction,
        agreement: d.agreement === null ? null : agreementStats(d.agreement),
        significant_retained: d.significantRetained,
      })),
    })),
    resampling: result.resampling.map((r) => ({
      direction: r.direction,
      draws: r.draws,
      top_k_probability: Object.fromEntries(Object.entries(r.topKProbability).map(([k, v]) => [k, [...v]])),
      significant_probability: [...r.significantProbability],
    })),
    notes: [...metricNote(config), ...result.notes],
  };
}

/**
 * The baselines section: attention statistics, attribution patching and integrated gradients
 * against exact patching per head, and the random-patching null.
 *
 * @example
 * const section = await baselinesSection(model, inputs, pairs, quickScale(defaultStudyConfig()));
 */
export async function baselinesSection(
  model: HookedTST,
  inputs: ModelInputs,
  pairs: readonly Pair[],
  config: StudyConfig,
  sizes: RuntimeSizes = {},
): Promise<BaselinesSection> {
  const g = grid(config);
  const r = await runBaselines(model, inputs, pairs, {
    metric: robustnessMetric(config),
    igSteps: g.igSteps,
    igTolerance: g.igTolerance,
    nullDraws: g.nullDraws,
    resamples: Math.min(config.bootstrapResamples, AGREEMENT_RESAMPLES_CAP),
    seed: config.seeds.stats,
    batchRows: sizes.batchRows,
    gradientRows: sizes.gradientRows,
  });
  const m = r.names.heads.length;
  const flat = (rows: readonly number[][]) => Float64Array.from(rows.flat());
  const perHead = [...unitsByDirection(pairs)].flatMap(([direction, units]) => {
    const mean = (rows: readonly number[][]) =>
      columnMeans(unitMeans(units, flat(rows), m), m, Uint32Array.from(units.keys()));
    const [exact, atp, ig] = [mean(r.exact.heads), mean(r.atp.heads), mean(r.integratedGradients.heads)];
    return r.names.heads.map((name, j) => ({
      direction,
      name,
      exact: exact[j],
      atp: atp[j],
      integrated_gradients: ig[j],
    }));
  });
  const nul = r.randomNull;
  const largest =
    nul === null
      ? []
      : r.names.heads
          .map((_, j) => j)
          .sort((a, b) => nul.observed[b] - nul.observed[a] || a - b)
          .slice(0, NULL_HISTOGRAM_HEADS);
  return {
    method: `on the study's pairs: attention statistics, attribution patching (gradient × activation difference at hook_z), ${r.integratedGradients.method}, and a random-patching null (${g.nullDraws} draws per pair), each compared with exact patching`,
    heads: [...r.names.heads],
    agreement: r.agreement.map((a) => ({
      baseline: a.baseline,
      direction: a.direction,
      ...agreementStats(a),
    })),
    per_head: perHead,
    atp_check: r.atpCheck.map((c) => ({
      kind: c.kind,
      pooled_spearman: finite(c.pooledSpearman),
      worst_absolute_error: { ...c.worstAbsoluteError },
      flagged: c.flagged.map((f) => ({ ...f })),
    })),
    integrated_gradients: {
      steps: r.integratedGradients.maxStepsUsed,
      worst_relative_error: r.integratedGradients.worstRelativeError,
      worst_absolute_error: r.integratedGradients.worstAbsoluteError,
      method: r.integratedGradients.method,
    },
    random_null:
      nul === null
        ? null
        : {
            draws: nul.draws,
            method: nul.method,
            heads: r.names.heads.map((name, j) => ({ name, observed: nul.observed[j], p: nul.pvalues[j] })),
            histograms: largest.map((j) => ({
              name: r.names.heads[j],
              observed: nul.observed[j],
              null_means: [...nul.nullMeans[j]],
            })),
          },
    notes: [...metricNote(config), ...r.notes],
  };
}
