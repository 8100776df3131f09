import type { Value } from "../ir.js";
import { binaryDef, lift } from "./binary.js";

/** a * b (elementwise, numpy broadcasting). @example mul(x, 0.5) */
export function mul(a: Value, b: Value | number): Value {
  return a.graph.apply("Mul", [a, lift(b, a)]);
}

/** -a, as a * (-1). */
export function neg(a: Value): Value {
  return mul(a, -1);
}

export const mulDef = binaryDef("Mul", (a, b, _out, g) => [mul(g, b), mul(g, a)]);
