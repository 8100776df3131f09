/**
 * Small or degenerate designs, and how dependent the pairs are.
 *
 * The unit of analysis is the patched input (the run target): `tspatch stats --unit target`
 * averages a unit's pairs before testing. Pairs that share an input are correlated, so the
 * effective n is the number of units, not the number of pairs; `clusters` (connected groups of
 * pairs linked by any shared input) is the most conservative count, the number of independent
 * groups a cluster bootstrap would resample.
 */
import type { PairSet } from "../patching/pairs.js";
import type { Direction, Pair } from "../patching/types.js";
import { pairClusters } from "../stats/pair-clusters.js";
import type { Finding } from "./finding.js";

/** Fewer units than this in a family is a warning (tests and CIs are unreliable below it). */
export const MIN_UNITS = 5;

/**
 * Warnings about the pair design: too few units in a family, a single pair, dropped targets.
 *
 * @example
 * designFindings(built.pairs).map(formatFinding);
 */
export function designFindings(
  set: PairSet,
  minUnits = MIN_UNITS,
  unitSide: UnitSide = TARGET_UNITS,
): Finding[] {
  const findings: Finding[] = [];
  for (const direction of directionsOf(set.pairs)) {
    const pairs = set.pairs.filter((p) => p.direction === direction);
    const units = new Set(pairs.map((p) => p[unitSide[direction]])).size;
    if (pairs.length === 1) {
      findings.push({
        code: "single-pair",
        severity: "warning",
        message: `${direction}: the ${set.strategy} strategy gave 1 pair; nothing can be tested on one pair`,
        detail: { direction, strategy: set.strategy, pairs: 1, counts: set.counts },
      });
    } else if (units < minUnits) {
      findings.push({
        code: "small-family",
        severity: "warning",
        message: `${direction}: ${units} units (${pairs.length} pairs) is fewer than ${minUnits}; tests and CIs for each component rest on ${units} values`,
        detail: { direction, units, pairs: pairs.length, minimum: minUnits },
      });
    }
  }
  const dropped = set.counts.targetsWithoutSource ?? 0;
  if (dropped > 0) {
    findings.push({
      code: "targets-dropped",
      severity: "warning",
      message: `${dropped} of ${set.counts.targets} targets were dropped: no correctly classified source of their class`,
      detail: { dropped, targets: set.counts.targets, counts: set.counts },
    });
  }
  return findings;
}

/**
 * Which input of a pair is the unit of analysis, per direction. `stats --unit target` (the
 * default) uses the patched input; the study uses the misclassified input (the source when noising).
 */
export type UnitSide = Readonly<Record<Direction, "source" | "target">>;

export const TARGET_UNITS: UnitSide = { denoise: "target", noise: "target" };

export interface DependenceSummary {
  readonly direction: Direction;
  readonly pairs: number;
  readonly sources: number;
  readonly targets: number;
  /** Pairs whose source is also another pair's source. */
  readonly pairsSharingSource: number;
  readonly pairsSharingTarget: number;
  readonly maxSourceUse: number;
  readonly maxTargetUse: number;
  /** Connected groups of pairs (linked by a shared source or target). */
  readonly clusters: number;
  readonly unit: string;
  /** Units after averaging per patched input. */
  readonly effectiveN: number;
}

/**
 * Pair dependence per direction.
 *
 * @example
 * pairDependence(pairs)[0].effectiveN;
 */
export function pairDependence(
  pairs: readonly Pair[],
  unitSide: UnitSide = TARGET_UNITS,
): DependenceSummary[] {
  return directionsOf(pairs).map((direction) => {
    const chosen = pairs.filter((p) => p.direction === direction);
    const sourceUse = countBy(chosen.map((p) => p.source));
    const targetUse = countBy(chosen.map((p) => p.target));
    return {
      direction,
      pairs: chosen.length,
      sources: sourceUse.size,
      targets: targetUse.size,
      pairsSharingSource: chosen.filter((p) => (sourceUse.get(p.source) ?? 0) > 1).length,
      pairsSharingTarget: chosen.filter((p) => (targetUse.get(p.target) ?? 0) > 1).length,
      maxSourceUse: Math.max(0, ...sourceUse.values()),
      maxTargetUse: Math.max(0, ...targetUse.values()),
      clusters: clusterCount(chosen),
      unit:
        unitSide[direction] === "target"
          ? "patched input (run target): pairs averaged per target before testing"
          : "source input: pairs averaged per source before testing",
      effectiveN: (unitSide[direction] === "target" ? targetUse : sourceUse).size,
    };
  });
}

/**
 * The dependence summary as findings: a warning when pairs share inputs, info otherwise.
 *
 * @example
 * dependenceFindings(built.pairs.pairs).map(formatFinding);
 */
export function dependenceFindings(pairs: readonly Pair[], unitSide: UnitSide = TARGET_UNITS): Finding[] {
  return pairDependence(pairs, unitSide).map((d) => {
    const shared = d.pairsSharingSource + d.pairsSharingTarget > 0;
    return {
      code: "pair-dependence",
      severity: shared ? "warning" : "info",
      message: shared
        ? `${d.direction}: ${d.pairs} pairs use ${uses(d.sources, "source", d.maxSourceUse)} and ${uses(d.targets, "target", d.maxTargetUse)}; ` +
          `unit = ${unitSide[d.direction] === "target" ? "patched input" : "source input"} (${d.effectiveN} units, averaged per unit before testing), linked by shared inputs into ${d.clusters} clusters, ` +
          `${d.clusters < d.effectiveN ? `so the effective n lies between ${d.clusters} and ${d.effectiveN}` : `so the effective n is ${d.effectiveN}`}: do not test the ${d.pairs} pairs as independent`
        : `${d.direction}: ${d.pairs} pairs share no input; unit = ${unitSide[d.direction] === "target" ? "patched input" : "source input"}, effective n = ${d.effectiveN}`,
      detail: {
        direction: d.direction,
        pairs: d.pairs,
        sources: d.sources,
        targets: d.targets,
        pairs_sharing_source: d.pairsSharingSource,
        pairs_sharing_target: d.pairsSharingTarget,
        max_source_use: d.maxSourceUse,
        max_target_use: d.maxTargetUse,
        clusters: d.clusters,
        unit: d.unit,
        effective_n: d.effectiveN,
      },
    };
  });
}

function uses(count: number, what: string, most: number): string {
  return `${count} ${what}s${most > 1 ? ` (one up to ${most} times)` : ""}`;
}

function directionsOf(pairs: readonly Pair[]): Direction[] {
  return (["denoise", "noise"] as const).filter((d) => pairs.some((p) => p.direction === d));
}

function countBy(values: readonly number[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

/** Connected groups of pairs linked by a shared input. */
function clusterCount(pairs: readonly Pair[]): number {
  return new Set(pairClusters(pairs)).size;
}
