/**
 * Preprocessing steps, each explicit and recorded in a JSON-serialisable
 * {@link PreprocessSpec}, so a model saved with its spec re-applies exactly the
 * same transformation to raw input.
 *
 * Order in {@link applyPreprocess}: missing values → fixed-length resampling
 * (optional) → per-channel normalisation → padding to a common length with a
 * mask. Statistics are always fitted on TRAIN ({@link fitPreprocess}) and only
 * applied to TEST.
 */
import { inputError } from "../errors.js";
import { type Dataset, describeCase, valueIndex } from "./dataset.js";

export type NormalizeMethod = "zscore" | "minmax" | "none";
export type MissingPolicy = "error" | "interpolate";

export const NORMALIZE_METHODS: readonly NormalizeMethod[] = ["zscore", "minmax", "none"];
export const MISSING_POLICIES: readonly MissingPolicy[] = ["error", "interpolate"];

/**
 * Per-channel affine map `x' = (x - shift[c]) / scale[c]`.
 * zscore: shift = mean, scale = population std (ddof 0, as scikit-learn's
 * StandardScaler), over the real (unpadded, non-missing) time steps of all
 * cases. minmax: shift = min, scale = max - min (to [0, 1]). none: 0 and 1.
 * A constant channel gets scale 1 (so no NaN) and is listed in `constantChannels`.
 */
export interface NormalizationSpec {
  method: NormalizeMethod;
  shift: number[];
  scale: number[];
  constantChannels: number[];
}

export interface PreprocessSpec {
  /** Layout of the arrays the spec applies to (cases × time × channels). */
  layout: Dataset["layout"];
  channels: number;
  missing: MissingPolicy;
  /** Resample every case to this many steps (linear interpolation), or null. */
  resampleLength: number | null;
  normalize: NormalizationSpec;
  /** Length cases are padded to (the longest TRAIN case after resampling). */
  padLength: number;
  /** Name of the dataset the statistics were fitted on. */
  fittedOn: string;
}

export interface PreprocessOptions {
  normalize?: NormalizeMethod;
  missing?: MissingPolicy;
  resampleLength?: number | null;
}

export interface Prepared {
  /** Values transformed and padded (padding stays 0). */
  dataset: Dataset;
  /** cases × maxLength, 1 where a step is real, 0 where it is padding. */
  mask: Uint8Array;
  spec: PreprocessSpec;
}

/**
 * Fit the preprocessing on TRAIN: handle missing values, resample if asked,
 * then compute the normalisation statistics.
 *
 * @example
 * const spec = fitPreprocess(train);                       // z-score, missing → error
 * const { dataset, mask } = applyPreprocess(test, spec);
 */
export function fitPreprocess(train: Dataset, options: PreprocessOptions = {}): PreprocessSpec {
  const missing = options.missing ?? "error";
  const resampleLength = options.resampleLength ?? null;
  if (!MISSING_POLICIES.includes(missing)) {
    throw inputError(`unknown missing-value policy "${missing}"`, { hint: 'use "error" or "interpolate"' });
  }
  let ds = handleMissing(train, missing);
  if (resampleLength !== null) ds = resampleDataset(ds, resampleLength);
  return {
    layout: ds.layout,
    channels: ds.channels,
    missing,
    resampleLength,
    normalize: fitNormalization(ds, options.normalize ?? "zscore"),
    padLength: ds.maxLength,
    fittedOn: train.name,
  };
}

/**
 * Apply a fitted spec to a dataset (TRAIN or TEST or new raw input).
 * Cases longer than `spec.padLength` are never truncated: the result is then
 * padded to the longest case instead.
 *
 * @example
 * const { dataset, mask } = applyPreprocess(test, fitPreprocess(train));
 */
export function applyPreprocess(dataset: Dataset, spec: PreprocessSpec): Prepared {
  if (dataset.channels !== spec.channels) {
    throw inputError(
      `the data has ${dataset.channels} channels, the preprocessing was fitted on ${spec.channels}`,
      {
        file: dataset.file,
        hint: `use data of the same kind as ${spec.fittedOn}`,
      },
    );
  }
  let ds = handleMissing(dataset, spec.missing);
  if (spec.resampleLength !== null) ds = resampleDataset(ds, spec.resampleLength);
  ds = applyNormalization(ds, spec.normalize);
  ds = padDataset(ds, Math.max(spec.padLength, ds.maxLength));
  return { dataset: ds, mask: paddingMask(ds), spec };
}

