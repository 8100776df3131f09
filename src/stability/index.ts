export {
  DEFAULT_PERTURBATIONS,
  PERTURB_FORMS,
  PERTURBATION_KINDS,
  type Perturbation,
  type PerturbationKind,
  parsePerturbations,
  perturbationLabel,
  perturbRows,
  STRENGTH_RANGES,
} from "./perturb.js";
export {
  type IntervalEstimate,
  type RankAgreement,
  type RankAgreementOptions,
  rankAgreement,
} from "./rank-agreement.js";
export {
  type DirectionStability,
  type PerturbationStability,
  type ResamplingStability,
  runStability,
  type StabilityMetric,
  type StabilityOptions,
  type StabilityResult,
} from "./run-stability.js";
export {
  type SeedModel,
  type SeedProfile,
  type SeedStabilityResult,
  seedStability,
} from "./seed-stability.js";
export { type Unit, unitMeans, unitsByDirection } from "./units.js";
