import type { Value } from "../ir.js";
import { binaryDef, lift } from "./binary.js";
import { mul, neg } from "./mul.js";

/** a / b (elementwise, numpy broadcasting). @example div(x, std) */
export function div(a: Value, b: Value | number): Value {
  return a.graph.apply("Div", [a, lift(b, a)]);
}

// d(a/b)/da = 1/b; d(a/b)/db = -(a/b)/b.
export const divDef = binaryDef("Div", (_a, b, out, g) => [div(g, b), neg(div(mul(g, out), b))]);
