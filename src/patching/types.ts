/**
 * The vocabulary of patching (DESIGN.md "Patching vocabulary") as types: what a
 * component is, what a pair is, and which way a patch goes.
 */

/**
 * How a "head" is patched.
 * - `z` (default): true per-head patching, `blocks.l.attn.hook_z[:, :, h, :]` (before W_O).
 * - `slice`: the published study's compatibility mode, dims `h·dh .. h·dh+dh−1` of
 *   `blocks.l.hook_attn_out` (after W_O, where the slices mix all heads). Never the default.
 */
export type HeadMode = "z" | "slice";

export const HEAD_MODES: readonly HeadMode[] = ["z", "slice"];

/** Which residual-stream point of a layer. */
export type ResidPoint = "pre" | "mid" | "post";

/** The input side of a receiver head that path patching writes to. */
export type ReceiverInput = "q" | "k" | "v";

export interface HeadRef {
  readonly layer: number;
  readonly head: number;
}

/**
 * One thing patched in one patched run. `position` (a time step) restricts the
 * patch to that step; absent = all steps.
 */
export type Component =
  | {
      readonly kind: "head";
      readonly layer: number;
      readonly head: number;
      readonly mode: HeadMode;
      readonly position?: number;
    }
  | { readonly kind: "attn"; readonly layer: number; readonly position?: number }
  | { readonly kind: "mlp"; readonly layer: number; readonly position?: number }
  | { readonly kind: "resid"; readonly layer: number; readonly point: ResidPoint; readonly position?: number }
  | { readonly kind: "group"; readonly heads: readonly HeadRef[]; readonly mode: HeadMode }
  | {
      readonly kind: "path";
      readonly sender: HeadRef;
      readonly receiver: HeadRef;
      readonly input: ReceiverInput;
    };

export type ComponentKind = Component["kind"];

/**
 * Which way a pair is patched. `denoise`: the correct (clean) input's activations go
 * into the misclassified (corrupted) run; `noise`: the reverse. Never pooled.
 */
export type Direction = "denoise" | "noise";

/**
 * How a patch lines up a source and a target of different lengths (DESIGN.md "Alignment"; align.ts).
 * - `overlap` (default): a patch writes only the steps that are real in both inputs; the target's
 *   other steps keep their own values.
 * - `resample`: the source's real steps are resampled (linear interpolation in relative time) onto
 *   the target's length and that resampled source is run and patched in; for data where a step's
 *   position means a phase of the series rather than a time.
 */
export type Alignment = "overlap" | "resample";

export const ALIGNMENTS: readonly Alignment[] = ["overlap", "resample"];

/**
 * Whether a (pair, component) run was made.
 * - `ok`: patched and measured;
 * - `not_applicable`: a position patch at a step that is padding in the source or the target;
 *   nothing is run and the row has no metrics (it never enters statistics);
 * - `no_overlap`: the two inputs share no real step, so the patch writes nothing: the patched run
 *   is the target's own run (effect 0), flagged.
 */
export type RowStatus = "ok" | "not_applicable" | "no_overlap";

/** How pairs were chosen (DESIGN.md "Pair strategies"), or `file` for a user's pairs file. */
export type PairStrategy = "misclassified" | "cross-class" | "noised" | "file";

export const PAIR_STRATEGIES: readonly Exclude<PairStrategy, "file">[] = [
  "misclassified",
  "cross-class",
  "noised",
];

/**
 * A source/target pair in patching order: the target is run, and activations
 * are taken from the source. Indices point into the input table the pair was
 * built for (the data file's rows, then any noised copies).
 */
export interface Pair {
  /** Stable id: the same for the denoise and noise runs of one underlying pair. */
  readonly id: number;
  readonly source: number;
  readonly target: number;
  readonly direction: Direction;
  /**
   * Class whose probability ΔP(true) and recovery track: the true label of the
   * target (misclassified and noised pairs share it with the source).
   */
  readonly trueClass: number;
  /**
   * Logit difference = logit(goodClass) − logit(badClass). misclassified / noised:
   * the true class vs the wrong class predicted for the misclassified member;
   * cross-class: the source's true class vs the target's true class.
   */
  readonly goodClass: number;
  readonly badClass: number;
}
