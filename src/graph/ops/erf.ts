import type { Value } from "../ir.js";
import { exp } from "./exp.js";
import { mul } from "./mul.js";
import { unaryDef } from "./unary.js";

/** Elementwise error function (ONNX Erf, opset 9). @example erf(div(x, g.scalar(Math.SQRT2))) */
export function erf(x: Value): Value {
  return x.graph.apply("Erf", [x]);
}

// d/dx erf(x) = 2/√π · e^{−x²}.
export const erfDef = unaryDef("Erf", (x, _out, g) =>
  mul(g, mul(exp(mul(mul(x, x), x.graph.scalar(-1))), x.graph.scalar(2 / Math.sqrt(Math.PI)))),
);
