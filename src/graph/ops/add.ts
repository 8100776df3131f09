import type { Value } from "../ir.js";
import { binaryDef, lift } from "./binary.js";

/** a + b with numpy broadcasting. @example add(x, bias) */
export function add(a: Value, b: Value | number): Value {
  return a.graph.apply("Add", [a, lift(b, a)]);
}

export const addDef = binaryDef("Add", (_a, _b, _out, g) => [g, g]);
