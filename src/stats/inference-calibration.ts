/**
 * Error rates of the inference layer by simulation: the false discovery rate and power of flat BH
 * and of hierarchical BH (hierarchical.ts) over a layer × head × position tree of z-tests, the
 * type-I error of TOST at the equivalence bound, and the false coverage rate of FCR-adjusted vs
 * ordinary intervals after BH selection. scripts/hierarchical-fdr.ts prints the large version;
 * the tests run a small one.
 */

import { Rng } from "../random/rng.js";
import { normalSf } from "./distributions.js";
import { tostMean } from "./equivalence.js";
import { fcrIntervals } from "./fcr.js";
import { componentTree, type HypothesisNode, hierarchicalFdr } from "./hierarchical.js";
import { adjustPValues } from "./multiplicity.js";
import { ttest1samp } from "./ttest.js";

export interface TreeScenario {
  readonly name: string;
  readonly layers: number;
  readonly heads: number;
  readonly positions: number;
  /** Which leaves carry an effect. */
  readonly active: (layer: number, head: number, position: number) => boolean;
  /** Mean shift of an active leaf's z statistic. */
  readonly z: number;
}

export interface FdrSimulation {
  readonly flatFdr: number;
  readonly flatPower: number;
  /** FDR over every rejected node of the tree (layers, heads and positions). */
  readonly hierarchicalFdr: number;
  /** Share of active positions found. */
  readonly hierarchicalPower: number;
}

/**
 * FDR and power of flat BH over the leaves vs hierarchical BH over the tree, at level q.
 *
 * @example
 * simulateTreeFdr({ name: "null", layers: 3, heads: 8, positions: 4, active: () => false, z: 0 }, { sims: 200 });
 */
export function simulateTreeFdr(
  scenario: TreeScenario,
  options: { sims: number; seed?: number; stream?: number; q?: number },
): FdrSimulation {
  const q = options.q ?? 0.05;
  const rng = new Rng(options.seed ?? 0, options.stream ?? 1);
  let flatFdp = 0;
  let flatPower = 0;
  let hierFdp = 0;
  let hierPower = 0;
  for (let rep = 0; rep < options.sims; rep++) {
    const names: string[] = [];
    const p: number[] = [];
    const truth = new Set<string>();
    for (let l = 0; l < scenario.layers; l++)
      for (let h = 0; h < scenario.heads; h++)
        for (let k = 0; k < scenario.positions; k++) {
          const active = scenario.active(l, h, k);
          const name = `L${l}H${h}P${k}`;
          names.push(name);
          p.push(2 * normalSf(Math.abs(rng.normal() + (active ? scenario.z : 0))));
          if (active) truth.add(name).add(`L${l}H${h}`).add(`L${l}`);
        }
    const trueLeaves = names.filter((n) => truth.has(n)).length;
    const flat = adjustPValues(p, "bh", q).reject;
    const flatFound = names.filter((_, j) => flat[j]);
    flatFdp += falseShare(flatFound, truth);
    if (trueLeaves > 0) flatPower += flatFound.filter((n) => truth.has(n)).length / trueLeaves;
    const tree = componentTree(names, p) as HypothesisNode[];
    const found = hierarchicalFdr(tree, q)
      .decisions.filter((d) => d.rejected)
      .map((d) => d.name);
    hierFdp += falseShare(found, truth);
    if (trueLeaves > 0) hierPower += found.filter((n) => n.includes("P") && truth.has(n)).length / trueLeaves;
  }
  const n = options.sims;
  return {
    flatFdr: flatFdp / n,
    flatPower: flatPower / n,
    hierarchicalFdr: hierFdp / n,
    hierarchicalPower: hierPower / n,
  };
}

/**
 * Rejection rate of TOST when the true mean sits on the upper bound (the worst case of H0).
 *
 * @example
 * tostSizeAtBound({ n: 35, sesoi: 0.01, sd: 0.02, sims: 2000 }); // ≈ 0.05
 */
export function tostSizeAtBound(options: {
  n: number;
  sesoi: number;
  sd: number;
  sims: number;
  seed?: number;
  stream?: number;
}): number {
  const rng = new Rng(options.seed ?? 0, options.stream ?? 2);
  let rejected = 0;
  for (let rep = 0; rep < options.sims; rep++) {
    const x = Array.from({ length: options.n }, () => options.sesoi + options.sd * rng.normal());
    if (tostMean(x, { low: -options.sesoi, high: options.sesoi }).pvalue < 0.05) rejected++;
  }
  return rejected / options.sims;
}

/**
 * False coverage rate E[V / max(R, 1)] of FCR-adjusted and of ordinary (1 − q) t intervals for the
 * components BH selects: m components, the first `active` with mean `effect` (sd 1), n units each.
 *
 * @example
 * simulateFcr({ m: 24, active: 8, effect: 0.9, n: 12, sims: 1000 }); // { adjusted ≈ 0.043, ordinary ≈ 0.08 }
 */
export function simulateFcr(options: {
  m: number;
  active: number;
  effect: number;
  n: number;
  sims: number;
  q?: number;
  seed?: number;
  stream?: number;
}): { adjusted: number; ordinary: number; selected: number } {
  const q = options.q ?? 0.05;
  const rng = new Rng(options.seed ?? 0, options.stream ?? 3);
  let adjusted = 0;
  let ordinary = 0;
  let selected = 0;
  for (let rep = 0; rep < options.sims; rep++) {
    const truth = Array.from({ length: options.m }, (_, j) => (j < options.active ? options.effect : 0));
    const tests = truth.map((mu) => ttest1samp(Array.from({ length: options.n }, () => mu + rng.normal())));
    const chosen = adjustPValues(
      tests.map((t) => t.pvalue),
      "bh",
      q,
    ).reject;
    const r = fcrIntervals(
      tests.map((t) => ({ estimate: t.estimate, standardError: t.standardError, df: t.df })),
      chosen,
      q,
    );
    let missed = 0;
    let plainMissed = 0;
    r.intervals.forEach((ci, j) => {
      if (ci === null) return;
      if (truth[j] < ci.low || truth[j] > ci.high) missed++;
      const plain = tests[j].confidenceInterval(1 - q);
      if (truth[j] < plain.low || truth[j] > plain.high) plainMissed++;
    });
    selected += r.selected;
    adjusted += missed / Math.max(1, r.selected);
    ordinary += plainMissed / Math.max(1, r.selected);
  }
  return { adjusted: adjusted / options.sims, ordinary: ordinary / options.sims, selected };
}

function falseShare(found: readonly string[], truth: ReadonlySet<string>): number {
  return found.length === 0 ? 0 : found.filter((n) => !truth.has(n)).length / found.length;
}
