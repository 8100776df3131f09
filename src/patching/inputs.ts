import type { Dataset } from "../data/dataset.js";
import { buildLabelMap, type LabelMap } from "../data/labels.js";
import { withLabelMap } from "../data/registry.js";
import { inputError } from "../errors.js";
import type { HookedTST } from "../model/hooked-tst.js";
import { modelInput } from "../model/model-input.js";
import type { InputTable } from "./engine.js";

/**
 * A dataset made ready for a model: labels in the model's class indices, missing
 * values, resampling and padding as the model's preprocessing says (its
 * normalisation runs inside the graph), and a padding mask.
 */
export interface ModelInputs extends InputTable {
  readonly dataset: Dataset;
  /** True class index per row (-1 = unlabelled). */
  readonly trueClass: Int32Array;
  readonly labelMap: LabelMap;
  /** Real length of each row (for noise). */
  readonly lengths: Int32Array;
}

/**
 * Prepare `dataset` for `model`.
 *
 * @example
 * const inputs = modelInputs(model, await loadDataset("JapaneseVowels_eq", { split: "test" }));
 */
export function modelInputs(model: HookedTST, dataset: Dataset): ModelInputs {
  const K = model.config.classes;
  const labelMap = model.labelMap ?? inferLabelMap(dataset, K);
  if (labelMap.outputs !== K) {
    throw inputError(`the model's label map has ${labelMap.outputs} outputs, the model ${K}`, {
      field: "labelMap",
    });
  }
  const ds = withLabelMap(dataset, labelMap);
  const { x, mask, batch } = modelInput(model, ds);
  const S = model.config.seqLen;
  const lengths = Int32Array.from(ds.lengths, (n) => Math.min(n, S));
  if (model.preprocess?.resampleLength != null) lengths.fill(model.preprocess.resampleLength);
  return { dataset: ds, x, mask, rows: batch, trueClass: Int32Array.from(ds.labelIndex), labelMap, lengths };
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
  return {
    ...inputs,
    x,
    mask,
    rows: inputs.rows + n,
    trueClass: Int32Array.from([...inputs.trueClass, ...origins.map((o) => inputs.trueClass[o])]),
    lengths: Int32Array.from([...inputs.lengths, ...origins.map((o) => inputs.lengths[o])]),
  };
}

/** A label map for a model that carries none: int(label) when that fits K outputs, else dense. */
function inferLabelMap(dataset: Dataset, K: number): LabelMap {
  const labels = dataset.labels.filter((l) => l !== "");
  try {
    const intMap = buildLabelMap(labels, { kind: "int" });
    if (intMap.outputs === K) return intMap;
  } catch {
    // not integer labels: fall through to the dense map
  }
  const dense = buildLabelMap(labels, { declared: dataset.declaredLabels });
  if (dense.outputs > K) {
    throw inputError(`the data has ${dense.outputs} classes, the model only ${K} outputs`, {
      file: dataset.file,
      hint: "use the dataset the model was trained on",
    });
  }
  return { ...dense, outputs: K };
}
