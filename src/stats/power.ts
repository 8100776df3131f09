/**
 * Power of the one-sample (paired) t-test and the minimum detectable effect, as statsmodels'
 * `TTestPower` computes them (Cohen [1] ch. 2): with df = n - 1, δ = d√n and critical values
 * of the central t, power = P(T' > t_{1-α/2}) + P(T' < t_{α/2}) for T' ~ noncentral t(df, δ)
 * (two-sided; one tail for one-sided tests). For m tests, pass the per-test α from
 * {@link adjustedAlpha} (Bonferroni α/m, or BH α·k/m).
 *
 * References:
 * [1] J. Cohen, "Statistical Power Analysis for the Behavioral Sciences", 2nd ed., 1988.
 */
import { nctCdf, nctSf, tQuantile } from "./distributions.js";
import { adjustedAlpha } from "./multiplicity.js";
import type { Alternative } from "./results.js";
import { findRoot } from "./root.js";

export interface PowerOptions {
  /** Number of units (pairs). */
  n: number;
  /** Per-test significance level (default 0.05). */
  alpha?: number;
  alternative?: Alternative;
  /** Number of tests; with `correction` the per-test α is adjusted (default 1). */
  tests?: number;
  correction?: "bonferroni" | "bh" | "none";
}

function perTestAlpha(options: PowerOptions): number {
  const alpha = options.alpha ?? 0.05;
  const m = options.tests ?? 1;
  return adjustedAlpha(alpha, m, options.correction ?? (m > 1 ? "bonferroni" : "none"));
}

/**
 * Power of the one-sample t-test to detect a standardised effect d (= Cohen's d_z).
 *
 * @example
 * tTestPower(0.5, { n: 34 }); // 0.8078… (two-sided, α = 0.05)
 */
export function tTestPower(effectSize: number, options: PowerOptions): number {
  const { n } = options;
  const alternative = options.alternative ?? "two-sided";
  const alpha = perTestAlpha(options);
  const df = n - 1;
  const delta = effectSize * Math.sqrt(n);
  const tailAlpha = alternative === "two-sided" ? alpha / 2 : alpha;
  let power = 0;
  if (alternative !== "less") power += nctSf(tQuantile(1 - tailAlpha, df), df, delta);
  if (alternative !== "greater") power += nctCdf(tQuantile(tailAlpha, df), df, delta);
  return power;
}

/**
 * Smallest positive effect d_z detected with the given power (default 0.8) at n units.
 *
 * @example
 * minimumDetectableEffect({ n: 50 }); // 0.4041… (two-sided α = 0.05, power 0.8)
 * minimumDetectableEffect({ n: 50, tests: 24, correction: "bonferroni" }); // 0.5826…
 */
export function minimumDetectableEffect(options: PowerOptions & { power?: number }): number {
  const target = options.power ?? 0.8;
  if (!(target > 0 && target < 1)) throw new RangeError(`\`power\` must be in (0, 1), got ${target}`);
  if (!(options.n >= 2)) return Number.NaN;
  // Search on the side the test looks at; power rises monotonically with |d| there.
  const sign = options.alternative === "less" ? -1 : 1;
  const f = (d: number) => tTestPower(sign * d, options) - target;
  let hi = 1;
  while (f(hi) < 0 && hi < 1e6) hi *= 2;
  return sign * findRoot(f, 0, hi, { xTolerance: 1e-13 });
}
