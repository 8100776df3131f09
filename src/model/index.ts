export { type ArchImportOptions, importArchStateDict } from "./arch-import.js";
export { type CheckpointInspection, inspectStateDict } from "./arch-inspect.js";
export { type ArchMap, parseArchMap, readArchMap, shippedArchMaps } from "./arch-map.js";
export {
  DEFAULT_CONFIG,
  makeConfig,
  pooledWidth,
  type TSTConfig,
  type TSTConfigInput,
  tokenCount,
  tokenLengths,
} from "./config.js";
export { exportOnnx, saveOnnx } from "./export.js";
export {
  type HookGradientOptions,
  type HookGradientResult,
  hookGradients,
  type LogitMetric,
  logitDiffMetric,
  probabilityMetric,
} from "./hook-gradients.js";
export {
  type Activation,
  defaultRuntime,
  HookedTST,
  type ModelMeta,
  type PatchValue,
  type RunOptions,
  type RunResult,
} from "./hooked-tst.js";
export { type HookName, hookNames, hookShape, LAYER_HOOKS, parseHook } from "./hooks.js";
export { type ImportPthOptions, type ImportPthResult, importPth } from "./import-pth.js";
export { initParams } from "./init.js";
export {
  type LabelSource,
  type ResolvedLabelMap,
  resolveLabelMap,
} from "./label-map-rule.js";
export { type LoadedModel, type LoadModelOptions, loadModel, saveModel } from "./model-dir.js";
export { type ParamShape, paramShapes } from "./param-names.js";
export { type AppliedPreprocessing, type PreparedInputs, prepareInputs } from "./prepare-inputs.js";
export { type PthDtype, type PthTensor, parsePth, readPth } from "./pth.js";
export {
  importReferenceStateDict,
  type ReferenceImport,
  referenceKeyShapes,
} from "./reference-keys.js";
export {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  type SafetensorsDtype,
  type SafetensorsFile,
  type StoredTensor,
  writeSafetensors,
} from "./safetensors.js";
export {
  buildTSTGraph,
  DROPOUT_SITES,
  dropoutInputs,
  type PatchPoint,
  type TSTGraph,
  type TSTGraphOptions,
} from "./tst-graph.js";
