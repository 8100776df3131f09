import type { Value } from "../ir.js";
import { div } from "./div.js";
import { mul } from "./mul.js";
import { unaryDef } from "./unary.js";

/** Elementwise square root. @example sqrt(add(variance, 1e-5)) */
export function sqrt(x: Value): Value {
  return x.graph.apply("Sqrt", [x]);
}

// d sqrt(x) = 1 / (2 sqrt(x)).
export const sqrtDef = unaryDef("Sqrt", (_x, out, g) => div(mul(g, 0.5), out));
