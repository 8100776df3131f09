/**
 * The seam between data and model: everything a model needs from a dataset, made in one place.
 * The path of a dataset is data/ (parse, label strings) → here (labels as the model's class
 * indices, missing values, resampling, padding, mask) → whatever runs the model (evaluation,
 * training, patching), none of which goes back to data/.
 */
import type { Dataset } from "../data/dataset.js";
import type { LabelMap } from "../data/labels.js";
import {
  handleMissing,
  type MissingPolicy,
  type NormalizationSpec,
  padDataset,
  paddingMask,
  resampleDataset,
} from "../data/preprocess.js";
import { withLabelMap } from "../data/registry.js";
import { inputError } from "../errors.js";
import type { HookedTST } from "./hooked-tst.js";
import { resolveLabelMap } from "./label-map-rule.js";

/** What was done to the data on its way in (normalisation itself runs inside the model graph). */
export interface AppliedPreprocessing {
  missing: MissingPolicy;
  /** Steps every series was resampled to (linear interpolation), or null. */
  resampleLength: number | null;
  /** Length every row is zero-padded to: the model's seqLen. */
  padLength: number;
  /** The model's per-channel normalisation of the raw `x` (null: none). */
  normalize: NormalizationSpec | null;
}

/** A dataset ready for a model. */
export interface PreparedInputs {
  /** rows × seqLen × channels raw values (padding 0). */
  readonly x: Float32Array;
  /** rows × seqLen, 1 = real step; null when every row fills the whole length. */
  readonly mask: Uint8Array | null;
  readonly rows: number;
  /** Real steps of each row in model time (after resampling). */
  readonly lengths: Int32Array;
  /** Model output index of each row's true label; -1 for an unlabelled row. */
  readonly labelIndex: Int32Array;
  /** The model's label map (see resolveLabelMap); null when neither model nor data has labels. */
  readonly labelMap: LabelMap | null;
  readonly preprocessing: AppliedPreprocessing;
  /** The dataset with its labels encoded by `labelMap` (row i of x is case i). */
  readonly dataset: Dataset;
  /** Lines for the user (a label map resolved here for a model that carries none). */
  readonly notes: readonly string[];
}

/**
 * Prepare `dataset` for `model`: labels as the model's class indices (its label map, or for a
 * model without one the rule of {@link resolveLabelMap}), missing values and resampling as the
 * model's preprocessing says (or `resample` steps when asked), zero padding to the model's
 * length with a mask. Data the model cannot take (another channel count, longer series, a label
 * the model does not know) is an InputError naming the numbers and the fix.
 *
 * @example
 * const { x, mask, labelIndex } = prepareInputs(model, await loadDataset("PenDigits", { split: "test" }));
 * const { logits } = await model.run(x, { mask });
 */
export function prepareInputs(
  model: HookedTST,
  dataset: Dataset,
  options: { resample?: number } = {},
): PreparedInputs {
  const { channels, seqLen, classes } = model.config;
  if (dataset.channels !== channels) {
    throw inputError(`the data has ${dataset.channels} channels, the model takes ${channels}`, {
      file: dataset.file,
      hint: "use data of the kind the model was trained on, or train a model on this data (tspatch train)",
    });
  }
  const notes: string[] = [];
  let labelMap = model.labelMap;
  if (labelMap === null) {
    const resolved = resolveLabelMap(classes, dataset, { file: dataset.file });
    labelMap = resolved.labelMap;
    if (resolved.note !== null) notes.push(resolved.note);
  }
  const labelled = labelMap === null ? dataset : withLabelMap(dataset, labelMap);
  const missing = model.preprocess?.missing ?? "error";
  let ds = handleMissing(labelled, missing);
  const resampleLength = options.resample ?? model.preprocess?.resampleLength ?? null;
  if (resampleLength !== null) ds = resampleDataset(ds, resampleLength);
  if (ds.maxLength > seqLen) {
    throw inputError(
      `the data has series of up to ${ds.maxLength} steps, the model takes at most ${seqLen}`,
      {
        file: dataset.file,
        hint: `resample the data to the model's length (--resample ${seqLen}), or train a model on this data (tspatch train)`,
      },
    );
  }
  ds = padDataset(ds, seqLen);
  const mask = paddingMask(ds);
  return {
    x: ds.values,
    mask: mask.every((m) => m === 1) ? null : mask,
    rows: ds.cases,
    lengths: Int32Array.from(ds.lengths),
    labelIndex: labelMap === null ? new Int32Array(ds.cases).fill(-1) : Int32Array.from(labelled.labelIndex),
    labelMap,
    preprocessing: {
      missing,
      resampleLength,
      padLength: seqLen,
      normalize: model.preprocess?.normalize ?? null,
    },
    dataset: labelled,
    notes,
  };
}
