import type { HookedTST } from "../model/hooked-tst.js";
import { type PreparedInputs, prepareInputs } from "../model/prepare-inputs.js";
import type { InputTable } from "./engine.js";

/**
 * A dataset made ready for a model (see prepareInputs, the one seam between data and model),
 * as the patching code reads it: `trueClass` is the prepared `labelIndex`.
 */
export interface ModelInputs extends PreparedInputs, InputTable {
  /** True class index per row (-1 = unlabelled). */
  readonly trueClass: Int32Array;
}

/**
 * Prepare `dataset` for patching `model`.
 *
 * @example
 * const inputs = modelInputs(model, await loadDataset("JapaneseVowels_eq", { split: "test" }));
 */
export function modelInputs(model: HookedTST, dataset: PreparedInputs["dataset"]): ModelInputs {
  return forPatching(prepareInputs(model, dataset));
}

/**
 * Inputs already prepared (e.g. by the CLI, which also prints their notes) in the patching view.
 *
 * @example
 * const inputs = forPatching(prepareInputs(model, dataset));
 */
export function forPatching(prepared: PreparedInputs): ModelInputs {
  return { ...prepared, trueClass: prepared.labelIndex };
}

/** The same inputs with extra rows appended (e.g. noisy copies); they get `trueClass` of their origin. */
export function appendRows(
  inputs: ModelInputs,
  values: Float32Array,
  origins: readonly number[],
  S: number,
  C: number,
): ModelInputs {
  const n = origins.length;
  const x = new Float32Array(inputs.x.length + values.length);
  x.set(inputs.x);
  x.set(values, inputs.x.length);
  let mask: Uint8Array | null = null;
  if (inputs.mask !== null) {
    mask = new Uint8Array((inputs.rows + n) * S);
    mask.set(inputs.mask);
    origins.forEach((o, j) => {
      mask!.set(inputs.mask!.subarray(o * S, (o + 1) * S), (inputs.rows + j) * S);
    });
  }
  if (values.length !== n * S * C) throw new Error("appendRows: values do not match the origins");
  const trueClass = Int32Array.from([...inputs.trueClass, ...origins.map((o) => inputs.trueClass[o])]);
  return {
    ...inputs,
    x,
    mask,
    rows: inputs.rows + n,
    trueClass,
    labelIndex: trueClass,
    lengths: Int32Array.from([...inputs.lengths, ...origins.map((o) => inputs.lengths[o])]),
  };
}
