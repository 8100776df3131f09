import { inputError } from "../errors.js";
import { streams } from "../random/streams.js";
import { sampleSorted } from "./sample.js";
import type { Direction, Pair, PairStrategy } from "./types.js";

/**
 * Pair construction (DESIGN.md "Pair strategies"). Pure: it takes each row's
 * true class and the model's prediction, so it runs (and is tested) without a model.
 *
 * - `misclassified` (the study's): target = a misclassified row, source = a
 *   correctly classified row of the same true class. denoise = source → target,
 *   noise = the reverse (same pair id, never pooled).
 * - `cross-class`: source and target correctly classified, of different true
 *   classes; recovery is measured on logit(y_source) − logit(y_target). The pairs
 *   are ordered (A→B and B→A are different pairs), so only `denoise` applies.
 * - `noised`: see noise.ts; pairs are made by {@link makeNoisedPairs}.
 */

export type DirectionChoice = Direction | "both";

export interface PairOptions {
  /** Up to this many sources per target, drawn without replacement (default 1, as in the study). */
  maxSourcesPerTarget?: number;
  /** Up to this many targets per true class, drawn without replacement (default: all). */
  maxTargetsPerClass?: number;
  /** Only rows whose true class is one of these (class indices of the model). */
  classes?: readonly number[];
  /** Which way(s) to patch (default denoise). */
  direction?: DirectionChoice;
  seed?: number;
}

export interface PairSet {
  readonly strategy: PairStrategy;
  readonly pairs: readonly Pair[];
  /** What the strategy saw, to explain an empty or small result. */
  readonly counts: Readonly<Record<string, number>>;
}

/** Row facts the strategies need. `trueClass[i]` is -1 for an unlabelled row. */
export interface RowFacts {
  readonly trueClass: Int32Array | readonly number[];
  readonly predicted: Int32Array | readonly number[];
}

/**
 * Build pairs for the `misclassified` or `cross-class` strategy.
 *
 * @example
 * const set = makePairs("misclassified", { trueClass: [1, 1, 2], predicted: [1, 2, 2] });
 * set.pairs; // [{ id: 0, source: 0, target: 1, direction: "denoise", trueClass: 1, goodClass: 1, badClass: 2 }]
 */
export function makePairs(
  strategy: "misclassified" | "cross-class",
  rows: RowFacts,
  options: PairOptions = {},
): PairSet {
  const { seed = 0, maxSourcesPerTarget = 1, maxTargetsPerClass = Infinity } = options;
  const direction = options.direction ?? "denoise";
  validateCounts(maxSourcesPerTarget, maxTargetsPerClass);
  if (strategy === "cross-class" && direction !== "denoise") {
    throw inputError(`direction "${direction}" does not apply to cross-class pairs`, {
      field: "direction",
      hint: "cross-class pairs are ordered (A→B and B→A are separate pairs, both sampled); use --direction denoise",
    });
  }
  const allowed = options.classes === undefined ? null : new Set(options.classes);
  const labelled: number[] = [];
  for (let i = 0; i < rows.trueClass.length; i++) {
    const y = rows.trueClass[i];
    if (y >= 0 && (allowed === null || allowed.has(y))) labelled.push(i);
  }
  const correct = labelled.filter((i) => rows.predicted[i] === rows.trueClass[i]);
  const wrong = labelled.filter((i) => rows.predicted[i] !== rows.trueClass[i]);
  const targetPool = strategy === "misclassified" ? wrong : correct;
  const targets = sampleTargetsPerClass(targetPool, rows.trueClass, maxTargetsPerClass, seed);

  const underlying: { source: number; target: number }[] = [];
  let withoutSource = 0;
  for (const t of targets) {
    const y = rows.trueClass[t];
    const candidates =
      strategy === "misclassified"
        ? correct.filter((i) => rows.trueClass[i] === y)
        : correct.filter((i) => rows.trueClass[i] !== y);
    const sources = sampleSorted(candidates, maxSourcesPerTarget, streams.pairSources(seed, t));
    if (sources.length === 0) withoutSource++;
    for (const s of sources) underlying.push({ source: s, target: t });
  }
  const counts = {
    rows: rows.trueClass.length,
    labelled: labelled.length,
    correct: correct.length,
    misclassified: wrong.length,
    targets: targets.length,
    targetsWithoutSource: withoutSource,
  };
  if (underlying.length === 0) throw noPairs(strategy, counts);

  const pairs: Pair[] = [];
  underlying.forEach(({ source, target }, id) => {
    if (strategy === "cross-class") {
      const ys = rows.trueClass[source];
      const yt = rows.trueClass[target];
      pairs.push({ id, source, target, direction: "denoise", trueClass: yt, goodClass: ys, badClass: yt });
      return;
    }
    const y = rows.trueClass[target];
    const classes = { trueClass: y, goodClass: y, badClass: rows.predicted[target] };
    if (direction !== "noise") pairs.push({ id, source, target, direction: "denoise", ...classes });
    if (direction !== "denoise")
      pairs.push({ id, source: target, target: source, direction: "noise", ...classes });
  });
  return { strategy, pairs, counts };
}

