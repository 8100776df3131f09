import type { Dataset } from "../data/dataset.js";
import { handleMissing, padDataset, paddingMask, resampleDataset } from "../data/preprocess.js";
import { inputError } from "../errors.js";
import type { HookedTST } from "./hooked-tst.js";

export interface ModelInput {
  /** batch × seqLen × channels raw values (normalisation runs inside the model). */
  x: Float32Array;
  /** batch × seqLen, 1 = real step; null when every case fills the whole length. */
  mask: Uint8Array | null;
  batch: number;
}

/**
 * Turn a dataset into model input: missing values and resampling as the
 * model's preprocessing says (or `resample` steps when asked), zero padding up
 * to the model's length with a mask. Data the model cannot take (other channel
 * count, longer series) is an InputError naming both numbers and the fix.
 *
 * @example
 * const { x, mask } = modelInput(model, await loadDataset("PenDigits", { split: "test" }));
 * const { logits } = await model.run(x, { mask });
 */
export function modelInput(
  model: HookedTST,
  dataset: Dataset,
  options: { resample?: number } = {},
): ModelInput {
  const { channels, seqLen } = model.config;
  if (dataset.channels !== channels) {
    throw inputError(`the data has ${dataset.channels} channels, the model takes ${channels}`, {
      file: dataset.file,
      hint: "use data of the kind the model was trained on, or train a model on this data (tspatch train)",
    });
  }
  let ds = handleMissing(dataset, model.preprocess?.missing ?? "error");
  const resample = options.resample ?? model.preprocess?.resampleLength ?? null;
  if (resample !== null) ds = resampleDataset(ds, resample);
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
  return { x: ds.values, mask: mask.every((m) => m === 1) ? null : mask, batch: ds.cases };
}
