import type { Value } from "../ir.js";
import { div } from "./div.js";
import { unaryDef } from "./unary.js";

/** Elementwise natural logarithm. @example log(probabilities) */
export function log(x: Value): Value {
  return x.graph.apply("Log", [x]);
}

export const logDef = unaryDef("Log", (x, _out, g) => div(g, x));
