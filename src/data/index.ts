export { parseArff } from "./arff-format.js";
export { datasetFromValues } from "./build-dataset.js";
export {
  channelSeries,
  DATASET_LAYOUT,
  type Dataset,
  type DatasetHeader,
  valueIndex,
} from "./dataset.js";
export { type DownloadOptions, downloadDataset } from "./download.js";
export {
  buildLabelMap,
  encodeLabels,
  indexToLabel,
  type LabelMap,
  type LabelMapKind,
  labelToIndex,
  parseLabelMap,
} from "./labels.js";
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
} from "./preprocess.js";
export {
  type DatasetListing,
  type LoadOptions,
  listDatasets,
  loadDataset,
  loadDatasetSplits,
  readDatasetFile,
  type Split,
  withLabelMap,
} from "./registry.js";
export { type DataLocationOptions, searchPath } from "./search-path.js";
export { type DatasetSummary, summarizeDataset } from "./summary.js";
export { type ParseOptions, parseTs } from "./ts-format.js";
export { UEA_MULTIVARIATE_NAMES } from "./uea-archive.js";
