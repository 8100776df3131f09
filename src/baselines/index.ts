export {
  ATTENTION_SCORES,
  type AttentionScore,
  type AttentionScores,
  attentionScores,
} from "./attention-scores.js";
export { type AtpEstimates, type AtpOptions, attributionPatching } from "./attribution-patching.js";
export { gaussLegendre } from "./gauss-legendre.js";
export {
  type IntegratedGradientsOptions,
  type IntegratedGradientsResult,
  integratedGradients,
} from "./integrated-gradients.js";
export type { BaselineMetric } from "./pair-rows.js";
export { type RandomNullOptions, type RandomNullResult, randomPatchingNull } from "./random-null.js";
export {
  type AtpCheck,
  type BaselineAgreement,
  type BaselineOptions,
  type BaselineResult,
  type FlaggedComponent,
  runBaselines,
} from "./run-baselines.js";
export { gradientTimesInput } from "./saliency.js";