/**
 * Per-channel statistics over the real time steps (padding and NaN skipped).
 *
 * @example
 * fitNormalization(train, "zscore").shift; // per-channel means
 */
export function fitNormalization(dataset: Dataset, method: NormalizeMethod = "zscore"): NormalizationSpec {
  const C = dataset.channels;
  const shift = new Array<number>(C).fill(0);
  const scale = new Array<number>(C).fill(1);
  const constantChannels: number[] = [];
  if (method === "none") return { method, shift, scale, constantChannels };
  if (method !== "zscore" && method !== "minmax") {
    throw inputError(`unknown normalisation "${method}"`, { hint: 'use "zscore", "minmax" or "none"' });
  }
  const { values, lengths, maxLength } = dataset;
  const count = new Float64Array(C);
  const sum = new Float64Array(C);
  const min = new Float64Array(C).fill(Number.POSITIVE_INFINITY);
  const max = new Float64Array(C).fill(Number.NEGATIVE_INFINITY);
  for (let i = 0; i < dataset.cases; i++) {
    for (let t = 0; t < lengths[i]; t++) {
      const base = (i * maxLength + t) * C;
      for (let c = 0; c < C; c++) {
        const v = values[base + c];
        if (Number.isNaN(v)) continue;
        count[c]++;
        sum[c] += v;
        if (v < min[c]) min[c] = v;
        if (v > max[c]) max[c] = v;
      }
    }
  }
  for (let c = 0; c < C; c++) {
    if (count[c] === 0) {
      throw inputError(`channel ${c + 1} has no values to fit ${method} statistics on`, {
        file: dataset.file,
      });
    }
  }
  if (method === "minmax") {
    for (let c = 0; c < C; c++) {
      shift[c] = min[c];
      if (max[c] > min[c]) scale[c] = max[c] - min[c];
      else constantChannels.push(c);
    }
    return { method, shift, scale, constantChannels };
  }
  // Two passes (mean, then squared deviations) for accuracy with large offsets (LSST).
  const mean = Array.from(sum, (s, c) => s / count[c]);
  const squares = new Float64Array(C);
  for (let i = 0; i < dataset.cases; i++) {
    for (let t = 0; t < lengths[i]; t++) {
      const base = (i * maxLength + t) * C;
      for (let c = 0; c < C; c++) {
        const v = values[base + c];
        if (Number.isNaN(v)) continue;
        const d = v - mean[c];
        squares[c] += d * d;
      }
    }
  }
  for (let c = 0; c < C; c++) {
    shift[c] = mean[c];
    // Exact constancy test (max === min): a tiny rounding residue must not become a huge scale.
    if (max[c] > min[c]) scale[c] = Math.sqrt(squares[c] / count[c]);
    else constantChannels.push(c);
  }
  return { method, shift, scale, constantChannels };
}

/**
 * `x' = (x - shift[c]) / scale[c]` on the real steps; padding stays 0, NaN stays NaN.
 *
 * @example
 * const normalised = applyNormalization(test, fitNormalization(train));
 */
export function applyNormalization(dataset: Dataset, spec: NormalizationSpec): Dataset {
  const C = dataset.channels;
  if (spec.shift.length !== C) {
    throw inputError(`normalisation has ${spec.shift.length} channels, the data ${C}`, {
      file: dataset.file,
    });
  }
  const out = new Float32Array(dataset.values.length);
  for (let i = 0; i < dataset.cases; i++) {
    for (let t = 0; t < dataset.lengths[i]; t++) {
      const base = (i * dataset.maxLength + t) * C;
      for (let c = 0; c < C; c++) out[base + c] = (dataset.values[base + c] - spec.shift[c]) / spec.scale[c];
    }
  }
  return { ...dataset, values: out };
}

/**
 * Missing values: "error" throws an InputError naming file, case, channel and
 * step; "interpolate" fills each gap linearly between its neighbours (the
 * nearest value at the ends of a series).
 *
 * @example
 * const filled = handleMissing(ds, "interpolate");
 */
