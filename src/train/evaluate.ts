import type { Dataset } from "../data/dataset.js";
import { indexToLabel, type LabelMap, labelToIndex } from "../data/labels.js";
import { inputError } from "../errors.js";
import type { HookedTST } from "../model/hooked-tst.js";
import { type PreparedInputs, prepareInputs } from "../model/prepare-inputs.js";

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
  /** P(true label) per case (softmax of the logits, float64). */
  pTrue: Float64Array;
  /** P(predicted output) per case. */
  pPredicted: Float64Array;
  /** The label map the indices are in. */
  labelMap: LabelMap;
}

/**
 * Accuracy, confusion matrix (rows = true class, columns = predicted),
 * per-class precision/recall and per-row probabilities of a model on labelled
 * data. Labels are the model's class indices from {@link prepareInputs} (the
 * one label-map rule), so every command scores the same rows on the same indices.
 *
 * @example
 * const result = await evaluate(model, await loadDataset("PenDigits", { split: "test" }));
 * result.accuracy; // 0.98…
 */
export async function evaluate(
  model: HookedTST,
  data: Dataset | PreparedInputs,
  options: {
    resample?: number;
    /** Rows per runtime call (default: the model's, 256). */
    chunkSize?: number;
    onProgress?: (done: number, total: number) => void;
  } = {},
): Promise<EvalResult> {
  const inputs = "preprocessing" in data ? data : prepareInputs(model, data, { resample: options.resample });
  const { labelMap, labelIndex, rows: n } = inputs;
  if (labelMap === null || n === 0 || labelIndex.every((y) => y < 0)) {
    throw inputError("the data has no class labels to evaluate against", {
      file: inputs.dataset.file,
      hint: "evaluate on a labelled split (e.g. the TEST file)",
    });
  }
  const { logits, classes: K } = await model.run(inputs.x, {
    mask: inputs.mask,
    chunkSize: options.chunkSize,
    onProgress: options.onProgress,
  });
  const predictions = new Int32Array(n);
  const pTrue = new Float64Array(n);
  const pPredicted = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (logits[i * K + k] > logits[i * K + best]) best = k;
    predictions[i] = best;
    // Softmax in float64 from the logits, max subtracted (exp of the max term is 1).
    let sum = 0;
    for (let k = 0; k < K; k++) sum += Math.exp(logits[i * K + k] - logits[i * K + best]);
    pPredicted[i] = 1 / sum;
    pTrue[i] = Math.exp(logits[i * K + labelIndex[i]] - logits[i * K + best]) / sum;
  }
  const classes = labelMap.classes;
  const rowOfIndex = new Map(classes.map((label, row) => [labelToIndex(labelMap, label), row]));
  const C = classes.length;
  const confusion = Array.from({ length: C }, () => new Array<number>(C).fill(0));
  const unlabeledPredictions = new Array<number>(C).fill(0);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const t = rowOfIndex.get(labelIndex[i]) as number;
    const p = rowOfIndex.get(predictions[i]);
    if (predictions[i] === labelIndex[i]) correct++;
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
    targets: labelIndex,
    pTrue,
    pPredicted,
    labelMap,
  };
}

/** One row of {@link predictionRows}: what the model said about one input. */
export interface PredictionRow {
  /** 0-based row of the data (the id `patch --source/--target` take). */
  row: number;
  trueLabel: string;
  /** Null when the predicted output has no label (possible with the int(label) map). */
  predictedLabel: string | null;
  pTrue: number;
  pPredicted: number;
  correct: boolean;
}

/**
 * Per-row predictions of an evaluation, for choosing patching pairs (a correct and an
 * incorrect row of the same class).
 *
 * @example
 * predictionRows(await evaluate(model, test)).filter((r) => !r.correct);
 */
export function predictionRows(result: EvalResult): PredictionRow[] {
  return Array.from(result.predictions, (k, row) => ({
    row,
    trueLabel: indexToLabel(result.labelMap, result.targets[row]) ?? "",
    predictedLabel: indexToLabel(result.labelMap, k) ?? null,
    pTrue: result.pTrue[row],
    pPredicted: result.pPredicted[row],
    correct: k === result.targets[row],
  }));
}
