import { inputError } from "../errors.js";
import { DATASET_LAYOUT, type Dataset, type DatasetHeader } from "./dataset.js";
import { buildLabelMap, encodeLabels, type LabelMap, type LabelMapKind } from "./labels.js";

/** What a parser collected, case by case, channel-major within a case. */
export interface ParsedCases {
  name: string;
  file?: string;
  format: Dataset["format"];
  channels: number;
  /** Values of case i: `raw[starts[i] + c * lengths[i] + t]`. */
  raw: Float32Array;
  starts: number[];
  lengths: number[];
  lines: number[];
  labels: string[];
  hasClassLabels: boolean;
  declaredLabels: string[] | null;
  targets?: number[];
  missing: number;
  header: DatasetHeader;
  labelMap?: LabelMapKind;
}

/** Values of a padded dataset held in memory (float32: 1 GiB). */
const MAX_PADDED_VALUES = 2 ** 28;

/**
 * Lay the parsed cases out as a {@link Dataset} (cases × time × channels,
 * zero padded) and attach the label map.
 *
 * @example
 * const ds = buildDataset({ name: "x", format: "ts", channels: 1, raw: new Float32Array([1, 2]),
 *   starts: [0], lengths: [2], lines: [3], labels: ["a"], hasClassLabels: true,
 *   declaredLabels: ["a"], missing: 0, header: {} });
 */
export function buildDataset(parts: ParsedCases): Dataset {
  const cases = parts.lengths.length;
  const channels = parts.channels;
  let maxLength = 0;
  let longest = 0;
  for (let i = 0; i < cases; i++) {
    if (parts.lengths[i] > maxLength) {
      maxLength = parts.lengths[i];
      longest = i;
    }
  }
  // Padding every case to the longest multiplies a file's size by up to the number of cases
  // (one long case among many short ones), so the padded size is checked before allocating.
  if (cases * maxLength * channels > MAX_PADDED_VALUES) {
    throw inputError(
      `padding ${cases} cases to the longest (${maxLength} steps, line ${parts.lines[longest]}) × ${channels} channels needs ` +
        `${((cases * maxLength * channels * 4) / 2 ** 30).toFixed(1)} GiB, more than the ${(MAX_PADDED_VALUES * 4) / 2 ** 30} GiB tspatch holds`,
      {
        file: parts.file,
        line: parts.lines[longest],
        hint: "resample the series to a common length or drop the outlier case; check that the long case is not several cases run together",
      },
    );
  }
  const values = new Float32Array(cases * maxLength * channels);
  const raw = parts.raw;
  for (let i = 0; i < cases; i++) {
    const n = parts.lengths[i];
    const start = parts.starts[i];
    const base = i * maxLength * channels;
    for (let c = 0; c < channels; c++) {
      const from = start + c * n;
      for (let t = 0; t < n; t++) values[base + t * channels + c] = raw[from + t];
    }
  }
  const labelMap = buildLabelMap(parts.hasClassLabels ? parts.labels : [], {
    kind: parts.labelMap ?? "dense",
    declared: parts.hasClassLabels ? parts.declaredLabels : null,
  });
  const labelIndex = parts.hasClassLabels
    ? encodeLabels(labelMap, parts.labels)
    : new Int32Array(cases).fill(-1);
  const dataset: Dataset = {
    name: parts.name,
    file: parts.file,
    format: parts.format,
    cases,
    channels,
    maxLength,
    lengths: Int32Array.from(parts.lengths),
    values,
    layout: DATASET_LAYOUT,
    labels: parts.labels,
    labelIndex,
    classes: labelMap.classes,
    labelMap,
    declaredLabels: parts.declaredLabels,
    missing: parts.missing,
    caseLines: Int32Array.from(parts.lines),
    header: parts.header,
  };
  if (parts.targets) dataset.targets = Float64Array.from(parts.targets);
  return dataset;
}

/** Dataset name from a file path: "dir/LSST_TRAIN.ts" → "LSST". */
export function nameFromFile(file: string | undefined): string {
  if (!file) return "dataset";
  const base = file.split(/[\\/]/).pop() ?? file;
  return base.replace(/\.(ts|arff)$/i, "").replace(/_(TRAIN|TEST)$/i, "");
}

/**
 * Wrap raw model input (cases × time × channels, see DATASET_LAYOUT) as a
 * Dataset, so a saved preprocessing spec or label map can be re-applied to it.
 * The arrays are used as given, not copied.
 *
 * @example
 * const ds = datasetFromValues(x, { cases: 2, maxLength: 25, channels: 12 });
 * const { dataset } = applyPreprocess(ds, spec);
 */
export function datasetFromValues(
  values: Float32Array,
  shape: { cases: number; maxLength: number; channels: number },
  options: { lengths?: Int32Array; labels?: string[]; labelMap?: LabelMap; name?: string } = {},
): Dataset {
  const { cases, maxLength, channels } = shape;
  if (values.length !== cases * maxLength * channels) {
    throw inputError(
      `values has ${values.length} elements, expected cases × time × channels = ${cases}×${maxLength}×${channels}`,
      { field: "values" },
    );
  }
  const lengths = options.lengths ?? new Int32Array(cases).fill(maxLength);
  if (lengths.length !== cases || lengths.some((n) => n < 1 || n > maxLength)) {
    throw inputError(`lengths must hold ${cases} values in 1..${maxLength}`, { field: "lengths" });
  }
  const labels = options.labels ?? new Array<string>(cases).fill("");
  const hasLabels = options.labels !== undefined;
  const labelMap = options.labelMap ?? buildLabelMap(hasLabels ? labels : []);
  let missing = 0;
  for (let i = 0; i < cases; i++) {
    for (let k = i * maxLength * channels, e = k + lengths[i] * channels; k < e; k++) {
      if (Number.isNaN(values[k])) missing++;
    }
  }
  return {
    name: options.name ?? "input",
    format: "ts",
    cases,
    channels,
    maxLength,
    lengths,
    values,
    layout: DATASET_LAYOUT,
    labels,
    labelIndex: hasLabels ? encodeLabels(labelMap, labels) : new Int32Array(cases).fill(-1),
    classes: labelMap.classes,
    labelMap,
    declaredLabels: null,
    missing,
    caseLines: new Int32Array(cases),
    header: {},
  };
}
