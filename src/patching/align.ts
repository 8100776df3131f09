import { inputError } from "../errors.js";
import { type TSTConfig, tokenCount, tokenLengths } from "../model/config.js";
import type { InputTable } from "./engine.js";
import { ALIGNMENTS, type Alignment, type Pair } from "./types.js";

/**
 * Alignment of two inputs of different lengths (DESIGN.md "Alignment"). The model takes series
 * right-padded to its seqLen with a mask (1 = real step); a step that is padding in one input
 * holds no time step of that input (in layer 0 an activation computed from zeros, later an
 * attention average), so copying it into a real step of the other input patches in something the
 * source never had, and copying a real step into the other's padding changes nothing.
 *
 * Positions are the model's tokens: time steps for the conv and linear stems; patch windows (and
 * the CLS token, always real) otherwise, a token being real when its window's first step is
 * (`tokenLengths` in model/config.ts, the one mapping). Counts, overlap and step masks below are
 * in tokens; for a model whose tokens are its steps they are the steps.
 *
 * `overlap` therefore writes only the steps real in both inputs. Steps that are padding in the
 * target never reach the output (they are masked as attention keys and in the max-pool, and every
 * hook after the conv stack mixes steps only through attention), so a patch needs a step mask only
 * where the target has a real step that the source lacks ({@link PairAlignment.writeSteps});
 * where it does not (equal lengths, or a longer source) the engine's unrestricted path gives the
 * same numbers bit for bit and is kept.
 *
 * `resample` resamples the source's raw input onto the target's real steps and runs that
 * resampled source; see {@link alignInputs} for why the input and not the cached activations.
 */

/** How one pair's inputs line up (in tokens: steps for a model whose tokens are its steps). */
export interface PairAlignment {
  /** Real tokens of the source and of the target. */
  readonly sourceSteps: number;
  readonly targetSteps: number;
  /** Steps real in both inputs: what a whole-sequence patch writes. */
  readonly patchedSteps: number;
  /** patchedSteps / targetSteps: the share of the target's real steps that receive the source's values. */
  readonly overlap: number;
  /** Per step, 1 = real in both inputs; null = every step is real in both. */
  readonly shared: Uint8Array | null;
  /**
   * The steps a whole-sequence patch may write (1 = write), or null when it may write every step:
   * no real step of the target is padding in the source.
   */
  readonly writeSteps: Uint8Array | null;
}

/** The fields of a model config that decide its tokens. */
export type TokenLayout = Pick<TSTConfig, "seqLen" | "stem" | "patchLen" | "patchStride" | "cls">;

/**
 * Which tokens of one right-padded row are real (1), from its step mask: the step mask itself
 * when tokens are steps, else the first `tokenLengths` tokens.
 */
function tokenRow(layout: TokenLayout, steps: Uint8Array): Uint8Array {
  if (layout.stem !== "patch" && !layout.cls) return steps;
  let real = 0;
  for (const v of steps) if (v !== 0) real++;
  const [n] = tokenLengths(layout, [real]);
  const row = new Uint8Array(tokenCount(layout));
  row.fill(1, 0, n);
  return row;
}

/**
 * How the rows `source` and `target` of `table` line up, token by token (see the file comment);
 * `model` is the model's config, or its seqLen for a model whose tokens are its steps.
 *
 * @example
 * alignPair(inputs, 3, 7, model.config); // { sourceSteps: 10, targetSteps: 25, patchedSteps: 10, overlap: 0.4, ... }
 */
export function alignPair(
  table: InputTable,
  source: number,
  target: number,
  model: TokenLayout | number,
): PairAlignment {
  // A bare length: a model whose tokens are its steps.
  const layout: TokenLayout =
    typeof model === "number"
      ? { seqLen: model, stem: "conv", patchLen: 0, patchStride: 0, cls: false }
      : model;
  const seqLen = layout.seqLen;
  const T = tokenCount(layout);
  if (table.mask === null) {
    return {
      sourceSteps: T,
      targetSteps: T,
      patchedSteps: T,
      overlap: 1,
      shared: null,
      writeSteps: null,
    };
  }
  const s = tokenRow(layout, table.mask.subarray(source * seqLen, (source + 1) * seqLen));
  const t = tokenRow(layout, table.mask.subarray(target * seqLen, (target + 1) * seqLen));
  let sourceSteps = 0;
  let targetSteps = 0;
  let patchedSteps = 0;
  let targetOnly = 0;
  for (let i = 0; i < T; i++) {
    if (s[i] !== 0) sourceSteps++;
    if (t[i] !== 0) targetSteps++;
    if (s[i] !== 0 && t[i] !== 0) patchedSteps++;
    else if (t[i] !== 0) targetOnly++;
  }
  const shared = new Uint8Array(T);
  for (let i = 0; i < T; i++) shared[i] = s[i] !== 0 && t[i] !== 0 ? 1 : 0;
  return {
    sourceSteps,
    targetSteps,
    patchedSteps,
    overlap: targetSteps === 0 ? 0 : patchedSteps / targetSteps,
    shared: patchedSteps === T ? null : shared,
    writeSteps: targetOnly === 0 ? null : shared,
  };
}

