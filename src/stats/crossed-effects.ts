/**
 * The grand mean of patching effects under a crossed random-intercept model: every pair's effect
 * is y = μ + a_source + b_target + e, with a ~ N(0, σ²_a), b ~ N(0, σ²_b), e ~ N(0, σ²_e)
 * (Baayen, Davidson & Bates [1]). Pairs that share a source (or a target) are correlated, so the
 * SE of μ is larger than s/√n; this model gives the SE that the sharing implies.
 *
 * Estimation is REML (Patterson & Thompson [2]) profiled over σ²_e: with θ = (σ²_a, σ²_b)/σ²_e,
 * H = I + Z D(θ) Zᵀ (Z the source and target indicator columns), the restricted log-likelihood is
 * −½[(n − 1) log σ̂² + log|H| + log(1ᵀH⁻¹1)] with σ̂² = rᵀH⁻¹r/(n − 1) [3, Eq. 2.21 with p = 1].
 * H⁻¹ and log|H| come from the q × q matrix A = D⁻¹ + ZᵀZ (Woodbury; q = sources + targets), so
 * the cost is O(q³) per evaluation; designs with more than `maxLevels` levels are not fitted
 * (the result says so). θ is found by Nelder–Mead on log θ ∈ [−12, 8] (variance ratios from 6e-6
 * to 3000; a component at the lower end is reported as 0). Var(μ̂) = σ̂²/(1ᵀH⁻¹1).
 *
 * Checked against statsmodels MixedLM with variance components (`vc_formula`, one all-ones group).
 *
 * References:
 * [1] R. H. Baayen, D. J. Davidson, D. M. Bates, "Mixed-effects modeling with crossed random
 *     effects for subjects and items", J. Memory and Language 59(4), 2008.
 * [2] H. D. Patterson, R. Thompson, "Recovery of inter-block information when block sizes are
 *     unequal", Biometrika 58(3), 1971.
 * [3] J. C. Pinheiro, D. M. Bates, Mixed-Effects Models in S and S-PLUS, Springer 2000, §2.2.
 */
import type { ConfidenceInterval, EstimateResult } from "./results.js";
import { tConfidenceInterval } from "./ttest.js";

export interface CrossedEffectsResult extends EstimateResult {
  /** SE of the grand mean under the model. */
  readonly standardError: number;
  readonly varianceSource: number;
  readonly varianceTarget: number;
  readonly varianceResidual: number;
  readonly sources: number;
  readonly targets: number;
  /** Degrees of freedom used for the CI: min(sources, targets) − 1 (conservative; see notes). */
  readonly df: number;
  /** −2 × restricted log-likelihood (without the constant), for comparison with other fits. */
  readonly deviance: number;
}

export interface CrossedOptions {
  /** Largest sources + targets fitted (default 600). */
  maxLevels?: number;
}

const LOG_MIN = -12;
const LOG_MAX = 8;

/**
 * Fit the crossed random-intercept model for the grand mean.
 *
 * @example
 * const r = crossedRandomEffects(effects, sourceIds, targetIds);
 * r.estimate; r.standardError; r.confidenceInterval(0.95);
 */
