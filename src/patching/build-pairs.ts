import type { HookedTST } from "../model/hooked-tst.js";
import type { HookName } from "../model/hooks.js";
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
  /**
   * The sweep's cache hooks (`cacheHooksFor`): a list's few rows are classified with the graph
   * that caches them, the sweep's own first graph, instead of a logits-only graph compiled for
   * these rows alone (one ONNX Runtime session less in a small sweep). Whole-set classification
   * keeps the logits-only graph: caching every row's activations would cost memory for nothing.
   */
  cacheHooks?: readonly HookName[];
}

/**
 * Classify every input, then build pairs with a strategy (or from a list).
 * For `noised`, the noisy copies are appended to the returned inputs. A list needs predictions
 * only where a pair's two rows share their true class (the misclassified one then names the bad
 * class), so only those rows are classified (`predicted` is -1 elsewhere): a one-pair sweep on a
 * large test set would otherwise spend most of its time classifying rows it never patches, and a
 * 400-pair LSST sweep classified 790 rows that its cache runs compute again.
 *
 * @example
 * const { inputs: table, pairs } = await buildPairs(model, inputs, { strategy: "misclassified", direction: "both" });
 */
export async function buildPairs(
  model: HookedTST,
  inputs: ModelInputs,
  options: BuildPairsOptions,
): Promise<{ inputs: ModelInputs; pairs: PairSet; predicted: Int32Array }> {
  if (options.list !== undefined) {
    const predicted = await predictRows(
      model,
      inputs,
      sameClassRows(options.list, inputs.trueClass),
      options.cacheHooks ?? [],
    );
    const rows = { trueClass: inputs.trueClass, predicted };
    return { inputs, pairs: pairsFromList(options.list, rows, options), predicted };
  }
  const predicted = await predict(model, inputs.x, inputs.mask);
  const rows = { trueClass: inputs.trueClass, predicted };
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
  cache: readonly HookName[] = [],
): Promise<Int32Array> {
  const { logits, batch, classes } = await model.run(x, { mask, cache });
  const out = new Int32Array(batch);
  for (let i = 0; i < batch; i++) out[i] = argmax(logits, i * classes, classes);
  return out;
}

/** The distinct rows of the list's pairs whose two rows have the same true class, ascending. */
function sameClassRows(list: readonly { source: number; target: number }[], trueClass: Int32Array): number[] {
  const same = list.filter((p) => trueClass[p.source] === trueClass[p.target]);
  return [...new Set(same.flatMap((p) => [p.source, p.target]))].sort((a, b) => a - b);
}

/** The predicted class of the given rows, -1 for every other row. */
async function predictRows(
  model: HookedTST,
  inputs: ModelInputs,
  rows: readonly number[],
  cache: readonly HookName[],
): Promise<Int32Array> {
  const { seqLen: S, channels: C } = model.config;
  const x = new Float32Array(rows.length * S * C);
  const mask = inputs.mask === null ? null : new Uint8Array(rows.length * S);
  rows.forEach((row, i) => {
    x.set(inputs.x.subarray(row * S * C, (row + 1) * S * C), i * S * C);
    mask?.set((inputs.mask as Uint8Array).subarray(row * S, (row + 1) * S), i * S);
  });
  const out = new Int32Array(inputs.rows).fill(-1);
  if (rows.length === 0) return out;
  const some = await predict(model, x, mask, cache);
  rows.forEach((row, i) => {
    out[row] = some[i];
  });
  return out;
}
