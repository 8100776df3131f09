/**
 * Calibration by simulation: do the tests hold their level, does BH hold the FDR, do BCa
 * intervals cover? (issue 7, "Verified"; the table goes into the study report's methods.)
 *
 * - Type-I error: for each test (t, Wilcoxon, sign-flip permutation), n and null distribution,
 *   the share of `sims` null samples with p < α, with its Wilson 95% interval, against the
 *   Monte Carlo band α ± z·√(α(1-α)/sims) (z = 2.576, a 99% band, since many cells are
 *   checked at once). Each test is simulated under its own null hypothesis: for the t-test and
 *   the sign-flip test (which compares means) the skewed distribution is centred at its mean;
 *   the Wilcoxon test's null is symmetry about 0 and a skewed distribution has no centre of
 *   symmetry, so it is centred at its pseudo-median (the centre the signed-rank statistic
 *   estimates [1]), where the test is asymptotically valid.
 * - FDR: m independent two-sided z-tests, a share π₀ null; BH and BY at level q; the mean of
 *   V / max(R, 1) should be ≤ π₀·q ([2] Theorem 1).
 * - Coverage: the share of BCa intervals (level 0.95) for the mean that contain the true mean 0.
 *
 * Null distributions: normal N(0,1); skewed: Exp(1) shifted (mean 0, or pseudo-median 0 for
 * Wilcoxon); heavy-tailed: Student t with 3 df.
 *
 * References:
 * [1] E. L. Lehmann, "Nonparametrics: Statistical Methods Based on Ranks", 1975, §3.2.
 * [2] Y. Benjamini, Y. Hochberg, "Controlling the false discovery rate", JRSS B 57(1), 1995.
 */

import { Rng } from "../random/rng.js";
import { bootstrapMeans } from "./bootstrap.js";
import { normalSf } from "./distributions.js";
import { adjustPValues } from "./multiplicity.js";
import { signFlipTest } from "./permutation.js";
import { ttest1samp } from "./ttest.js";
import { wilcoxon } from "./wilcoxon.js";

export type NullDistribution = "normal" | "skewed" | "heavy-tailed";
export type CalibratedTest = "t" | "wilcoxon" | "perm";

export interface CalibrationOptions {
  /** Simulated samples per cell of the type-I table (default 4000). */
  sims?: number;
  ns?: number[];
  distributions?: NullDistribution[];
  tests?: CalibratedTest[];
  alpha?: number;
  /** Monte Carlo resamples of the sign-flip test when n > 20 (default 999). */
  permResamples?: number;
  /** FDR study: hypotheses per family, share of nulls, levels, families simulated. */
  fdr?: { m?: number; pi0?: number[]; q?: number[]; sims?: number; effect?: number };
  /** Coverage study: sample sizes, samples, bootstrap resamples per interval. */
  coverage?: { ns?: number[]; sims?: number; resamples?: number };
  seed?: number;
  onProgress?: (done: number, total: number, detail?: string) => void;
}

export interface TypeIRow {
  test: CalibratedTest;
  n: number;
  distribution: NullDistribution;
  /** What the null sample is centred on. */
  centre: "mean" | "pseudo-median";
  sims: number;
  rejections: number;
  rate: number;
  /** Wilson 95% interval of the rate. */
  rateLow: number;
  rateHigh: number;
  /** The 99% Monte Carlo band around alpha. */
  bandLow: number;
  bandHigh: number;
  verdict: "within" | "conservative" | "liberal";
}

export interface FdrRow {
  method: "bh" | "by";
  m: number;
  pi0: number;
  q: number;
  sims: number;
  fdr: number;
  /** Monte Carlo standard error of `fdr`. */
  se: number;
  bound: number;
  holds: boolean;
}

export interface CoverageRow {
  n: number;
  distribution: NullDistribution;
  sims: number;
  resamples: number;
  coverage: number;
  coverageLow: number;
  coverageHigh: number;
  /** Coverage within 93-97%. */
  ok: boolean;
}

export interface CalibrationReport {
  alpha: number;
  seed: number;
  typeI: TypeIRow[];
  fdr: FdrRow[];
  coverage: CoverageRow[];
}

/** Pseudo-median of Exp(1): half the median of Gamma(2, 1) (solves e^{-2m}(1 + 2m) = ½). */
const EXP_PSEUDO_MEDIAN = 0.8391734950083306;

