import type { HookedTST } from "../model/hooked-tst.js";
import { appendRows, type ModelInputs } from "./inputs.js";
import { argmax } from "./metrics.js";
import { makeNoisedPairs, noisedCandidates } from "./noise.js";
import { type DirectionChoice, makePairs, type PairSet, pairsFromList } from "./pairs.js";
import type { PairStrategy } from "./types.js";

export interface BuildPairsOptions {
  strategy: Exclude<PairStrategy, "file">;
  direction?: DirectionChoice;
  maxSourcesPerTarget?: number;
  maxTargetsPerClass?: number;
  classes?: readonly number[];
  seed?: number;
  /** noised: SNR in dB (default 10). */
  snrDb?: number;
  /** Explicit pairs (e.g. from a pairs file) instead of a strategy. */
  list?: readonly { source: number; target: number }[];
}

/**
 * Classify every input, then build pairs with a strategy (or from a list).
 * For `noised`, the noisy copies are appended to the returned inputs.
 *
 * @example
 * const { inputs: table, pairs } = await buildPairs(model, inputs, { strategy: "misclassified", direction: "both" });
 */
export async function buildPairs(
  model: HookedTST,
  inputs: ModelInputs,
  options: BuildPairsOptions,
): Promise<{ inputs: ModelInputs; pairs: PairSet; predicted: Int32Array }> {
  const predicted = await predict(model, inputs.x, inputs.mask);
  const rows = { trueClass: inputs.trueClass, predicted };
  if (options.list !== undefined) {
    return { inputs, pairs: pairsFromList(options.list, rows, options), predicted };
  }
  if (options.strategy !== "noised") {
    return { inputs, pairs: makePairs(options.strategy, rows, options), predicted };
  }
  const { seqLen: S, channels: C } = model.config;
  const candidates = noisedCandidates(
    { values: inputs.x, lengths: inputs.lengths, maxLength: S, channels: C },
    rows,
    options,
  );
  const extended = appendRows(inputs, candidates.values, candidates.sources, S, C);
  const noisyPredicted =
    candidates.sources.length === 0
      ? new Int32Array(0)
      : await predict(model, candidates.values, extended.mask?.subarray(inputs.rows * S) ?? null);
  const pairs = makeNoisedPairs(candidates, noisyPredicted, rows, inputs.rows, options);
  return { inputs: extended, pairs, predicted: Int32Array.from([...predicted, ...noisyPredicted]) };
}

/** The predicted class of each row (argmax of the logits). */
export async function predict(
  model: HookedTST,
  x: Float32Array,
  mask: Uint8Array | null,
): Promise<Int32Array> {
  const { logits, batch, classes } = await model.run(x, { mask });
  const out = new Int32Array(batch);
  for (let i = 0; i < batch; i++) out[i] = argmax(logits, i * classes, classes);
  return out;
}