export function crossedRandomEffects(
  y: ArrayLike<number>,
  source: ArrayLike<number | string>,
  target: ArrayLike<number | string>,
  options: CrossedOptions = {},
): CrossedEffectsResult {
  const n = y.length;
  if (source.length !== n || target.length !== n) {
    throw new RangeError(`${n} effects but ${source.length} sources and ${target.length} targets`);
  }
  const a = levels(source);
  const b = levels(target);
  const qa = a.count;
  const q = qa + b.count;
  const notes: string[] = [];
  const maxLevels = options.maxLevels ?? 600;
  const df = Math.min(a.count, b.count) - 1;
  const base = { method: "crossed random intercepts (REML)", n, sources: a.count, targets: b.count, df };
  if (q > maxLevels || n < 3) {
    notes.push(n < 3 ? "n < 3" : `not fitted: ${q} levels > ${maxLevels}`);
    return nanResult(base, notes);
  }
  if (a.count === n) notes.push("every pair has its own source: σ²_source is not separable from σ²_residual");
  if (b.count === n) notes.push("every pair has its own target: σ²_target is not separable from σ²_residual");
  // ZᵀZ is diagonal within each factor; the cross block counts pairs per (source, target).
  const ztz = new Float64Array(q * q);
  const zt1 = new Float64Array(q);
  const zty = new Float64Array(q);
  let sumY = 0;
  let sumYY = 0;
  for (let i = 0; i < n; i++) {
    const s = a.index[i];
    const t = qa + b.index[i];
    ztz[s * q + s]++;
    ztz[t * q + t]++;
    ztz[s * q + t]++;
    ztz[t * q + s]++;
    zt1[s]++;
    zt1[t]++;
    zty[s] += y[i];
    zty[t] += y[i];
    sumY += y[i];
    sumYY += y[i] * y[i];
  }
  const evaluate = (logTheta: readonly number[]) => {
    const ta = Math.exp(clamp(logTheta[0]));
    const tb = Math.exp(clamp(logTheta[1]));
    const A = Float64Array.from(ztz);
    let logDetD = 0;
    for (let k = 0; k < q; k++) {
      const theta = k < qa ? ta : tb;
      A[k * q + k] += 1 / theta;
      logDetD += Math.log(theta);
    }
    const logDetA = choleskyInPlace(A, q);
    if (!Number.isFinite(logDetA)) return null;
    const u1 = solveCholesky(A, q, zt1);
    const uy = solveCholesky(A, q, zty);
    const oneH1 = n - dot(zt1, u1);
    const oneHy = sumY - dot(zt1, uy);
    const yHy = sumYY - dot(zty, uy);
    const mu = oneHy / oneH1;
    const rss = yHy - mu * oneHy;
    const sigma2 = rss / (n - 1);
    const deviance = (n - 1) * Math.log(sigma2) + logDetD + logDetA + Math.log(oneH1);
    return { mu, sigma2, oneH1, deviance, ta, tb };
  };
  const objective = (x: readonly number[]) => evaluate(x)?.deviance ?? Number.POSITIVE_INFINITY;
  let best = nelderMead(objective, [0, 0]);
  // Restart from the optimum: Nelder–Mead can stall on the flat ridges of unidentified components.
  best = nelderMead(objective, best);
  const fit = evaluate(best);
  if (fit === null || !(fit.sigma2 > 0)) {
    notes.push("REML did not converge");
    return nanResult(base, notes);
  }
  const atFloor = (t: number) => Math.log(t) <= LOG_MIN + 1e-6;
  const varianceSource = atFloor(fit.ta) ? 0 : fit.ta * fit.sigma2;
  const varianceTarget = atFloor(fit.tb) ? 0 : fit.tb * fit.sigma2;
  const standardError = Math.sqrt(fit.sigma2 / fit.oneH1);
  if (df < 1) notes.push("fewer than 2 sources or targets: no CI");
  return {
    ...base,
    estimate: fit.mu,
    standardError,
    varianceSource,
    varianceTarget,
    varianceResidual: fit.sigma2,
    deviance: fit.deviance,
    notes,
    confidenceInterval(level = 0.95): ConfidenceInterval {
      return df < 1
        ? { low: Number.NaN, high: Number.NaN, level }
        : tConfidenceInterval(fit.mu, standardError, df, level, "two-sided");
    },
  };
}

function nanResult(
  base: { method: string; n: number; sources: number; targets: number; df: number },
  notes: string[],
): CrossedEffectsResult {
  return {
    ...base,
    estimate: Number.NaN,
    standardError: Number.NaN,
    varianceSource: Number.NaN,
    varianceTarget: Number.NaN,
    varianceResidual: Number.NaN,
    deviance: Number.NaN,
    notes,
    confidenceInterval: (level = 0.95) => ({ low: Number.NaN, high: Number.NaN, level }),
  };
}

