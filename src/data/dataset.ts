import type { LabelMap } from "./labels.js";

/**
 * The memory layout of {@link Dataset.values}: cases × time × channels (B×S×C),
 * row-major, the same order as the model input `x` of shape (B, S, C).
 *
 * Value of case `i`, time step `t`, channel `c`:
 * `values[(i * maxLength + t) * channels + c]`.
 *
 * Steps `t >= lengths[i]` are padding and hold 0. Missing values (`?` in the
 * file) hold NaN until preprocessing handles them.
 */
export const DATASET_LAYOUT = "cases×time×channels" as const;

/** What the `.ts` header declared (keys the file left out are undefined). */
export interface DatasetHeader {
  problemName?: string;
  timeStamps?: boolean;
  missing?: boolean;
  univariate?: boolean;
  dimensions?: number;
  equalLength?: boolean;
  seriesLength?: number;
  /** `@classLabel true ...`: the cases end with a class label. */
  classLabel?: boolean;
  /** `@targetLabel true`: the cases end with a numeric regression target. */
  targetLabel?: boolean;
}

/**
 * A parsed time-series classification dataset, stored flat in typed arrays.
 *
 * @example
 * const ds = parseTs(readFileSync("JapaneseVowels_TRAIN.ts"), { file: "JapaneseVowels_TRAIN.ts" });
 * const firstValue = ds.values[valueIndex(ds, 0, 0, 0)];
 */
export interface Dataset {
  /** `@problemName` (or `@relation` for .arff), else the file name without split suffix. */
  name: string;
  /** The file the dataset was read from, if any (used in error messages). */
  file?: string;
  format: "ts" | "arff";
  cases: number;
  channels: number;
  /** Longest case; the time axis of `values` has this size. */
  maxLength: number;
  /** Real length of each case (steps beyond it are zero padding). */
  lengths: Int32Array;
  /** cases × maxLength × channels, see {@link DATASET_LAYOUT}. */
  values: Float32Array;
  layout: typeof DATASET_LAYOUT;
  /** Raw label string of each case, as written in the file ("" when the file has no labels). */
  labels: string[];
  /** Class index of each case under `labelMap` (-1 when the file has no class labels). */
  labelIndex: Int32Array;
  /** `labelMap.classes`; with the default dense map `classes[labelIndex[i]] === labels[i]`. */
  classes: string[];
  labelMap: LabelMap;
  /** The labels listed by `@classLabel true ...` (or the arff class attribute), in file order. */
  declaredLabels: string[] | null;
  /** Regression targets when the file uses `@targetLabel true`. */
  targets?: Float64Array;
  /** Number of missing values (`?` or NaN) in the data. */
  missing: number;
  /** 1-based line of each case in the source file (for error messages). */
  caseLines: Int32Array;
  header: DatasetHeader;
}

/** Offset of case `i`, time `t`, channel `c` in `dataset.values`. */
export function valueIndex(
  dataset: Pick<Dataset, "maxLength" | "channels">,
  i: number,
  t: number,
  c: number,
): number {
  return (i * dataset.maxLength + t) * dataset.channels + c;
}

/** One channel of one case as a new array of its real length. */
export function channelSeries(dataset: Dataset, i: number, c: number): Float32Array {
  const n = dataset.lengths[i];
  const out = new Float32Array(n);
  for (let t = 0; t < n; t++) out[t] = dataset.values[valueIndex(dataset, i, t, c)];
  return out;
}

/** Where a case came from, for error messages: "case 12 (line 40)". */
export function describeCase(dataset: Dataset, i: number): string {
  const line = dataset.caseLines[i];
  return line > 0 ? `case ${i + 1} (line ${line})` : `case ${i + 1}`;
}
