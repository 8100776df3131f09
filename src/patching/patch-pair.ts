import { inputError } from "../errors.js";
import type { HookedTST } from "../model/hooked-tst.js";
import { cacheRows, type EngineOptions, type InputTable } from "./engine.js";
import { softmax } from "./metrics.js";
import { presetComponents } from "./presets.js";
import { cacheHooksFor, patchedLogits } from "./sweep.js";
import type { HeadMode, Pair } from "./types.js";

/** Probabilities of one pair patched head by head, layer by layer and MLP by MLP. */
export interface PairPatchResult {
  readonly source: number;
  readonly target: number;
  readonly headMode: HeadMode;
  /** Softmax of the unpatched target run (K). */
  readonly baselineProbs: number[];
  /** Softmax of the unpatched source run (K). */
  readonly sourceProbs: number[];
  /** [L][H][K]: target run with head (l, h) from the source. */
  readonly headProbs: number[][][];
  /** [L][K]: target run with `blocks.l.hook_attn_out` from the source. */
  readonly layerProbs: number[][];
  /** [L][K]: target run with `blocks.l.hook_mlp_out` from the source. */
  readonly mlpProbs: number[][];
}

/**
 * Patch one pair (row indices of `table`) for every head, attention layer and
 * MLP: the study's per-pair experiment, in `z` (true per-head, default) or
 * `slice` (the study's compatibility) head mode.
 *
 * @example
 * const r = await patchPair(model, inputs, 58, 31, { headMode: "slice" });
 * r.headProbs[0][3]; // probabilities with head 0.3 patched
 */
export async function patchPair(
  model: HookedTST,
  table: InputTable,
  source: number,
  target: number,
  options: EngineOptions & { headMode?: HeadMode } = {},
): Promise<PairPatchResult> {
  const headMode = options.headMode ?? "z";
  for (const [name, row] of [
    ["source", source],
    ["target", target],
  ] as const) {
    if (!(Number.isInteger(row) && row >= 0 && row < table.rows)) {
      throw inputError(`${name} row ${row} does not exist`, {
        field: `--${name}`,
        hint: `rows are 0-based indices 0..${table.rows - 1} of the data file (the row column of tspatch eval --predictions)`,
      });
    }
  }
  const { layers: L, heads: H } = model.config;
  const components = [
    ...presetComponents(model.config, "heads", headMode),
    ...presetComponents(model.config, "layers"),
    ...presetComponents(model.config, "mlp"),
  ];
  const pair: Pair = { id: 0, source, target, direction: "denoise", trueClass: 0, goodClass: 0, badClass: 0 };
  const cache = await cacheRows(model, table, [source, target], cacheHooksFor(model, components), options);
  const logits = await patchedLogits(model, table, cache, [pair], components, options);
  const probs = logits.map((l) => Array.from(softmax(l)));
  return {
    source,
    target,
    headMode,
    baselineProbs: Array.from(softmax(cache.logitsOf(target))),
    sourceProbs: Array.from(softmax(cache.logitsOf(source))),
    headProbs: Array.from({ length: L }, (_, l) => probs.slice(l * H, (l + 1) * H)),
    layerProbs: probs.slice(L * H, L * H + L),
    mlpProbs: probs.slice(L * H + L, L * H + 2 * L),
  };
}