function draw(
  rng: Rng,
  distribution: NullDistribution,
  centre: "mean" | "pseudo-median",
  out: Float64Array,
): void {
  for (let i = 0; i < out.length; i++) {
    if (distribution === "normal") out[i] = rng.normal();
    else if (distribution === "skewed")
      out[i] = rng.exponential() - (centre === "mean" ? 1 : EXP_PSEUDO_MEDIAN);
    else {
      const z = rng.normal();
      const a = rng.normal();
      const b = rng.normal();
      const c = rng.normal();
      out[i] = z / Math.sqrt((a * a + b * b + c * c) / 3);
    }
  }
}

/** Wilson score interval for a binomial proportion. */
function wilson(successes: number, trials: number, z = 1.959963984540054): [number, number] {
  const p = successes / trials;
  const denom = 1 + (z * z) / trials;
  const centre = (p + (z * z) / (2 * trials)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / trials + (z * z) / (4 * trials * trials))) / denom;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/**
 * Run the calibration study.
 *
 * @example
 * const report = runCalibration({ sims: 2000, seed: 1 });
 * console.log(formatCalibrationTable(report));
 */
export function runCalibration(options: CalibrationOptions = {}): CalibrationReport {
  const sims = options.sims ?? 4000;
  const ns = options.ns ?? [10, 20, 50];
  const distributions = options.distributions ?? ["normal", "skewed", "heavy-tailed"];
  const tests = options.tests ?? ["t", "wilcoxon", "perm"];
  const alpha = options.alpha ?? 0.05;
  const seed = options.seed ?? 0;
  const permResamples = options.permResamples ?? 999;
  const fdrOptions = { m: 200, pi0: [1, 0.8, 0.5], q: [0.05, 0.1], sims: 2000, effect: 3, ...options.fdr };
  const coverageOptions = { ns: [20, 50], sims: 1000, resamples: 2000, ...options.coverage };
  const totalSteps =
    tests.length * ns.length * distributions.length + 1 + coverageOptions.ns.length * distributions.length;
  let step = 0;
  const progress = (detail: string) => options.onProgress?.(++step, totalSteps, detail);

  const z99 = 2.5758293035489004;
  const band = z99 * Math.sqrt((alpha * (1 - alpha)) / sims);
  const typeI: TypeIRow[] = [];
  let stream = 0;
  for (const test of tests) {
    for (const distribution of distributions) {
      for (const n of ns) {
        const centre = test === "wilcoxon" && distribution === "skewed" ? "pseudo-median" : "mean";
        const rng = new Rng(seed, ++stream);
        const x = new Float64Array(n);
        let rejections = 0;
        for (let s = 0; s < sims; s++) {
          draw(rng, distribution, centre, x);
          const p =
            test === "t"
              ? ttest1samp(x).pvalue
              : test === "wilcoxon"
                ? wilcoxon(x).pvalue
                : signFlipTest(x, { resamples: permResamples, seed, stream: stream * 1000003 + s }).pvalue;
          if (p < alpha) rejections++;
        }
        const rate = rejections / sims;
        const [rateLow, rateHigh] = wilson(rejections, sims);
        const bandLow = alpha - band;
        const bandHigh = alpha + band;
        typeI.push({
          test,
          n,
          distribution,
          centre,
          sims,
          rejections,
          rate,
          rateLow,
          rateHigh,
          bandLow,
          bandHigh,
          verdict: rate < bandLow ? "conservative" : rate > bandHigh ? "liberal" : "within",
        });
        progress(`${test} ${distribution} n=${n}`);
      }
    }
  }

  const fdr: FdrRow[] = [];
  for (const pi0 of fdrOptions.pi0) {
    const rng = new Rng(seed, ++stream);
    const m = fdrOptions.m;
    const nulls = Math.round(pi0 * m);
    const p = new Float64Array(m);
    const sums = new Map<string, { sum: number; sumSq: number }>();
    for (let s = 0; s < fdrOptions.sims; s++) {
      for (let i = 0; i < m; i++) {
        const z = rng.normal() + (i < nulls ? 0 : fdrOptions.effect);
        p[i] = Math.min(1, 2 * normalSf(Math.abs(z)));
      }
      for (const method of ["bh", "by"] as const) {
        for (const q of fdrOptions.q) {
          const reject = adjustPValues(p, method, q).reject;
          let r = 0;
          let v = 0;
          for (let i = 0; i < m; i++) {
            if (reject[i]) {
              r++;
              if (i < nulls) v++;
            }
          }
          const fdp = v / Math.max(r, 1);
          const key = `${method} ${q}`;
          const acc = sums.get(key) ?? { sum: 0, sumSq: 0 };
          acc.sum += fdp;
          acc.sumSq += fdp * fdp;
          sums.set(key, acc);
        }
      }
    }
    for (const method of ["bh", "by"] as const) {
      for (const q of fdrOptions.q) {
        const acc = sums.get(`${method} ${q}`)!;
        const k = fdrOptions.sims;
        const mean = acc.sum / k;
        const se = Math.sqrt(Math.max(0, acc.sumSq / k - mean * mean) / k);
        const bound = (nulls / m) * q;
        fdr.push({
          method,
          m,
          pi0,
          q,
          sims: k,
          fdr: mean,
          se,
          bound,
          holds: mean <= bound + 2.5758293035489004 * se,
        });
      }
    }
  }
  progress("FDR");

  const coverage: CoverageRow[] = [];
  for (const distribution of distributions) {
    for (const n of coverageOptions.ns) {
      const rng = new Rng(seed, ++stream);
      const samples: Float64Array[] = [];
      for (let s = 0; s < coverageOptions.sims; s++) {
        const x = new Float64Array(n);
        draw(rng, distribution, "mean", x);
        samples.push(x);
      }
      // Each sample gets its own resample stream (bootstrapMeans shares indices among equal-length
      // columns, which would correlate the simulated intervals).
      let covered = 0;
      samples.forEach((x, s) => {
        const [r] = bootstrapMeans([x], {
          resamples: coverageOptions.resamples,
          seed,
          stream: stream * 100003 + s,
        });
        if (r.confidenceInterval.low <= 0 && r.confidenceInterval.high >= 0) covered++;
      });
      const rate = covered / coverageOptions.sims;
      const [coverageLow, coverageHigh] = wilson(covered, coverageOptions.sims);
      coverage.push({
        n,
        distribution,
        sims: coverageOptions.sims,
        resamples: coverageOptions.resamples,
        coverage: rate,
        coverageLow,
        coverageHigh,
        ok: rate >= 0.93 && rate <= 0.97,
      });
      progress(`coverage ${distribution} n=${n}`);
    }
  }
  return { alpha, seed, typeI, fdr, coverage };
}