export function handleMissing(dataset: Dataset, policy: MissingPolicy): Dataset {
  if (dataset.missing === 0 && !hasNaN(dataset)) return dataset;
  const C = dataset.channels;
  if (policy === "error") {
    for (let i = 0; i < dataset.cases; i++) {
      for (let t = 0; t < dataset.lengths[i]; t++) {
        for (let c = 0; c < C; c++) {
          if (Number.isNaN(dataset.values[valueIndex(dataset, i, t, c)])) {
            throw inputError(
              `missing value in ${describeCase(dataset, i)}, channel ${c + 1}, step ${t + 1} (${dataset.missing} missing in total)`,
              {
                file: dataset.file,
                hint: "fill them by linear interpolation with --missing interpolate (library: missing: 'interpolate')",
              },
            );
          }
        }
      }
    }
    return dataset;
  }
  const values = dataset.values.slice();
  for (let i = 0; i < dataset.cases; i++) {
    const n = dataset.lengths[i];
    for (let c = 0; c < C; c++) {
      const at = (t: number) => (i * dataset.maxLength + t) * C + c;
      let previous = -1; // last step with a value
      for (let t = 0; t <= n; t++) {
        if (t < n && Number.isNaN(values[at(t)])) continue;
        // Gap is (previous, t): fill it.
        if (t - previous > 1) {
          if (previous < 0 && t === n) {
            throw inputError(`${describeCase(dataset, i)}, channel ${c + 1}: every value is missing`, {
              file: dataset.file,
              hint: "interpolation needs at least one value per channel; remove the case",
            });
          }
          for (let g = previous + 1; g < t; g++) {
            if (previous < 0) values[at(g)] = values[at(t)];
            else if (t === n) values[at(g)] = values[at(previous)];
            else {
              const w = (g - previous) / (t - previous);
              values[at(g)] = values[at(previous)] * (1 - w) + values[at(t)] * w;
            }
          }
        }
        previous = t;
      }
    }
  }
  return { ...dataset, values, missing: 0 };
}

function hasNaN(dataset: Dataset): boolean {
  for (let k = 0; k < dataset.values.length; k++) if (Number.isNaN(dataset.values[k])) return true;
  return false;
}

/**
 * Resample every case to `length` steps by linear interpolation over its real
 * steps (the first and last steps are kept; a length-1 case is repeated).
 *
 * @example
 * resampleDataset(japaneseVowels, 25).maxLength; // 25
 */
export function resampleDataset(dataset: Dataset, length: number): Dataset {
  if (!Number.isInteger(length) || length < 1) {
    throw inputError(`resample length must be a positive integer, got ${length}`, {
      field: "resampleLength",
    });
  }
  const C = dataset.channels;
  const values = new Float32Array(dataset.cases * length * C);
  for (let i = 0; i < dataset.cases; i++) {
    const n = dataset.lengths[i];
    for (let t = 0; t < length; t++) {
      const s = length === 1 || n === 1 ? 0 : (t * (n - 1)) / (length - 1);
      const lo = Math.floor(s);
      const hi = Math.min(lo + 1, n - 1);
      const w = s - lo;
      for (let c = 0; c < C; c++) {
        const a = dataset.values[valueIndex(dataset, i, lo, c)];
        const b = dataset.values[valueIndex(dataset, i, hi, c)];
        values[(i * length + t) * C + c] = w === 0 ? a : a * (1 - w) + b * w;
      }
    }
  }
  return { ...dataset, values, maxLength: length, lengths: new Int32Array(dataset.cases).fill(length) };
}

/**
 * Pad every case with zeros to `length` steps. Never truncates: a `length`
 * shorter than the longest case is an error.
 *
 * @example
 * padDataset(ds, 29).maxLength; // 29
 */
export function padDataset(dataset: Dataset, length: number): Dataset {
  if (length < dataset.maxLength) {
    throw inputError(`cannot pad to ${length} steps: the longest case has ${dataset.maxLength}`, {
      file: dataset.file,
      hint: "tspatch never truncates; resample to a fixed length instead",
    });
  }
  if (length === dataset.maxLength) return dataset;
  const C = dataset.channels;
  const values = new Float32Array(dataset.cases * length * C);
  for (let i = 0; i < dataset.cases; i++) {
    const n = dataset.lengths[i] * C;
    const from = i * dataset.maxLength * C;
    values.set(dataset.values.subarray(from, from + n), i * length * C);
  }
  return { ...dataset, values, maxLength: length };
}

/**
 * cases × maxLength mask: 1 for real steps, 0 for padding.
 *
 * @example
 * paddingMask(ds)[i * ds.maxLength + t]; // 1 if step t of case i is real
 */
export function paddingMask(dataset: Pick<Dataset, "cases" | "maxLength" | "lengths">): Uint8Array {
  const mask = new Uint8Array(dataset.cases * dataset.maxLength);
  for (let i = 0; i < dataset.cases; i++)
    mask.fill(1, i * dataset.maxLength, i * dataset.maxLength + dataset.lengths[i]);
  return mask;
}
