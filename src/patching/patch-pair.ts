import { inputError } from "../errors.js";
import type { HookedTST } from "../model/hooked-tst.js";
import { alignInputs, alignPair, checkAlignment } from "./align.js";
import { cacheRows, type EngineOptions, type InputTable } from "./engine.js";
import { softmax } from "./metrics.js";
import { presetComponents } from "./presets.js";
import { cacheHooksFor, patchedChunk } from "./sweep.js";
import type { Alignment, HeadMode, Pair } from "./types.js";

/** Probabilities of one pair patched head by head, layer by layer and MLP by MLP. */
export interface PairPatchResult {
  readonly source: number;
  readonly target: number;
  readonly headMode: HeadMode;
  readonly align: Alignment;
  /**
   * How the pair lined up (align.ts): real steps of each input, steps patched, their share of the
   * target's steps, and `noOverlap` when no real step is shared (then every patched run is the
   * target's own).
   */
  readonly alignment: {
    readonly sourceSteps: number;
    readonly targetSteps: number;
    readonly patchedSteps: number;
    readonly overlap: number;
    readonly noOverlap: boolean;
  };
  /** Softmax of the unpatched target run (K). */
  readonly baselineProbs: number[];
  /** Softmax of the unpatched source run (K; the resampled source under `resample`). */
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
 * `slice` (the study's compatibility) head mode. Inputs of different lengths are aligned as
 * `align` says (default overlap, see align.ts).
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
  options: EngineOptions & { headMode?: HeadMode; align?: Alignment } = {},
): Promise<PairPatchResult> {
  const headMode = options.headMode ?? "z";
  const align = checkAlignment(options.align ?? "overlap");
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
  const { seqLen, channels } = model.config;
  const aligned = alignInputs(table, [pair], align, seqLen, channels);
  const run = aligned.pairs[0];
  const hooks = cacheHooksFor(model, components);
  const cache = await cacheRows(model, aligned.table, [run.source, target], hooks, options);
  const chunk = await patchedChunk(model, aligned.table, cache, [run], components, options);
  const probs = chunk.logits.map((l) => Array.from(softmax(l)));
  const a = chunk.alignments[0];
  return {
    source,
    target,
    headMode,
    align,
    alignment: {
      sourceSteps: alignPair(table, source, target, model.config).sourceSteps,
      targetSteps: a.targetSteps,
      patchedSteps: a.patchedSteps,
      overlap: a.overlap,
      noOverlap: a.patchedSteps === 0,
    },
    baselineProbs: Array.from(softmax(cache.logitsOf(target))),
    sourceProbs: Array.from(softmax(cache.logitsOf(run.source))),
    headProbs: Array.from({ length: L }, (_, l) => probs.slice(l * H, (l + 1) * H)),
    layerProbs: probs.slice(L * H, L * H + L),
    mlpProbs: probs.slice(L * H + L, L * H + 2 * L),
  };
}
