/**
 * The findings of one sweep, in the order a reader needs them: broken patches first, then what
 * limits the metrics (saturation, output width), then the design (size, dependence).
 */
import type { PairSet } from "../patching/pairs.js";
import type { SweepResult } from "../patching/sweep.js";
import { dependenceFindings, designFindings } from "./design.js";
import type { Finding } from "./finding.js";
import { outputWidthFindings } from "./output-width.js";
import { noOpFindings } from "./patch-sanity.js";
import { saturationFindings } from "./saturation.js";

/**
 * Everything checked after a sweep (patchSanity runs before it).
 *
 * @example
 * const findings = [...sanity, ...sweepFindings(result, built.pairs, model.config.classes, inputs.trueClass)];
 */
export function sweepFindings(
  result: SweepResult,
  pairs: PairSet,
  outputs: number,
  trueClasses: ArrayLike<number>,
): Finding[] {
  const seen = new Set<number>();
  const logits: Float64Array[] = [];
  for (const b of result.baselines) {
    for (const [row, l] of [
      [b.pair.source, b.sourceLogits],
      [b.pair.target, b.targetLogits],
    ] as const) {
      if (seen.has(row)) continue;
      seen.add(row);
      logits.push(l);
    }
  }
  return [
    ...noOpFindings(result.rows),
    ...saturationFindings(result.baselines),
    ...outputWidthFindings(outputs, trueClasses, logits),
    ...designFindings(pairs),
    ...dependenceFindings(pairs.pairs),
  ];
}
