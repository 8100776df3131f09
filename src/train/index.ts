export { type BatchNormBuffers, updateRunningStats } from "./batchnorm-stats.js";
export { type EpochRecord, readCheckpoint } from "./checkpoint.js";
export { type ClassMetrics, type EvalResult, evaluate } from "./evaluate.js";
export { type TrainLoopOptions, type TrainLoopResult, trainLoop } from "./loop.js";
export { RAdam, type RAdamOptions, type RAdamState } from "./radam.js";
export {
  type TrainMetrics,
  type TrainModelOptions,
  type TrainModelResult,
  trainData,
  trainModel,
} from "./train-model.js";
