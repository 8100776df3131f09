/**
 * The study's sensitivity stage: the head analysis under every other metric and pair strategy,
 * beside the plan's, never in its place. Zhang & Nanda [1] showed that the metric and the
 * corruption method change which components look important; this stage measures how much they
 * change it here. Per direction, each variant (pair strategy × metric) gets the plan's test,
 * correction and unit; its counts (significant, important, negligible, inconclusive) and top heads
 * are reported, and the head rankings of every two variants are compared (Spearman ρ of |mean|
 * with a bootstrap CI over units, stats/ranking-agreement.ts: the metrics of one strategy share
 * their units and are resampled together; KL, a distance to the source, is ranked by −mean).
 *
 * The plan's strategy reuses the study's head sweep (all its metrics are in every row); the other
 * strategies get new pairs from the study's pair builders and a head sweep. Their targets are
 * drawn up to {@link TARGETS_PER_CLASS} per class (the study's `--max-targets-per-class` when
 * given), so that each added sweep costs about what the study's own does rather than one sweep
 * per correctly classified input. A strategy that finds no pairs is a variant with a message.
 *
 * References:
 * [1] F. Zhang, N. Nanda, "Towards best practices of activation patching in language models:
 *     metrics and methods", ICLR 2024 (arXiv:2309.16042).
 */

import { InputError } from "../errors.js";
import type { HookedTST } from "../model/hooked-tst.js";
import { buildPairs } from "../patching/build-pairs.js";
import { type EffectLine, effectsLongCsv, parseEffectsLong } from "../patching/effects-long.js";
import type { ModelInputs } from "../patching/inputs.js";
import { makePairs } from "../patching/pairs.js";
import { presetComponents } from "../patching/presets.js";
import { sweep } from "../patching/sweep.js";
import type { Direction, Pair } from "../patching/types.js";
import { analyzeEffectsAsync } from "../stats/analyze-effects.js";
import { DEFAULT_SESOI, type EffectMetricName } from "../stats/importance.js";
import { type AnalysisVariant, rankingAgreement } from "../stats/ranking-agreement.js";
import { TEST_NAMES, topNames, unitOf } from "./analysis.js";
import { METRIC_COLUMNS, type StudyConfig } from "./config.js";
import type { Progress } from "./pipeline.js";
import {
  type AnalysisPlan,
  SENSITIVITY_STRATEGIES,
  type SensitivitySection,
  type SensitivityStrategy,
  type SensitivityVariant,
  STUDY_METRICS,
  type StudyMetric,
} from "./results-schema.js";

/** Targets per class of the added strategies when the study takes all (see the file comment). */
export const TARGETS_PER_CLASS = 5;

const CROSS_CLASS_DENOISE_ONLY = "cross-class pairs are ordered (A→B and B→A are both sampled): denoise only";

/**
 * The variants report counts and rankings, not CIs: their bootstrap runs at this size (the CIs are
 * discarded), unless the plan's test is the sign-flip test, whose p-values need the plan's count.
 */
const UNREPORTED_CI_RESAMPLES = 100;

/** Resamples of ρ's bootstrap (and of a sign-flip test): the plan's count, capped. */
const RESAMPLES_CAP = 2000;

/** Pairs per sweep chunk (the study's). */
const PAIRS_PER_CHUNK = 16;

const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);

/** One strategy's pairs and head effects (the long table's lines), or why it has none. */
export interface SensitivityDesign {
  strategy: SensitivityStrategy;
  pairs: readonly Pair[];
  lines: readonly EffectLine[];
  message: string | null;
}

export interface SensitivityContext {
  /** The study's pairs and its head sweep's lines (null: the study swept no heads). */
  studyPairs: readonly Pair[];
  studyHeadLines: readonly EffectLine[] | null;
  /** The evaluation stage's predicted class per row (decides who is misclassified). */
  predicted: readonly number[];
  batchRows: number;
  signal?: AbortSignal;
  progress?: (stage: string, unit: string) => Progress;
}

