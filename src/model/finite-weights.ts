import { inputError } from "../errors.js";

/**
 * Refuses weights that hold NaN or ±Inf: such a model computes NaN logits, so every accuracy,
 * probability and patching effect derived from it would be meaningless (not merely imprecise).
 * The error names each bad tensor, how many values and the first index.
 *
 * @example
 * assertFiniteWeights(new Map([["unembed.b_U", Float32Array.of(0.5, Number.NaN)]]), "model.pth");
 * // InputError: model.pth: weights are not finite: unembed.b_U has 1 non-finite value (NaN at index 1) …
 */
export function assertFiniteWeights(weights: Iterable<[string, ArrayLike<number>]>, file?: string): void {
  const problems: string[] = [];
  for (const [name, data] of weights) {
    let bad = 0;
    let first = -1;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        bad++;
        if (first < 0) first = i;
      }
    }
    if (bad > 0) {
      problems.push(
        `${name} has ${bad} non-finite value${bad === 1 ? "" : "s"} (${String(data[first])} at index ${first})`,
      );
    }
  }
  if (problems.length > 0) {
    throw inputError(
      `weights are not finite: ${problems.slice(0, 5).join("; ")}${problems.length > 5 ? "; …" : ""}`,
      {
        file,
        hint: "the file is corrupt or was saved after training diverged; use a checkpoint saved before the first NaN/Inf loss",
      },
    );
  }
}