/**
 * The table and pairs a patching run computes on under `align`. `overlap`: the same ones.
 * `resample`: for every pair whose source and target masks differ, a row is appended holding the
 * source's real steps resampled onto the target's real steps, and the pair's source points to it;
 * the returned pairs keep their ids, directions and classes (only `source` changes).
 *
 * Why the raw input and not the cached activations: an activation at a step is a function of the
 * whole series (attention mixes steps, the conv stack reads neighbours and the padding), so an
 * interpolation between two steps' activations is no activation the model produces for any input,
 * and LayerNorm / ReLU downstream are not linear in it. The resampled input is a series like any
 * other; running it gives genuine activations at exactly the target's real steps, with the target's
 * mask, so every patch is then an equal-length patch. The target is never resampled: it is the
 * run being explained. Resampling the raw values is the same as resampling normalised values (the
 * normalisation inside the graph is affine per channel and commutes with linear interpolation).
 * The pair's source probabilities (and recovery's denominator) are those of the resampled source.
 *
 * @example
 * const { table, pairs: computed } = alignInputs(inputs, pairs, "resample", 29, 12);
 */
export function alignInputs(
  table: InputTable,
  pairs: readonly Pair[],
  align: Alignment,
  seqLen: number,
  channels: number,
): { table: InputTable; pairs: readonly Pair[] } {
  checkAlignment(align);
  if (align === "overlap" || table.mask === null) return { table, pairs };
  const mask = table.mask;
  const S = seqLen;
  const C = channels;
  const rowOf = (r: number) => mask.subarray(r * S, (r + 1) * S);
  const added = new Map<string, number>();
  const extra: { source: number; target: number }[] = [];
  const computed = pairs.map((pair) => {
    const s = rowOf(pair.source);
    const t = rowOf(pair.target);
    if (s.every((v, i) => (v !== 0) === (t[i] !== 0))) return pair;
    const key = `${pair.source}|${Array.from(t, (v) => (v !== 0 ? 1 : 0)).join("")}`;
    let row = added.get(key);
    if (row === undefined) {
      row = table.rows + extra.length;
      added.set(key, row);
      extra.push({ source: pair.source, target: pair.target });
    }
    return { ...pair, source: row };
  });
  if (extra.length === 0) return { table, pairs };
  const rows = table.rows + extra.length;
  const x = new Float32Array(rows * S * C);
  x.set(table.x.subarray(0, table.rows * S * C));
  const newMask = new Uint8Array(rows * S);
  newMask.set(mask.subarray(0, table.rows * S));
  extra.forEach(({ source, target }, j) => {
    const row = table.rows + j;
    resampleOnto(table.x, rowOf(source), rowOf(target), source, x, row, S, C);
    newMask.set(rowOf(target), row * S);
  });
  return { table: { x, mask: newMask, rows }, pairs: computed };
}

/**
 * Write row `from`'s real steps, linearly interpolated in relative time, onto the real steps of
 * `targetMask` in row `to` of `out` (padding stays 0). Step j of m target steps reads source
 * position j·(n−1)/(m−1) of n: the first and last steps are kept, as in the data layer's
 * `resampleDataset`.
 */
function resampleOnto(
  x: Float32Array,
  sourceMask: Uint8Array,
  targetMask: Uint8Array,
  from: number,
  out: Float32Array,
  to: number,
  S: number,
  C: number,
): void {
  const src: number[] = [];
  const dst: number[] = [];
  for (let i = 0; i < S; i++) {
    if (sourceMask[i] !== 0) src.push(i);
    if (targetMask[i] !== 0) dst.push(i);
  }
  const n = src.length;
  const m = dst.length;
  if (n === 0) return;
  for (let j = 0; j < m; j++) {
    const pos = m === 1 || n === 1 ? 0 : (j * (n - 1)) / (m - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, n - 1);
    const w = pos - lo;
    const a0 = (from * S + src[lo]) * C;
    const b0 = (from * S + src[hi]) * C;
    const o = (to * S + dst[j]) * C;
    for (let c = 0; c < C; c++) {
      const a = x[a0 + c];
      out[o + c] = w === 0 ? a : a * (1 - w) + x[b0 + c] * w;
    }
  }
}

/**
 * Check an alignment name (library options and `--align`); an InputError names the choices.
 *
 * @example
 * checkAlignment("overlap", "--align"); // "overlap"
 */
export function checkAlignment(value: string, field = "align"): Alignment {
  if (!(ALIGNMENTS as readonly string[]).includes(value)) {
    throw inputError(`unknown alignment "${value}"`, {
      field,
      hint:
        "use overlap (patch only the steps real in both inputs; the default) or resample " +
        "(resample the source onto the target's length, for series whose step position means phase)",
    });
  }
  return value as Alignment;
}
