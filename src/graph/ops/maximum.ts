import type { Value } from "../ir.js";
import { binaryDef, lift } from "./binary.js";
import { equal } from "./equal.js";
import { greater } from "./greater.js";
import { mul } from "./mul.js";
import { where } from "./where.js";

/** Elementwise max(a, b) with broadcasting. @example maximum(x, 1e-12) */
export function maximum(a: Value, b: Value | number): Value {
  return a.graph.apply("Max", [a, lift(b, a)]);
}

// Ties split the gradient in half, as torch.maximum.
export const maximumDef = binaryDef("Max", (a, b, _out, g) => {
  const zero = g.graph.scalar(0);
  const half = where(equal(a, b), mul(g, 0.5), zero);
  return [where(greater(a, b), g, half), where(greater(b, a), g, half)];
});