const pct = (v: number, digits = 1) => `${(100 * v).toFixed(digits)}%`;

/**
 * The calibration tables as Markdown (for the terminal and the study report).
 *
 * @example
 * formatCalibrationTable(runCalibration({ sims: 500 }));
 */
export function formatCalibrationTable(report: CalibrationReport): string {
  const lines: string[] = [];
  const a = report.typeI[0];
  lines.push(
    `Type-I error at alpha = ${report.alpha} (${a ? a.sims : 0} null samples per cell; 99% Monte Carlo band ${a ? `${pct(a.bandLow, 2)}-${pct(a.bandHigh, 2)}` : "-"})`,
    "",
    "| test | distribution | centred on | n | rejections | rate | 95% CI of rate | verdict |",
    "| --- | --- | --- | ---: | ---: | ---: | --- | --- |",
  );
  for (const r of report.typeI) {
    lines.push(
      `| ${r.test} | ${r.distribution} | ${r.centre} | ${r.n} | ${r.rejections}/${r.sims} | ${pct(r.rate, 2)} | ${pct(r.rateLow, 2)}-${pct(r.rateHigh, 2)} | ${r.verdict} |`,
    );
  }
  lines.push(
    "",
    "False discovery rate (independent two-sided z-tests)",
    "",
    "| method | m | pi0 | q | families | FDR | MC se | bound pi0*q | holds |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  );
  for (const r of report.fdr) {
    lines.push(
      `| ${r.method.toUpperCase()} | ${r.m} | ${r.pi0} | ${r.q} | ${r.sims} | ${r.fdr.toFixed(4)} | ${r.se.toFixed(4)} | ${r.bound.toFixed(4)} | ${r.holds ? "yes" : "NO"} |`,
    );
  }
  lines.push(
    "",
    "BCa 95% interval coverage of the true mean",
    "",
    "| distribution | n | samples | resamples | coverage | 95% CI | within 93-97% |",
    "| --- | ---: | ---: | ---: | ---: | --- | --- |",
  );
  for (const r of report.coverage) {
    lines.push(
      `| ${r.distribution} | ${r.n} | ${r.sims} | ${r.resamples} | ${pct(r.coverage)} | ${pct(r.coverageLow)}-${pct(r.coverageHigh)} | ${r.ok ? "yes" : "no"} |`,
    );
  }
  return `${lines.join("\n")}\n`;
}
