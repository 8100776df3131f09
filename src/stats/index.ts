/**
 * tspatch statistics: every number checked against scipy / statsmodels (test/stats) and the
 * methods' error rates shown by simulation (src/stats/calibration.ts).
 *
 * @example
 * import { stats } from "tspatch";
 * const t = stats.ttest1samp(effects);
 * const [ci] = stats.bootstrapMeans([effects], { seed: 0 });
 * const adj = stats.adjustPValues(pvalues, "bh");
 */

// Rng lives in random/ (training and patching draw from it too); kept here for `stats.Rng` users.
export { Rng } from "../random/rng.js";
export {
  type AnalyzeOptions,
  analyzeEffects,
  analyzeEffectsAsync,
  type EffectStats,
  type EffectsReport,
  TEST_ESTIMAND,
  type TestName,
} from "./analyze-effects.js";
export {
  type BootstrapMethod,
  type BootstrapOptions,
  bootstrap,
  bootstrapInterval,
  bootstrapMeans,
  bootstrapPaired,
  bootstrapUnits,
  clusterBootstrapMean,
  clusterBootstrapMeans,
  jackknifeAcceleration,
} from "./bootstrap.js";
export {
  type CalibrationOptions,
  type CalibrationReport,
  formatCalibrationTable,
  runCalibration,
} from "./calibration.js";
export { type CorrelationResult, kendallTauB, pearson, spearman, topKJaccard } from "./correlation.js";
export {
  type CrossedEffectsResult,
  type CrossedOptions,
  crossedRandomEffects,
} from "./crossed-effects.js";
export {
  type Descriptives,
  describe,
  mean,
  median,
  quantile,
  quantileSorted,
  type Sample,
  sd,
  se,
  variance,
} from "./descriptives.js";
export {
  nctCdf,
  nctQuantile,
  nctSf,
  normalCdf,
  normalQuantile,
  normalSf,
  tCdf,
  tPdf,
  tQuantile,
  tSf,
} from "./distributions.js";
export {
  cohenD,
  cohenDz,
  dzBootstrapInterval,
  dzConfidenceInterval,
  hedgesCorrection,
  hedgesG,
  hedgesGz,
  pooledSd,
  type TwoGroupEffectSize,
} from "./effect-size.js";
export { type OneSidedT, type TostResult, tostMean } from "./equivalence.js";
export { type FcrInput, type FcrResult, fcrIntervals } from "./fcr.js";
export { type ClassEstimate, classHeterogeneity, type HeterogeneityResult } from "./heterogeneity.js";
export {
  componentTree,
  type HierarchicalDecision,
  type HierarchicalResult,
  type HypothesisNode,
  hierarchicalFdr,
  simes,
} from "./hierarchical.js";
export {
  classifyImportance,
  DEFAULT_SESOI,
  type EffectMetricName,
  IMPORTANCE_STATUSES,
  type ImportanceInput,
  type ImportanceResult,
  type ImportanceStatus,
} from "./importance.js";
export {
  type FdrSimulation,
  simulateFcr,
  simulateTreeFdr,
  type TreeScenario,
  tostSizeAtBound,
} from "./inference-calibration.js";
export {
  adjustedAlpha,
  adjustPValues,
  type Correction,
  type MultipleTestResult,
  type QValueResult,
  storeyQValues,
} from "./multiplicity.js";
export { type PermutationOptions, type PermutationResult, signFlipTest } from "./permutation.js";
export { minimumDetectableEffect, type PowerOptions, tTestPower } from "./power.js";
export { rankAverage } from "./rank.js";
export { type AnalysisVariant, type RankingAgreementRow, rankingAgreement } from "./ranking-agreement.js";
export type {
  Alternative,
  BootstrapResult,
  ConfidenceInterval,
  EstimateResult,
  TestResult,
} from "./results.js";
export { findRoot } from "./root.js";
export { type TTestOptions, type TTestResult, tConfidenceInterval, tPValue, ttest1samp } from "./ttest.js";
export { parseUnitTable, type UnitTableColumn } from "./unit-table.js";
export {
  EFFECT_METRICS,
  isLongEffectsHeader,
  type LongEffectRow,
  parseLongEffects,
  type UnitChoice,
  type UnitTable,
  unitColumns,
  unitTable,
} from "./units.js";
export { type WilcoxonOptions, type WilcoxonResult, wilcoxon, wilcoxonNullDistribution } from "./wilcoxon.js";
