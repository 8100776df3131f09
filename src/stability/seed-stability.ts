/**
 * Seed stability: do models trained with different seeds put the important heads in the same
 * places? Heads are not aligned across seeds (head 3 of one model is not head 3 of another:
 * any permutation of a layer's heads is the same function), so only permutation-invariant
 * summaries are compared: each layer's share of the total |mean effect|, the sorted head
 * effects of each layer (the distribution of effects within the layer), and the number of
 * significant heads.
 */
import type { HookedTST } from "../model/hooked-tst.js";
import type { InputTable } from "../patching/engine.js";
import { presetComponents } from "../patching/presets.js";
import { sweep } from "../patching/sweep.js";
import type { Direction, Pair } from "../patching/types.js";
import { adjustPValues, type Correction } from "../stats/multiplicity.js";
import { ttest1samp } from "../stats/ttest.js";
import { columnMeans, unitMeans, unitsByDirection } from "./units.js";

export interface SeedModel {
  readonly label: string;
  readonly model: HookedTST;
  readonly inputs: InputTable;
  /** This model's own pairs (misclassified inputs differ between seeds). */
  readonly pairs: readonly Pair[];
}

export interface SeedProfile {
  readonly label: string;
  readonly direction: Direction;
  readonly units: number;
  /** Per layer: Σ_h |mean effect| / Σ_all |mean effect|. */
  readonly layerShare: readonly number[];
  /** Per layer: the head mean effects sorted descending. */
  readonly sortedLayerEffects: readonly (readonly number[])[];
  readonly significantHeads: number;
}

export interface SeedStabilityResult {
  readonly profiles: readonly SeedProfile[];
  /** Per direction: across seeds, per layer, the mean and sd of the layer share. */
  readonly layerShareSummary: readonly {
    readonly direction: Direction;
    readonly mean: readonly number[];
    readonly sd: readonly number[];
    /** Largest difference of a layer's share between any two seeds. */
    readonly maxDifference: number;
  }[];
  readonly note: string;
}

/**
 * Compare the head-effect profiles of models trained with different seeds.
 *
 * @example
 * const r = await seedStability([{ label: "seed-0", model: m0, inputs, pairs: p0 }, { label: "seed-1", model: m1, inputs, pairs: p1 }]);
 */
export async function seedStability(
  models: readonly SeedModel[],
  options: {
    metric?: "dp_true" | "logit_diff";
    correction?: Correction;
    alpha?: number;
    batchRows?: number;
  } = {},
): Promise<SeedStabilityResult> {
  const profiles: SeedProfile[] = [];
  for (const { label, model, inputs, pairs } of models) {
    const { layers: L, heads: H } = model.config;
    const m = L * H;
    const result = await sweep(model, inputs, pairs, {
      components: presetComponents(model.config, "heads"),
      batchRows: options.batchRows,
    });
    const effects = Float64Array.from(result.rows, (r) =>
      options.metric === "logit_diff" ? r.dLogitDiff : r.dpTrue,
    );
    for (const [direction, units] of unitsByDirection(pairs)) {
      const u = unitMeans(units, effects, m);
      const means = columnMeans(u, m, Uint32Array.from(units.keys()));
      const total = means.reduce((s, v) => s + Math.abs(v), 0);
      const layerShare = Array.from({ length: L }, (_, l) => {
        let s = 0;
        for (let h = 0; h < H; h++) s += Math.abs(means[l * H + h]);
        return total === 0 ? 0 : s / total;
      });
      const sortedLayerEffects = Array.from({ length: L }, (_, l) =>
        Array.from(means.subarray(l * H, (l + 1) * H)).sort((a, b) => b - a),
      );
      const p = Array.from({ length: m }, (_, j) =>
        units.length >= 2 ? ttest1samp(Float64Array.from(units, (_u, i) => u[i * m + j])).pvalue : 1,
      );
      const sig = adjustPValues(
        Float64Array.from(p, (v) => (Number.isNaN(v) ? 1 : v)),
        options.correction ?? "bh",
        options.alpha ?? 0.05,
      );
      profiles.push({
        label,
        direction,
        units: units.length,
        layerShare,
        sortedLayerEffects,
        significantHeads: sig.reject.filter(Boolean).length,
      });
    }
  }
  const directions = [...new Set(profiles.map((p) => p.direction))];
  const layerShareSummary = directions.map((direction) => {
    const list = profiles.filter((p) => p.direction === direction);
    const L = list[0].layerShare.length;
    const mean = Array.from(
      { length: L },
      (_, l) => list.reduce((s, p) => s + p.layerShare[l], 0) / list.length,
    );
    const sd = Array.from({ length: L }, (_, l) =>
      list.length < 2
        ? Number.NaN
        : Math.sqrt(list.reduce((s, p) => s + (p.layerShare[l] - mean[l]) ** 2, 0) / (list.length - 1)),
    );
    let maxDifference = 0;
    for (const a of list)
      for (const b of list)
        a.layerShare.forEach((v, l) => {
          maxDifference = Math.max(maxDifference, Math.abs(v - b.layerShare[l]));
        });
    return { direction, mean, sd, maxDifference };
  });
  return {
    profiles,
    layerShareSummary,
    note: "heads are not aligned across seeds (a layer's heads can be permuted without changing the model), so only per-layer profiles, within-layer effect distributions and counts of significant heads are compared, never head by head",
  };
}
