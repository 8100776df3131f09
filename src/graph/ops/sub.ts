import type { Value } from "../ir.js";
import { binaryDef, lift } from "./binary.js";
import { neg } from "./mul.js";

/** a - b with numpy broadcasting. @example sub(x, mean) */
export function sub(a: Value, b: Value | number): Value {
  return a.graph.apply("Sub", [a, lift(b, a)]);
}

export const subDef = binaryDef("Sub", (_a, _b, _out, g) => [g, neg(g)]);
