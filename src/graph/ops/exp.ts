import type { Value } from "../ir.js";
import { mul } from "./mul.js";
import { unaryDef } from "./unary.js";

/** Elementwise e^x. @example exp(logSoftmax(z, -1)) */
export function exp(x: Value): Value {
  return x.graph.apply("Exp", [x]);
}

export const expDef = unaryDef("Exp", (_x, out, g) => mul(g, out));