/**
 * The sensitivity section of results.json for a study's plan.
 *
 * @example
 * const section = await sensitivitySection(model, inputs, config, plan, context);
 * section.agreement.filter((a) => a.direction === "denoise");
 */
export async function sensitivitySection(
  model: HookedTST,
  inputs: ModelInputs,
  config: StudyConfig,
  plan: AnalysisPlan,
  context: SensitivityContext,
): Promise<SensitivitySection> {
  const designs: SensitivityDesign[] = [];
  for (const strategy of [config.strategy, ...SENSITIVITY_STRATEGIES.filter((s) => s !== config.strategy)]) {
    designs.push(await strategyDesign(strategy, model, inputs, config, context));
  }
  return sensitivityFromDesigns(designs, config, plan, context.signal);
}

/**
 * The section from the designs' head effects: per direction and variant (design × metric) the
 * plan's test, and the rank agreement of every two variants. The first design is the plan's.
 *
 * @example
 * const section = await sensitivityFromDesigns([{ strategy: "misclassified", pairs, lines, message: null }], config, plan);
 */
export async function sensitivityFromDesigns(
  designs: readonly SensitivityDesign[],
  config: StudyConfig,
  plan: AnalysisPlan,
  signal?: AbortSignal,
): Promise<SensitivitySection> {
  const directions: Direction[] = config.direction === "both" ? ["denoise", "noise"] : [config.direction];
  const planStrategy = config.strategy;
  const resamples = Math.min(plan.bootstrap_resamples, RESAMPLES_CAP);
  const variants: SensitivityVariant[] = [];
  const agreement: SensitivitySection["agreement"] = [];
  for (const direction of directions) {
    const ranked: AnalysisVariant[] = [];
    for (const design of designs) {
      const pairs = design.pairs.filter((p) => p.direction === direction);
      const message =
        design.message ??
        (pairs.length === 0
          ? design.strategy === "cross-class"
            ? CROSS_CLASS_DENOISE_ONLY
            : `the ${design.strategy} strategy found no ${direction} pairs`
          : null);
      const units = new Set(pairs.map((p) => unitOf(direction, p))).size;
      for (const metric of STUDY_METRICS) {
        const base = {
          name: variantName(design.strategy, metric),
          direction,
          strategy: design.strategy,
          metric,
          plan: design.strategy === planStrategy && metric === plan.metric,
          pairs: pairs.length,
          units,
          sesoi: sesoiOf(metric, plan),
        };
        const table = message === null ? unitMatrix(design.lines, direction, METRIC_COLUMNS[metric]) : null;
        // The plan's family and test: every head with at least 2 units of a defined value.
        const columns = (table?.names ?? [])
          .map((name, j) => ({
            name,
            values: Float64Array.from((table as UnitMatrix).values[j].filter((v) => !Number.isNaN(v))),
          }))
          .filter((c) => c.values.length >= 2);
        if (table === null || columns.length === 0) {
          variants.push({
            ...base,
            message: message ?? `fewer than 2 units with a defined ${metric} for every head`,
            counts: null,
            top: [],
          });
          continue;
        }
        const report = await analyzeEffectsAsync(columns, {
          alpha: plan.alpha,
          correction: plan.correction,
          test: TEST_NAMES[plan.test],
          resamples: plan.test === "sign-flip" ? resamples : UNREPORTED_CI_RESAMPLES,
          seed: config.seeds.stats,
          sesoi: base.sesoi,
          signal,
        });
        const c = report.counts;
        variants.push({
          ...base,
          message: null,
          counts: {
            total: c.total,
            significant: c.corrected,
            important: c.important,
            negligible: c.negligible,
            inconclusive: c.inconclusive,
          },
          top:
            metric === "kl"
              ? closestToSource(report.tests)
              : topNames(report.tests.map((t) => ({ name: t.name, mean: t.mean }))),
        });
        ranked.push({
          name: base.name,
          design: design.strategy,
          components: table.names,
          values: table.values,
          rank: metric === "kl" ? "lower" : "magnitude",
        });
      }
    }
    for (const row of rankingAgreement(ranked, { resamples, seed: config.seeds.stats })) {
      agreement.push({
        direction,
        a: row.a,
        b: row.b,
        components: row.components,
        rho: {
          estimate: finite(row.rho),
          ci: {
            low: finite(row.ciLow),
            high: finite(row.ciHigh),
            level: row.level,
            method: `${row.method} bootstrap over units, ${resamples} resamples (${row.resampling === "joint" ? "same pairs: units resampled together" : "different pairs: resampled independently"})${row.notes.length > 0 ? `; ${row.notes.join("; ")}` : ""}`,
          },
        },
        resampling: row.resampling,
      });
    }
  }
  const planTargets = config.maxTargetsPerClass ?? TARGETS_PER_CLASS;
  return {
    method: `the plan's head analysis (${plan.test} test, ${plan.correction} over each direction's heads, unit and SESOI rule as planned) under each metric (${STUDY_METRICS.join(", ")}) and each pair strategy (${SENSITIVITY_STRATEGIES.join(", ")}); head rankings (by |mean|; KL by the smallest mean) compared between every two variants by Spearman ρ with a bootstrap CI over units`,
    plan_variant: variantName(planStrategy, plan.metric),
    metrics: [...STUDY_METRICS],
    strategies: designs.map((d) => d.strategy),
    variants,
    agreement,
    notes: [
      `the ${planStrategy} variants reuse the study's head sweep; the other strategies' pairs come from the study's pair builders with ${config.maxSourcesPerTarget} sources per target and up to ${planTargets} targets per class, same seed`,
      `SESOI: the plan's for its metric, each other metric's default (${STUDY_METRICS.map((m) => `${m} ${sesoiOf(m, { ...plan, sesoi: null })}`).join(", ")})`,
      `ρ's CIs use ${resamples} bootstrap resamples (the plan's count, capped)${plan.test === "sign-flip" ? ", as do the variants' sign-flip tests" : ""}; the plan's own numbers, with CIs, are in Results`,
      "KL is KL(P_source ‖ P_patched), the distance to the source left after patching: its heads are ranked by the smallest mean (top heads: closest to the source), and since it is never negative its test of zero rejects for almost every head: compare its ranking, not its counts",
      "these variants are a sensitivity analysis: the plan's analysis, fixed before any effect was seen, stays the study's result",
    ],
  };
}