function levels(ids: ArrayLike<number | string>): { index: Int32Array; count: number } {
  const map = new Map<number | string, number>();
  const index = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    let k = map.get(ids[i]);
    if (k === undefined) {
      k = map.size;
      map.set(ids[i], k);
    }
    index[i] = k;
  }
  return { index, count: map.size };
}

function clamp(x: number): number {
  return Math.min(LOG_MAX, Math.max(LOG_MIN, x));
}

function dot(u: Float64Array, v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < u.length; i++) s += u[i] * v[i];
  return s;
}

/** Lower Cholesky factor in place (row-major, lower triangle); returns log det, NaN if not PD. */
function choleskyInPlace(A: Float64Array, q: number): number {
  let logDet = 0;
  for (let j = 0; j < q; j++) {
    let d = A[j * q + j];
    for (let k = 0; k < j; k++) d -= A[j * q + k] ** 2;
    if (!(d > 0)) return Number.NaN;
    const l = Math.sqrt(d);
    A[j * q + j] = l;
    logDet += 2 * Math.log(l);
    for (let i = j + 1; i < q; i++) {
      let s = A[i * q + j];
      for (let k = 0; k < j; k++) s -= A[i * q + k] * A[j * q + k];
      A[i * q + j] = s / l;
    }
  }
  return logDet;
}

function solveCholesky(L: Float64Array, q: number, b: Float64Array): Float64Array {
  const x = Float64Array.from(b);
  for (let i = 0; i < q; i++) {
    let s = x[i];
    for (let k = 0; k < i; k++) s -= L[i * q + k] * x[k];
    x[i] = s / L[i * q + i];
  }
  for (let i = q - 1; i >= 0; i--) {
    let s = x[i];
    for (let k = i + 1; k < q; k++) s -= L[k * q + i] * x[k];
    x[i] = s / L[i * q + i];
  }
  return x;
}

/** Nelder–Mead minimisation (standard coefficients 1, 2, ½, ½), to a simplex spread of 1e-9. */
function nelderMead(f: (x: readonly number[]) => number, start: readonly number[]): number[] {
  const dim = start.length;
  let simplex = [start.slice(), ...start.map((_, i) => start.map((v, j) => (i === j ? v + 1 : v)))];
  let values = simplex.map(f);
  for (let iter = 0; iter < 2000; iter++) {
    const order = values.map((_, i) => i).sort((i, j) => values[i] - values[j]);
    simplex = order.map((i) => simplex[i]);
    values = order.map((i) => values[i]);
    if (Math.abs(values[dim] - values[0]) < 1e-10 && spread(simplex) < 1e-7) break;
    const centroid = start.map((_, j) => simplex.slice(0, dim).reduce((s, p) => s + p[j], 0) / dim);
    const along = (t: number) => centroid.map((c, j) => c + t * (simplex[dim][j] - c));
    const reflected = along(-1);
    const fr = f(reflected);
    if (fr < values[0]) {
      const expanded = along(-2);
      const fe = f(expanded);
      [simplex[dim], values[dim]] = fe < fr ? [expanded, fe] : [reflected, fr];
    } else if (fr < values[dim - 1]) {
      [simplex[dim], values[dim]] = [reflected, fr];
    } else {
      const contracted = along(0.5);
      const fc = f(contracted);
      if (fc < values[dim]) [simplex[dim], values[dim]] = [contracted, fc];
      else {
        for (let i = 1; i <= dim; i++) {
          simplex[i] = simplex[i].map((v, j) => simplex[0][j] + 0.5 * (v - simplex[0][j]));
          values[i] = f(simplex[i]);
        }
      }
    }
  }
  return simplex[values.indexOf(Math.min(...values))].map(clamp);
}

function spread(simplex: number[][]): number {
  let s = 0;
  for (const p of simplex) for (let j = 0; j < p.length; j++) s = Math.max(s, Math.abs(p[j] - simplex[0][j]));
  return s;
}
