import { createRequire } from "node:module";

/**
 * The stdlib special functions (ports of Boost/Cephes), loaded on first use. Loading all five
 * packages costs about as much as the rest of the CLI put together (≈0.2 s of a 0.45 s start on
 * an idle 2-core machine; see `npm run bench -- startup`), and most commands (datasets, eval,
 * patch, sweep, train) never call them.
 */
const require = createRequire(import.meta.url);

type Betainc = typeof import("@stdlib/math-base-special-betainc");
type Unary = (x: number) => number;
type TQuantile = typeof import("@stdlib/stats-base-dists-t-quantile");

let betaincFn: Betainc | undefined;
let erfcFn: Unary | undefined;
let erfcinvFn: Unary | undefined;
let gammalnFn: Unary | undefined;
let tQuantileFn: TQuantile | undefined;

/** Regularised incomplete beta function I_x(a, b) (or its complement, or unregularised). */
export function betainc(x: number, a: number, b: number, regularized?: boolean, upper?: boolean): number {
  betaincFn ??= require("@stdlib/math-base-special-betainc") as Betainc;
  return betaincFn(x, a, b, regularized, upper);
}

/** Complementary error function. */
export function erfc(x: number): number {
  erfcFn ??= require("@stdlib/math-base-special-erfc") as Unary;
  return erfcFn(x);
}

/** Inverse complementary error function. */
export function erfcinv(x: number): number {
  erfcinvFn ??= require("@stdlib/math-base-special-erfcinv") as Unary;
  return erfcinvFn(x);
}

/** Natural logarithm of the gamma function. */
export function gammaln(x: number): number {
  gammalnFn ??= require("@stdlib/math-base-special-gammaln") as Unary;
  return gammalnFn(x);
}

/** Student-t quantile (stdlib's estimate, polished by the caller). */
export function tQuantileStdlib(p: number, df: number): number {
  tQuantileFn ??= require("@stdlib/stats-base-dists-t-quantile") as TQuantile;
  return tQuantileFn(p, df);
}
