export { type BuildPairsOptions, buildPairs, predict } from "./build-pairs.js";
export { EFFECTS_LONG_COLUMNS, effectsLongCsv } from "./effects-long.js";
export {
  CachedRows,
  cacheRows,
  type EngineOptions,
  type InputTable,
  type PatchedRun,
  runPatched,
  runPatchedWithCache,
} from "./engine.js";
export { forPatching, type ModelInputs, modelInputs } from "./inputs.js";
export {
  type EffectMetrics,
  effectMetrics,
  klDivergence,
  logSoftmax,
  RECOVERY_EPSILON,
  type RecoveryBasis,
  score,
  softmax,
} from "./metrics.js";
export { makeNoisedPairs, type NoisedOptions, noisedCandidates } from "./noise.js";
export {
  type DirectionChoice,
  makePairs,
  type PairOptions,
  type PairSet,
  pairsFromList,
} from "./pairs.js";
export { parsePairsFile } from "./pairs-file.js";
export { type PairPatchResult, patchPair } from "./patch-pair.js";
export { type PathOptions, pathRuns } from "./path.js";
export {
  PRESET_NAMES,
  type PresetName,
  parseComponents,
  parseGroups,
  presetComponents,
} from "./presets.js";
export { type AxisSelect, componentSites, type PatchSite, siteMask } from "./setters.js";
export {
  type EffectRow,
  type PairBaseline,
  type SweepOptions,
  type SweepResult,
  sweep,
} from "./sweep.js";
export type {
  Component,
  ComponentKind,
  Direction,
  HeadMode,
  HeadRef,
  Pair,
  PairStrategy,
  ReceiverInput,
  ResidPoint,
} from "./types.js";
