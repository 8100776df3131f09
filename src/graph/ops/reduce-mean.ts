import type { Value } from "../ir.js";
import { countElements } from "./count-elements.js";
import { div } from "./div.js";
import type { OpDef } from "./op-def.js";
import { broadcastBack, inferReduction, reductionAxes, reductionWithAxesAttribute } from "./reduce-sum.js";

/** Mean over `axes`. @example reduceMean(x, [-1], true) // [b, s, d] → [b, s, 1] */
export function reduceMean(x: Value, axes: readonly number[], keepDims = false): Value {
  return x.graph.apply("ReduceMean", [x], { axes: reductionAxes("ReduceMean", x, axes), keepdims: keepDims });
}

export const reduceMeanDef: OpDef = {
  infer: inferReduction,
  onnx: reductionWithAxesAttribute("ReduceMean"),
  // Each element gets g / N, N = elements per reduced slice (symbolic-safe).
  vjp(node, g) {
    const x = node.inputs[0];
    const axes = node.attrs.axes as number[];
    return [broadcastBack(div(g, countElements(x, axes)), x, axes, Boolean(node.attrs.keepdims))];
  },
};