/**
 * KL(P_source ‖ P_patched) is a distance left after patching, not a change: the heads that matter
 * bring the output closest to the source, so they have the smallest mean (up to five, smallest first).
 */
function closestToSource(tests: readonly { name: string; mean: number }[]): string[] {
  return tests
    .map((t, index) => ({ ...t, index }))
    .filter((t) => Number.isFinite(t.mean))
    .sort((a, b) => a.mean - b.mean || a.index - b.index)
    .slice(0, 5)
    .map((t) => t.name);
}

function variantName(strategy: string, metric: StudyMetric): string {
  return `${strategy} · ${metric}`;
}

function sesoiOf(metric: StudyMetric, plan: AnalysisPlan): number {
  if (metric === plan.metric && plan.sesoi !== null) return plan.sesoi;
  return DEFAULT_SESOI[METRIC_COLUMNS[metric] as EffectMetricName];
}

/** One strategy's pairs and head effects: the study's own, or built and swept here. */
async function strategyDesign(
  strategy: SensitivityStrategy,
  model: HookedTST,
  inputs: ModelInputs,
  config: StudyConfig,
  context: SensitivityContext,
): Promise<SensitivityDesign> {
  if (strategy === config.strategy && context.studyHeadLines !== null) {
    return { strategy, pairs: context.studyPairs, lines: context.studyHeadLines, message: null };
  }
  const direction =
    strategy === "cross-class" ? (config.direction === "noise" ? null : "denoise") : config.direction;
  if (direction === null) {
    return {
      strategy,
      pairs: [],
      lines: [],
      message: CROSS_CLASS_DENOISE_ONLY,
    };
  }
  const options = {
    direction,
    seed: config.seeds.pairs,
    maxSourcesPerTarget: config.maxSourcesPerTarget,
    maxTargetsPerClass:
      strategy === config.strategy
        ? (config.maxTargetsPerClass ?? undefined)
        : (config.maxTargetsPerClass ?? TARGETS_PER_CLASS),
  };
  let built: { inputs: ModelInputs; pairs: readonly Pair[] };
  try {
    if (strategy === "noised") {
      const made = await buildPairs(model, inputs, { ...options, strategy, snrDb: config.snrDb });
      built = { inputs: made.inputs, pairs: made.pairs.pairs };
    } else {
      const rows = { trueClass: inputs.trueClass, predicted: context.predicted };
      built = { inputs, pairs: makePairs(strategy, rows, options).pairs };
    }
  } catch (error) {
    // A strategy without pairs (e.g. no misclassified input) is a finding, not a failed study.
    if (!(error instanceof InputError)) throw error;
    const message = error.message.split("\n")[0];
    return { strategy, pairs: [], lines: [], message: message.replace(` (${error.field})`, "") };
  }
  if (built.pairs.length === 0) {
    return { strategy, pairs: [], lines: [], message: `the ${strategy} strategy found no pairs` };
  }
  const bar = context.progress?.(`sensitivity ${strategy}`, "pairs");
  try {
    const result = await sweep(model, built.inputs, built.pairs, {
      components: presetComponents(model.config, "heads", config.headMode),
      recoveryBasis: strategy === "cross-class" ? "logit_diff" : "p_true",
      pairsPerBatch: PAIRS_PER_CHUNK,
      batchRows: context.batchRows,
      signal: context.signal,
      onProgress: bar,
    });
    // Through the effects table's text, so the lines are exactly what a study's sweep stage reads back.
    const text = effectsLongCsv(result.rows, built.inputs.labelMap);
    return {
      strategy,
      pairs: built.pairs,
      lines: parseEffectsLong(text, `sensitivity ${strategy}`),
      message: null,
    };
  } finally {
    bar?.finish();
  }
}

