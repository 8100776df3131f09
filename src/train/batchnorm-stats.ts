/**
 * BatchNorm running statistics, updated after each training step exactly as PyTorch's
 * `nn.BatchNorm1d` in train mode does (`torch/nn/modules/batchnorm.py` with momentum 0.1; the CPU
 * kernel `batch_norm_cpu_update_stats_template` computes in double and stores float32):
 *
 *     running_mean ← (1 − momentum) · running_mean + momentum · batch_mean
 *     running_var  ← (1 − momentum) · running_var  + momentum · batch_var · n / (n − 1)
 *     num_batches_tracked ← num_batches_tracked + 1
 *
 * where `batch_var` is the biased variance used to normalise the batch and n the number of values
 * per channel (batch × time for BatchNorm1d over a sequence). The running variance is unbiased.
 */

/** The buffers of one BatchNorm layer (updated in place). */
export interface BatchNormBuffers {
  runningMean: Float32Array;
  runningVar: Float32Array;
  numBatchesTracked: number;
}

/**
 * Fold one batch's statistics into the running statistics.
 *
 * @param batchMean per-channel mean of the batch
 * @param batchVar per-channel *biased* variance of the batch (what normalised it)
 * @param count values per channel in the batch (n above); must be at least 2
 * @example
 * const bn = { runningMean: new Float32Array(2), runningVar: Float32Array.of(1, 1), numBatchesTracked: 0 };
 * updateRunningStats(bn, Float32Array.of(1, 2), Float32Array.of(0.5, 0.5), 10);
 * // bn.runningMean ≈ [0.1, 0.2], bn.runningVar ≈ [0.9 + 0.1 · 0.5 · 10/9, …]
 */
export function updateRunningStats(
  buffers: BatchNormBuffers,
  batchMean: Float32Array,
  batchVar: Float32Array,
  count: number,
  momentum = 0.1,
): void {
  const { runningMean, runningVar } = buffers;
  const c = runningMean.length;
  if (batchMean.length !== c || batchVar.length !== c || runningVar.length !== c) {
    throw new Error(
      `updateRunningStats: channel counts differ (running ${c}/${runningVar.length}, batch ${batchMean.length}/${batchVar.length})`,
    );
  }
  if (!(count >= 2)) {
    // PyTorch raises "Expected more than 1 value per channel when training" for n = 1.
    throw new Error(
      `updateRunningStats: need more than 1 value per channel to train BatchNorm, got ${count}`,
    );
  }
  const unbias = count / (count - 1);
  for (let i = 0; i < c; i++) {
    runningMean[i] = momentum * batchMean[i] + (1 - momentum) * runningMean[i];
    runningVar[i] = momentum * batchVar[i] * unbias + (1 - momentum) * runningVar[i];
  }
  buffers.numBatchesTracked += 1;
}
