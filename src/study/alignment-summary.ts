/**
 * How the study's pairs were aligned (patching/align.ts), read back from the effects tables: the
 * alignment mode, the distribution of each pair's overlap (share of the target's real steps the
 * patch wrote) and the rows that had nothing to patch (a position at a padding step).
 */

import type { Finding } from "../diagnostics/finding.js";
import { countPatch, type NoOpTally, noOpFinding } from "../diagnostics/patch-sanity.js";
import type { EffectLine } from "../patching/effects-long.js";
import type { AlignmentSummary } from "./results-schema.js";

/**
 * The alignment summary of the effects of every kind swept (null without any effect row).
 *
 * @example
 * alignmentSummary(new Map([["head", parseEffectsLong(text, "effects/heads.csv")]])).overlap?.median;
 */
export function alignmentSummary(
  effects: ReadonlyMap<string, readonly EffectLine[]>,
): AlignmentSummary | null {
  const overlapOf = new Map<string, number>();
  const notApplicable: Record<string, number> = {};
  const aligns = new Set<string>();
  for (const [kind, lines] of effects) {
    notApplicable[kind] = 0;
    for (const line of lines) {
      aligns.add(line.align);
      if (line.status === "not_applicable") notApplicable[kind]++;
      // Overlap is a property of the pair, the same in every row of it.
      if (line.overlap !== null) overlapOf.set(`${line.pairId}:${line.direction}`, line.overlap);
    }
  }
  if (aligns.size === 0) return null;
  const overlaps = [...overlapOf.values()].sort((a, b) => a - b);
  return {
    align: [...aligns].sort().join(", "),
    pairs: overlaps.length,
    overlap:
      overlaps.length === 0
        ? null
        : {
            min: overlaps[0],
            q1: quantile(overlaps, 0.25),
            median: quantile(overlaps, 0.5),
            q3: quantile(overlaps, 0.75),
            max: overlaps[overlaps.length - 1],
          },
    partial_pairs: overlaps.filter((o) => o < 1).length,
    no_overlap_pairs: overlaps.filter((o) => o === 0).length,
    not_applicable_rows: notApplicable,
  };
}

/** Quantile of sorted values by linear interpolation between order statistics (Hyndman & Fan type 7, numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Patch sanity's no-op check (diagnostics/patch-sanity.ts) on the effects tables: a component
 * whose patch left the logit difference and P(true) exactly unchanged in every applicable pair
 * with source ≠ target never reached the model. Whole-sequence components are errors; single
 * positions can legitimately never win the max-pool, so they are warnings.
 *
 * @example
 * noOpFindings(new Map([["head", lines]])).map(formatFinding);
 */
export function noOpFindings(effects: ReadonlyMap<string, readonly EffectLine[]>): Finding[] {
  const findings: Finding[] = [];
  for (const [kind, lines] of effects) {
    // Single positions can legitimately never win the max-pool: the head × time-step table.
    const wholeSequence = kind !== "head_position";
    const tally = new Map<string, NoOpTally>();
    for (const l of lines) {
      if (l.source === l.target || l.status === "not_applicable") continue;
      const name = `${l.component} L${l.layer ?? ""}H${l.head ?? ""}P${l.position ?? ""}${l.detail}`;
      countPatch(tally, name, wholeSequence, l.metrics.d_logit_diff !== 0 || l.metrics.dp_true !== 0);
    }
    const finding = noOpFinding(tally, kind);
    if (finding !== null) findings.push(finding);
  }
  return findings;
}