export interface UnitMatrix {
  /** Unit ids (input rows), ascending. */
  units: number[];
  /** Heads (L{layer}H{head}) in the order of the lines. */
  names: string[];
  /** values[head][unit]; NaN where the unit has no defined value. */
  values: Float64Array[];
}

/**
 * A direction's head effects as a unit table: the units (the plan's: the misclassified input),
 * one column per head, each unit's mean over its pairs; NaN where a unit has no defined value.
 */
export function unitMatrix(lines: readonly EffectLine[], direction: Direction, metric: string): UnitMatrix {
  const unitIndex = new Map<number, number>();
  const nameIndex = new Map<string, number>();
  for (const line of lines) {
    if (line.direction !== direction) continue;
    const unit = unitOf(direction, line);
    if (!unitIndex.has(unit)) unitIndex.set(unit, unitIndex.size);
    const name = `L${line.layer}H${line.head}`;
    if (!nameIndex.has(name)) nameIndex.set(name, nameIndex.size);
  }
  const units = [...unitIndex.keys()].sort((a, b) => a - b);
  units.forEach((u, i) => {
    unitIndex.set(u, i);
  });
  const names = [...nameIndex.keys()];
  const sums = names.map(() => new Float64Array(units.length));
  const counts = names.map(() => new Float64Array(units.length));
  for (const line of lines) {
    const value = line.metrics[metric];
    if (line.direction !== direction || value === null || value === undefined) continue;
    const j = nameIndex.get(`L${line.layer}H${line.head}`) as number;
    const u = unitIndex.get(unitOf(direction, line)) as number;
    sums[j][u] += value;
    counts[j][u]++;
  }
  const values = sums.map((s, j) => s.map((v, u) => (counts[j][u] === 0 ? Number.NaN : v / counts[j][u])));
  return { units, names, values };
}
