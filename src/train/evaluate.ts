import type { Dataset } from "../data/dataset.js";
import { buildLabelMap, type LabelMap, labelToIndex } from "../data/labels.js";
import { withLabelMap } from "../data/registry.js";
import { inputError } from "../errors.js";
import type { HookedTST } from "../model/hooked-tst.js";
import { modelInput } from "../model/model-input.js";

export interface ClassMetrics {
  label: string;
  /** TP / (TP + FP); null when the class was never predicted. */
  precision: number | null;
  /** TP / (TP + FN); null when the class does not occur in the data. */
  recall: number | null;
  /** Number of cases whose true class this is. */
  support: number;
}

/** Evaluation of a model on labelled data (scikit-learn's conventions for the matrix). */
export interface EvalResult {
  accuracy: number;
  n: number;
  correct: number;
  /** Class labels, the order of the confusion matrix rows and columns. */
  classes: string[];
  /** confusion[i][j] = cases of true class i predicted as class j. */
  confusion: number[][];
  /**
   * Per true class: predictions of an output that has no label (possible with the reference's
   * int(label) map, e.g. output 0 of the JapaneseVowels checkpoint). They count as errors.
   */
  unlabeledPredictions: number[];
  perClass: ClassMetrics[];
  /** Predicted output index per case. */
  predictions: Int32Array;
  /** Model output index per case of the true label. */
  targets: Int32Array;
}

/**
 * Accuracy, confusion matrix (rows = true class, columns = predicted) and
 * per-class precision/recall of a model on a labelled dataset. Labels are
 * mapped with the model's label map (so a model trained with the int(label)
 * map is scored on the same indices).
 *
 * @example
 * const result = await evaluate(model, await loadDataset("PenDigits", { split: "test" }));
 * result.accuracy; // 0.98…
 */
export async function evaluate(
  model: HookedTST,
  dataset: Dataset,
  options: { resample?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<EvalResult> {
  if (dataset.labels.length === 0 || dataset.labels.every((l) => l === "")) {
    throw inputError("the data has no class labels to evaluate against", {
      file: dataset.file,
      hint: "evaluate on a labelled split (e.g. the TEST file)",
    });
  }
  const labelMap = model.labelMap ?? denseMapFitting(model, dataset);
  const encoded = withLabelMap(dataset, labelMap);
  const { x, mask } = modelInput(model, dataset, { resample: options.resample });
  const { logits, classes: K } = await model.run(x, { mask, onProgress: options.onProgress });
  const n = dataset.cases;
  const predictions = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (logits[i * K + k] > logits[i * K + best]) best = k;
    predictions[i] = best;
  }
  const classes = labelMap.classes;
  const rowOfIndex = new Map(classes.map((label, row) => [labelToIndex(labelMap, label), row]));
  const C = classes.length;
  const confusion = Array.from({ length: C }, () => new Array<number>(C).fill(0));
  const unlabeledPredictions = new Array<number>(C).fill(0);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const t = rowOfIndex.get(encoded.labelIndex[i]) as number;
    const p = rowOfIndex.get(predictions[i]);
    if (predictions[i] === encoded.labelIndex[i]) correct++;
    if (p === undefined) unlabeledPredictions[t]++;
    else confusion[t][p]++;
  }
  const perClass = classes.map((label, c) => {
    const tp = confusion[c][c];
    const predicted = confusion.reduce((s, row) => s + row[c], 0);
    const support = confusion[c].reduce((s, v) => s + v, 0) + unlabeledPredictions[c];
    return {
      label,
      precision: predicted === 0 ? null : tp / predicted,
      recall: support === 0 ? null : tp / support,
      support,
    };
  });
  return {
    accuracy: correct / n,
    n,
    correct,
    classes: [...classes],
    confusion,
    unlabeledPredictions,
    perClass,
    predictions,
    targets: encoded.labelIndex,
  };
}

/** A model without a label map: the dense map of the data, if its class count fits the outputs. */
function denseMapFitting(model: HookedTST, dataset: Dataset): LabelMap {
  const dense = buildLabelMap(dataset.labels, { declared: dataset.declaredLabels });
  if (dense.outputs !== model.config.classes) {
    throw inputError(
      `the model has ${model.config.classes} outputs and no label map; the data has ${dense.outputs} classes`,
      {
        file: dataset.file,
        hint: "load the model with the data it belongs to (a .pth gets its label map from --data), or retrain",
      },
    );
  }
  return dense;
}
