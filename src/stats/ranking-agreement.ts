/**
 * Sensitivity of a study's conclusions to analysis choices (Zhang & Nanda [1] showed that the
 * metric and the corruption method change which components look important): given the same
 * components analysed under several variants (metric × pair strategy × direction), the agreement
 * of the component rankings between every two variants, as Spearman's ρ of the component means
 * with a BCa bootstrap CI over units ({@link correlationInterval}). By default components are ranked by |mean|, the size
 * of the effect: metrics differ in sign conventions (recovery in the noise direction divides by a
 * negative gap; KL is never negative), and importance is about magnitude. A variant whose metric
 * is a distance to the source after patching (KL(P_source ‖ P_patched)) says `rank: "lower"`: a
 * smaller mean is a larger effect, so its components are ranked by −mean.
 *
 * Resampling adds noise to both rankings, so the bootstrap distribution of ρ sits below the point
 * estimate; BCa corrects for that bias (the percentile interval would reflect it the wrong way),
 * with the jackknife over each resampled design's units for the acceleration.
 *
 * Variants with the same `design` share their units (same pairs, another metric): their units
 * are resampled together, so the CI reflects only the metric's effect. Variants of different
 * designs (another pair strategy) are resampled independently.
 *
 * References:
 * [1] F. Zhang, N. Nanda, "Towards best practices of activation patching in language models:
 *     metrics and methods", ICLR 2024 (arXiv:2309.16042).
 */

import { Rng } from "../random/rng.js";
import { pearson } from "./correlation.js";
import { type CorrelationInterval, correlationInterval } from "./correlation-interval.js";
import { rankAverage } from "./rank.js";

/** One analysis variant: a unit table (values[component][unit], NaN = missing). */
export interface AnalysisVariant {
  readonly name: string;
  /** Variants with equal `design` have the same units in the same order. */
  readonly design: string;
  readonly components: readonly string[];
  readonly values: readonly ArrayLike<number>[];
  /** How components are ranked: by |mean| ("magnitude", default with `absolute`), by mean, or by −mean ("lower"). */
  readonly rank?: "magnitude" | "signed" | "lower";
}

export interface RankingAgreementRow {
  readonly a: string;
  readonly b: string;
  /** Components in both variants. */
  readonly components: number;
  readonly rho: number;
  readonly ciLow: number;
  readonly ciHigh: number;
  readonly level: number;
  /** "BCa", or "basic" where every replicate fell on one side of ρ (see the notes). */
  readonly method: CorrelationInterval["method"];
  readonly notes: readonly string[];
  readonly resampling: "joint" | "independent";
}

const AGREEMENT_STREAM = 0x52414e4b;

/**
 * Pairwise ranking agreement between analysis variants.
 *
 * @example
 * const rows = rankingAgreement([dpTrue, logitDiff], { resamples: 2000, seed: 0 });
 * rows[0].rho; rows[0].ciLow;
 */
export function rankingAgreement(
  variants: readonly AnalysisVariant[],
  options: { resamples?: number; seed?: number; level?: number; absolute?: boolean } = {},
): RankingAgreementRow[] {
  const absolute = options.absolute ?? true;
  const resamples = options.resamples ?? 2000;
  const level = options.level ?? 0.95;
  const seed = options.seed ?? 0;
  for (const v of variants) {
    const n = v.values[0]?.length ?? 0;
    if (v.values.length !== v.components.length || v.values.some((c) => c.length !== n)) {
      throw new RangeError(`variant "${v.name}": one column of equal length per component is needed`);
    }
  }
  const designs = [...new Set(variants.map((v) => v.design))];
  const units = new Map(
    designs.map((d) => [d, variants.find((v) => v.design === d)?.values[0]?.length ?? 0]),
  );
  const pairs: [number, number, string[]][] = [];
  for (let i = 0; i < variants.length; i++) {
    for (let j = i + 1; j < variants.length; j++) {
      const common = variants[i].components.filter((c) => variants[j].components.includes(c));
      pairs.push([i, j, common]);
    }
  }
  const identity = new Map(
    designs.map((d) => [d, Int32Array.from({ length: units.get(d) ?? 0 }, (_, k) => k)]),
  );
  const point = componentMeans(variants, identity, absolute);
  // Spearman's ρ is Pearson's r of the average ranks (as `spearman` computes it, without its
  // p-value, which thousands of resamples per pair do not need).
  const rhoOf = (means: Map<string, number>[], i: number, j: number, common: string[]) =>
    pearson(
      rankAverage(common.map((c) => means[i].get(c) as number)),
      rankAverage(common.map((c) => means[j].get(c) as number)),
    );
  const draws = pairs.map(() => new Float64Array(resamples));
  const rng = new Rng(seed, AGREEMENT_STREAM);
  for (let r = 0; r < resamples; r++) {
    const indices = new Map(
      designs.map((d) => {
        const n = units.get(d) ?? 0;
        return [d, Int32Array.from({ length: n }, () => rng.int(n))];
      }),
    );
    const means = componentMeans(variants, indices, absolute);
    pairs.forEach(([i, j, common], k) => {
      draws[k][r] = rhoOf(means, i, j, common);
    });
  }
  // Leave-one-unit-out ρ per design (the other designs whole), for the BCa acceleration: a
  // pair resampled jointly has one jackknife, a pair of two designs one per design.
  const jackknife = new Map(
    designs.map((d) => {
      const n = units.get(d) ?? 0;
      const out = pairs.map(() => new Float64Array(n));
      for (let u = 0; u < n; u++) {
        const indices = new Map(identity);
        indices.set(
          d,
          Int32Array.from({ length: n - 1 }, (_, k) => (k < u ? k : k + 1)),
        );
        const means = componentMeans(variants, indices, absolute);
        pairs.forEach(([i, j, common], k) => {
          out[k][u] = rhoOf(means, i, j, common);
        });
      }
      return [d, out];
    }),
  );
  return pairs.map(([i, j, common], k) => {
    const pairDesigns = [...new Set([variants[i].design, variants[j].design])];
    const rho = rhoOf(point, i, j, common);
    const ci = correlationInterval(
      draws[k],
      rho,
      pairDesigns.map((d) => (jackknife.get(d) as Float64Array[])[k]),
      level,
    );
    return {
      a: variants[i].name,
      b: variants[j].name,
      components: common.length,
      rho,
      ciLow: ci.low,
      ciHigh: ci.high,
      level,
      method: ci.method,
      notes: ci.notes,
      resampling: variants[i].design === variants[j].design ? "joint" : "independent",
    };
  });
}

function componentMeans(
  variants: readonly AnalysisVariant[],
  indices: Map<string, Int32Array>,
  absolute: boolean,
): Map<string, number>[] {
  return variants.map((v) => {
    const idx = indices.get(v.design) as Int32Array;
    const rank = v.rank ?? (absolute ? "magnitude" : "signed");
    const means = new Map<string, number>();
    // Indexed loops, not iterators: this runs for every variant and component of every resample.
    for (let c = 0; c < v.components.length; c++) {
      const col = v.values[c];
      let sum = 0;
      let count = 0;
      for (let k = 0; k < idx.length; k++) {
        const x = col[idx[k]];
        if (!Number.isNaN(x)) {
          sum += x;
          count++;
        }
      }
      const m = count === 0 ? Number.NaN : sum / count;
      means.set(v.components[c], rank === "magnitude" ? Math.abs(m) : rank === "lower" ? -m : m);
    }
    return means;
  });
}
