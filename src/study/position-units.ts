/**
 * The units the head × time-step sweep runs on. That sweep costs (heads × time steps) patched
 * runs per pair, about four times the rest of a study together on LSST, so above
 * `--max-position-units` units per direction it runs on a seeded random subsample of units (every
 * pair of each chosen unit), stratified by the unit's true class with proportional allocation
 * (largest remainders; Cochran, "Sampling Techniques", 3rd ed., §5.5). The subsample is drawn
 * from the pairs stage's full pair list only, so every shard of a study draws the same one.
 */

import type { Pair } from "../patching/types.js";
import { streams } from "../random/streams.js";
import { unitOf } from "./analysis.js";
import type { PositionUnitsPlan, StudyDirection } from "./results-schema.js";

/** One direction's units: all of them, and those the head × time-step sweep runs on (ascending). */
export interface PositionUnitSample {
  direction: StudyDirection;
  of: number;
  units: number[];
}

const DIRECTION_INDEX: Record<StudyDirection, number> = { denoise: 0, noise: 1, pooled: 2 };

/**
 * The unit of a pair in an analysed direction: the misclassified input (analysis.ts), or under
 * the pooled compatibility switch the pair-direction itself, named by its row in pairs.csv.
 */
function unitsOf(pairs: readonly Pair[], direction: StudyDirection): { unit: number; pair: number }[] {
  return pairs.flatMap((p, i) =>
    direction === "pooled"
      ? [{ unit: i, pair: i }]
      : p.direction === direction
        ? [{ unit: unitOf(direction, p), pair: i }]
        : [],
  );
}

/**
 * Draw each direction's units for the head × time-step sweep: all units when `max` is null or
 * not exceeded, else `max` units stratified by class (`classOf(unit)`), drawn with
 * `streams.positionUnits(seed, direction)`.
 *
 * @example
 * const [denoise] = samplePositionUnits(pairs, ["denoise"], 100, 0, (u) => trueClass[u]);
 * denoise.units.length; // min(100, denoise.of)
 */
export function samplePositionUnits(
  pairs: readonly Pair[],
  directions: readonly StudyDirection[],
  max: number | null,
  seed: number,
  classOf: (unit: number, pair: Pair) => number,
): PositionUnitSample[] {
  return directions.map((direction) => {
    const classes = new Map<number, number>();
    for (const { unit, pair } of unitsOf(pairs, direction)) {
      if (!classes.has(unit)) classes.set(unit, classOf(unit, pairs[pair]));
    }
    const all = [...classes.keys()].sort((a, b) => a - b);
    if (max === null || all.length <= max) return { direction, of: all.length, units: all };
    const strata = new Map<number, number[]>();
    for (const unit of all) {
      const c = classes.get(unit) as number;
      const list = strata.get(c);
      if (list === undefined) strata.set(c, [unit]);
      else list.push(unit);
    }
    const order = [...strata.keys()].sort((a, b) => a - b);
    const rng = streams.positionUnits(seed, DIRECTION_INDEX[direction]);
    const quotas = proportionalQuotas(
      order.map((c) => (strata.get(c) as number[]).length),
      max,
      order.map(() => rng.float()),
    );
    const chosen: number[] = [];
    order.forEach((c, k) => {
      // A partial Fisher–Yates shuffle: the first quota entries are a uniform sample without replacement.
      const list = [...(strata.get(c) as number[])];
      for (let i = 0; i < quotas[k]; i++) {
        const j = i + rng.int(list.length - i);
        [list[i], list[j]] = [list[j], list[i]];
        chosen.push(list[i]);
      }
    });
    return { direction, of: all.length, units: chosen.sort((a, b) => a - b) };
  });
}

/**
 * Proportional allocation of `total` over strata of these sizes, largest remainders first. Equal
 * remainders (e.g. many classes with one unit each) are ordered by `tieBreak`, drawn at random, so
 * no class is favoured by its index.
 */
function proportionalQuotas(sizes: readonly number[], total: number, tieBreak: readonly number[]): number[] {
  const n = sizes.reduce((a, b) => a + b, 0);
  const exact = sizes.map((s) => (s * total) / n);
  const quotas = exact.map(Math.floor);
  let left = total - quotas.reduce((a, b) => a + b, 0);
  const byRemainder = exact
    .map((x, k) => ({ k, r: x - Math.floor(x) }))
    .sort((a, b) => b.r - a.r || tieBreak[a.k] - tieBreak[b.k] || a.k - b.k);
  for (const { k } of byRemainder) {
    if (left === 0) break;
    if (quotas[k] < sizes[k]) {
      quotas[k]++;
      left--;
    }
  }
  return quotas;
}

/** The pairs the head × time-step sweep runs on: every pair of a sampled unit, in pair order. */
export function positionPairs(pairs: readonly Pair[], samples: readonly PositionUnitSample[]): Pair[] {
  const keep = new Set<number>();
  for (const s of samples) {
    const units = new Set(s.units);
    for (const { unit, pair } of unitsOf(pairs, s.direction)) if (units.has(unit)) keep.add(pair);
  }
  return pairs.filter((_, i) => keep.has(i));
}

/** The plan's record of the subsample (results.json `plan.head_position_units`). */
export function positionUnitsPlan(
  max: number | null,
  seed: number,
  samples: readonly PositionUnitSample[],
): PositionUnitsPlan {
  return {
    max,
    seed,
    method:
      max === null
        ? "every unit (--max-position-units all)"
        : `at most ${max} units per direction: a random subsample stratified by the unit's true class (proportional allocation, largest remainders, ties in random order), every pair of each chosen unit; units are the rows of the analysed split (pooled: rows of pairs.csv)`,
    by_direction: Object.fromEntries(
      samples.map((s) => [s.direction, { sampled: s.units.length, of: s.of, units: s.units }]),
    ),
  };
}