/**
 * Pairs from explicit (source, target) rows, e.g. a pairs file. Classes follow
 * the data: same true class → metrics on the true class vs the wrong prediction
 * of whichever member is misclassified; different classes → cross-class metrics.
 *
 * @example
 * pairsFromList([{ source: 58, target: 31 }], facts, { direction: "both" });
 */
export function pairsFromList(
  list: readonly { source: number; target: number }[],
  rows: RowFacts,
  options: { direction?: DirectionChoice } = {},
): PairSet {
  const direction = options.direction ?? "denoise";
  const pairs: Pair[] = [];
  list.forEach(({ source, target }, id) => {
    const ys = rows.trueClass[source];
    const yt = rows.trueClass[target];
    let classes: { trueClass: number; goodClass: number; badClass: number };
    if (ys !== yt) {
      classes = { trueClass: yt, goodClass: ys, badClass: yt };
    } else {
      const misclassified = rows.predicted[target] !== yt ? target : source;
      classes = { trueClass: yt, goodClass: yt, badClass: rows.predicted[misclassified] };
    }
    if (direction !== "noise") pairs.push({ id, source, target, direction: "denoise", ...classes });
    if (direction !== "denoise") {
      const reversed = ys !== yt ? { trueClass: ys, goodClass: yt, badClass: ys } : classes;
      pairs.push({ id, source: target, target: source, direction: "noise", ...reversed });
    }
  });
  if (pairs.length === 0)
    throw inputError("the pairs list is empty", {
      field: "pairs",
      hint: "give at least one source,target row",
    });
  return { strategy: "file", pairs, counts: { listed: list.length } };
}

function sampleTargetsPerClass(
  pool: readonly number[],
  trueClass: RowFacts["trueClass"],
  maxPerClass: number,
  seed: number,
): number[] {
  if (!Number.isFinite(maxPerClass)) return pool.slice();
  const byClass = new Map<number, number[]>();
  for (const i of pool) {
    const list = byClass.get(trueClass[i]) ?? [];
    list.push(i);
    byClass.set(trueClass[i], list);
  }
  const out: number[] = [];
  for (const [y, list] of byClass) out.push(...sampleSorted(list, maxPerClass, streams.pairTargets(seed, y)));
  return out.sort((a, b) => a - b);
}

export function validateCounts(maxSourcesPerTarget: number, maxTargetsPerClass: number): void {
  if (!(Number.isInteger(maxSourcesPerTarget) && maxSourcesPerTarget >= 1)) {
    throw inputError(`max sources per target must be a positive integer, got ${maxSourcesPerTarget}`, {
      field: "maxSourcesPerTarget",
    });
  }
  if (
    !(maxTargetsPerClass === Infinity || (Number.isInteger(maxTargetsPerClass) && maxTargetsPerClass >= 1))
  ) {
    throw inputError(`max targets per class must be a positive integer, got ${maxTargetsPerClass}`, {
      field: "maxTargetsPerClass",
    });
  }
}

function noPairs(strategy: "misclassified" | "cross-class", counts: Record<string, number>) {
  if (strategy === "misclassified") {
    const why =
      counts.labelled === 0
        ? "no input has a class label in the class filter"
        : counts.misclassified === 0
          ? `the model classifies all ${counts.labelled} labelled inputs correctly`
          : `none of the ${counts.targets} misclassified inputs has a correctly classified input of the same class`;
    return inputError(`strategy "misclassified" found no pairs: ${why}`, {
      field: "strategy",
      hint: "use --strategy cross-class (two correctly classified inputs of different classes) or --strategy noised (an input vs a noisy copy, e.g. --snr 5), or widen the class filter",
    });
  }
  return inputError(
    `strategy "cross-class" found no pairs: ${counts.correct} correctly classified inputs, all of one class or none`,
    {
      field: "strategy",
      hint: "widen the class filter (two classes with correctly classified inputs are needed) or use --strategy noised",
    },
  );
}
