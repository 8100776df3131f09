/**
 * Mean cross-entropy and accuracy of logits (rows × classes) against class indices, in float64.
 * The loss is log-sum-exp(logits) − logit[label] per row (stable: the row max is subtracted first),
 * the same quantity as `torch.nn.functional.cross_entropy` with mean reduction.
 *
 * @example
 * const { loss, correct } = logitMetrics(Float32Array.of(2, 0, 0, 1), Int32Array.of(0, 1), 2);
 * // loss = mean(log(1 + e^-2), log(1 + e^-1)), correct = 2
 */
export function logitMetrics(
  logits: Float32Array,
  labels: Int32Array,
  classes: number,
): { loss: number; correct: number; n: number } {
  const n = labels.length;
  if (logits.length !== n * classes) {
    throw new Error(`logitMetrics: ${logits.length} logits for ${n} rows × ${classes} classes`);
  }
  let lossSum = 0;
  let correct = 0;
  for (let r = 0; r < n; r++) {
    const row = r * classes;
    let max = Number.NEGATIVE_INFINITY;
    let arg = 0;
    for (let k = 0; k < classes; k++) {
      if (logits[row + k] > max) {
        max = logits[row + k];
        arg = k;
      }
    }
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += Math.exp(logits[row + k] - max);
    lossSum += Math.log(sum) + max - logits[row + labels[r]];
    if (arg === labels[r]) correct++;
  }
  return { loss: n > 0 ? lossSum / n : Number.NaN, correct, n };
}
