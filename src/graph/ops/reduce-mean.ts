import type { Value } from "../ir.js";
import { countElements } from "./count-elements.js";
import { div } from "./div.js";
import type { OpDef } from "./op-def.js";
import { broadcastBack, reducedShape, reductionAxes } from "./reduce-sum.js";

/** Mean over `axes`. @example reduceMean(x, [-1], true) // [b, s, d] → [b, s, 1] */
export function reduceMean(x: Value, axes: readonly number[], keepDims = false): Value {
  return x.graph.apply("ReduceMean", [x], { axes: reductionAxes("ReduceMean", x, axes), keepdims: keepDims });
}

export const reduceMeanDef: OpDef = {
  infer([x], attrs) {
    return { shape: reducedShape(x, attrs.axes as number[], Boolean(attrs.keepdims)), dtype: x.dtype };
  },
  // Opset 17 still takes ReduceMean's axes as an attribute (an input from 18).
  onnx(node, w) {
    w.node("ReduceMean", [w.name(node.inputs[0])], [w.out], {
      axes: node.attrs.axes as number[],
      keepdims: node.attrs.keepdims ? 1 : 0,
    });
  },
  // Each element gets g / N, N = elements per reduced slice (symbolic-safe).
  vjp(node, g) {
    const x = node.inputs[0];
    const axes = node.attrs.axes as number[];
    return [broadcastBack(div(g, countElements(x, axes)), x, axes, Boolean(node.attrs.keepdims))];
  },
};
