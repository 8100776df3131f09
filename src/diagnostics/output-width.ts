/**
 * Output width vs classes: a model with more outputs than the data has classes (the reference
 * checkpoints: 10 outputs for JapaneseVowels' 9 classes, 96 for LSST's 14, from the reference's
 * int(label) class map). The unused outputs still take probability mass, so P(true) of every
 * input is diluted and ΔP(true) and recovery are measured against a smaller total.
 */
import { argmax, softmax } from "../patching/metrics.js";
import type { Finding } from "./finding.js";

/**
 * Outputs that are never a true class, and the mean probability they take.
 *
 * @example
 * outputWidthFindings(10, inputs.trueClass, result.baselines.map((b) => b.targetLogits));
 */
export function outputWidthFindings(
  outputs: number,
  trueClasses: ArrayLike<number>,
  logits: readonly ArrayLike<number>[],
): Finding[] {
  const used = new Set<number>();
  for (let i = 0; i < trueClasses.length; i++) if (trueClasses[i] >= 0) used.add(trueClasses[i]);
  const unused: number[] = [];
  for (let k = 0; k < outputs; k++) if (!used.has(k)) unused.push(k);
  if (unused.length === 0) return [];
  let mass = 0;
  let maxMass = 0;
  let predictedUnused = 0;
  for (const row of logits) {
    const p = softmax(row);
    let m = 0;
    for (const k of unused) m += p[k];
    mass += m;
    maxMass = Math.max(maxMass, m);
    if (!used.has(argmax(row, 0, row.length))) predictedUnused++;
  }
  const meanMass = logits.length === 0 ? 0 : mass / logits.length;
  const shown = unused.length > 12 ? `${unused.slice(0, 12).join(", ")}, …` : unused.join(", ");
  return [
    {
      code: "output-width",
      severity: "warning",
      message:
        `the model has ${outputs} outputs but the data has ${used.size} classes: ${unused.length} outputs ` +
        `(${shown}) are never a true class and take a mean ${meanMass.toExponential(2)} of the probability ` +
        `(max ${maxMass.toExponential(2)}) over ${logits.length} patched inputs${predictedUnused > 0 ? `; ${predictedUnused} of them are predicted as an unused output` : ""}`,
      detail: {
        outputs,
        classes: used.size,
        unused_outputs: unused,
        mean_unused_probability: meanMass,
        max_unused_probability: maxMass,
        inputs: logits.length,
        predicted_unused: predictedUnused,
      },
    },
  ];
}
