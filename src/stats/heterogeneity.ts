/**
 * Per-class estimates of an effect and a test of whether the classes differ: the one-way ANOVA
 * F test of the unit effects across classes, as scipy.stats.f_oneway [1].
 *
 * F = [Σ_g n_g (x̄_g − x̄)² / (G − 1)] / [Σ_g Σ_i (x_gi − x̄_g)² / (N − G)], with p = P(F_{G−1, N−G} ≥ F),
 * from the regularised incomplete beta: P(F ≥ f) = I_{d₂/(d₂ + d₁f)}(d₂/2, d₁/2) [2, 26.6.2].
 * A small p says the component's mean effect is not the same for every class, so a pooled mean
 * hides class-specific behaviour; the per-class means (with t CIs) say where.
 *
 * References:
 * [1] scipy.stats.f_oneway (scipy 1.10), "one-way ANOVA".
 * [2] M. Abramowitz, I. A. Stegun, Handbook of Mathematical Functions, 1964.
 */
import betainc from "@stdlib/math-base-special-betainc";
import { mean, type Sample } from "./descriptives.js";
import type { TestResult } from "./results.js";
import { ttest1samp } from "./ttest.js";

export interface ClassEstimate {
  readonly label: string;
  readonly n: number;
  readonly mean: number;
  /** t CI of the class mean at `level` (NaN ends for n < 2). */
  readonly ciLow: number;
  readonly ciHigh: number;
}

export interface HeterogeneityResult extends TestResult {
  /** Between-class and within-class degrees of freedom. */
  readonly df: readonly [number, number];
  readonly classes: readonly ClassEstimate[];
}

/**
 * One-way ANOVA of unit effects across classes, with per-class means.
 *
 * @example
 * const r = classHeterogeneity([1, 2, 3, 7, 8, 9], ["a", "a", "a", "b", "b", "b"]);
 * r.statistic; // 54 (F with df [1, 4])
 */
export function classHeterogeneity(
  values: Sample,
  labels: readonly string[],
  level = 0.95,
): HeterogeneityResult {
  if (values.length !== labels.length) {
    throw new RangeError(`${values.length} values but ${labels.length} labels`);
  }
  const groups = new Map<string, number[]>();
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i])) continue;
    const g = groups.get(labels[i]) ?? [];
    g.push(values[i]);
    groups.set(labels[i], g);
  }
  const all = [...groups.values()].flat();
  const grand = mean(all);
  const G = groups.size;
  const N = all.length;
  let between = 0;
  let within = 0;
  for (const g of groups.values()) {
    const m = mean(g);
    between += g.length * (m - grand) ** 2;
    for (const v of g) within += (v - m) ** 2;
  }
  const d1 = G - 1;
  const d2 = N - G;
  const notes: string[] = [];
  if (G < 2) notes.push("fewer than 2 classes");
  if (d2 < 1) notes.push("no within-class degrees of freedom");
  const statistic = d1 > 0 && d2 > 0 ? between / d1 / (within / d2) : Number.NaN;
  let pvalue = Number.NaN;
  if (Number.isFinite(statistic)) pvalue = betainc(d2 / (d2 + d1 * statistic), d2 / 2, d1 / 2);
  else if (statistic === Number.POSITIVE_INFINITY) pvalue = 0;
  const classes = [...groups.entries()].map(([label, g]) => {
    const t = ttest1samp(g);
    const ci = g.length >= 2 ? t.confidenceInterval(level) : { low: Number.NaN, high: Number.NaN };
    return { label, n: g.length, mean: mean(g), ciLow: ci.low, ciHigh: ci.high };
  });
  return {
    statistic,
    pvalue,
    alternative: "two-sided",
    method: "one-way ANOVA across classes (F test)",
    n: N,
    notes,
    df: [d1, d2],
    classes,
  };
}
