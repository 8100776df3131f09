/**
 * tspatch: find which parts of a time-series Transformer classifier cause its
 * decisions, by activation patching, with statistics a reviewer would accept.
 *
 * @example
 * import { loadDataset } from "tspatch";
 * const train = await loadDataset("JapaneseVowels", { split: "train" });
 */
export { parseArff } from "./data/arff-format.js";
export { datasetFromValues } from "./data/build-dataset.js";
export {
  channelSeries,
  DATASET_LAYOUT,
  type Dataset,
  type DatasetHeader,
  valueIndex,
} from "./data/dataset.js";
export { type DownloadOptions, downloadDataset } from "./data/download.js";
export {
  buildLabelMap,
  encodeLabels,
  indexToLabel,
  type LabelMap,
  type LabelMapKind,
  labelToIndex,
  parseLabelMap,
} from "./data/labels.js";
export {
  applyNormalization,
  applyPreprocess,
  fitNormalization,
  fitPreprocess,
  handleMissing,
  type MissingPolicy,
  type NormalizationSpec,
  type NormalizeMethod,
  type Prepared,
  type PreprocessOptions,
  type PreprocessSpec,
  padDataset,
  paddingMask,
  resampleDataset,
} from "./data/preprocess.js";
export {
  type DatasetListing,
  type LoadOptions,
  listDatasets,
  loadDataset,
  loadDatasetSplits,
  readDatasetFile,
  type Split,
  withLabelMap,
} from "./data/registry.js";
export { type DataLocationOptions, searchPath } from "./data/search-path.js";
export { type DatasetSummary, summarizeDataset } from "./data/summary.js";
export { type ParseOptions, parseTs } from "./data/ts-format.js";
export { UEA_MULTIVARIATE_NAMES } from "./data/uea-archive.js";
export { InputError, InterruptedError } from "./errors.js";
export { DEFAULT_CONFIG, makeConfig, type TSTConfig, type TSTConfigInput } from "./model/config.js";
export { exportOnnx, saveOnnx } from "./model/export.js";
export {
  type Activation,
  defaultRuntime,
  HookedTST,
  type ModelMeta,
  type PatchValue,
  type RunOptions,
  type RunResult,
} from "./model/hooked-tst.js";
export { type HookName, hookNames, hookShape, LAYER_HOOKS, parseHook } from "./model/hooks.js";
export { type ImportPthOptions, type ImportPthResult, importPth } from "./model/import-pth.js";
export { initParams } from "./model/init.js";
export { type LoadedModel, type LoadModelOptions, loadModel, saveModel } from "./model/model-dir.js";
export { type ModelInput, modelInput } from "./model/model-input.js";
export { type ParamShape, paramShapes } from "./model/param-names.js";
export { type PthDtype, type PthTensor, parsePth, readPth } from "./model/pth.js";
export {
  importReferenceStateDict,
  type ReferenceImport,
  referenceKeyShapes,
} from "./model/reference-keys.js";
export {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  type SafetensorsDtype,
  type SafetensorsFile,
  type StoredTensor,
  writeSafetensors,
} from "./model/safetensors.js";
export {
  buildTSTGraph,
  DROPOUT_SITES,
  dropoutInputs,
  type PatchPoint,
  type TSTGraph,
  type TSTGraphOptions,
} from "./model/tst-graph.js";
export { type BuildPairsOptions, buildPairs, predict } from "./patching/build-pairs.js";
export { EFFECT_COLUMNS, effectsCsv } from "./patching/effects-csv.js";
export {
  CachedRows,
  cacheRows,
  type EngineOptions,
  type InputTable,
  type PatchedRun,
  runPatched,
  runPatchedWithCache,
} from "./patching/engine.js";
export { type ModelInputs, modelInputs } from "./patching/inputs.js";
export {
  type EffectMetrics,
  effectMetrics,
  klDivergence,
  logSoftmax,
  RECOVERY_EPSILON,
  type RecoveryBasis,
  score,
  softmax,
} from "./patching/metrics.js";
export { makeNoisedPairs, type NoisedOptions, noisedCandidates } from "./patching/noise.js";
export { openForPatching } from "./patching/open.js";
export {
  type DirectionChoice,
  makePairs,
  type PairOptions,
  type PairSet,
  pairsFromList,
} from "./patching/pairs.js";
export { parsePairsFile } from "./patching/pairs-file.js";
export { type PairPatchResult, patchPair } from "./patching/patch-pair.js";
export { type PathOptions, pathRuns } from "./patching/path.js";
export {
  PRESET_NAMES,
  type PresetName,
  parseComponents,
  parseGroups,
  presetComponents,
} from "./patching/presets.js";
export { type AxisSelect, componentSites, type PatchSite, siteMask } from "./patching/setters.js";
export {
  type EffectRow,
  type PairBaseline,
  type SweepOptions,
  type SweepResult,
  sweep,
} from "./patching/sweep.js";
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
} from "./patching/types.js";
export type {
  Alternative,
  BootstrapResult,
  ConfidenceInterval,
  EffectStats,
  EffectsReport,
  TestResult,
  TTestResult,
} from "./stats/index.js";
export * as stats from "./stats/index.js";
export { type BatchNormBuffers, updateRunningStats } from "./train/batchnorm-stats.js";
export { type EpochRecord, readCheckpoint } from "./train/checkpoint.js";
export { type ClassMetrics, type EvalResult, evaluate } from "./train/evaluate.js";
export { type TrainLoopOptions, type TrainLoopResult, trainLoop } from "./train/loop.js";
export { RAdam, type RAdamOptions, type RAdamState } from "./train/radam.js";
export {
  type TrainMetrics,
  type TrainModelOptions,
  type TrainModelResult,
  trainData,
  trainModel,
} from "./train/train-model.js";
export { version } from "./version.js";
