import type { Value } from "../ir.js";
import { cast } from "./cast.js";
import { div } from "./div.js";
import { equal } from "./equal.js";
import { expandAs } from "./expand.js";
import { mul } from "./mul.js";
import type { OpDef } from "./op-def.js";
import {
  broadcastBack,
  inferReduction,
  reducedShape,
  reduceSum,
  reductionAxes,
  reductionWithAxesAttribute,
} from "./reduce-sum.js";
import { reshape } from "./reshape.js";

/** Maximum over `axes`. @example reduceMax(h, [1]) // max-pool over time: [b, s, d] → [b, d] */
export function reduceMax(x: Value, axes: readonly number[], keepDims = false): Value {
  return x.graph.apply("ReduceMax", [x], { axes: reductionAxes("ReduceMax", x, axes), keepdims: keepDims });
}

export const reduceMaxDef: OpDef = {
  infer: inferReduction,
  onnx: reductionWithAxesAttribute("ReduceMax"),
  // The gradient goes to the arg-max positions, split evenly among ties (as torch.amax).
  vjp(node, g) {
    const x = node.inputs[0];
    const axes = node.attrs.axes as number[];
    const keep = Boolean(node.attrs.keepdims);
    const max = keep ? node.output : reshape(node.output, reducedShape(x, axes, true));
    const isMax = cast(equal(x, expandAs(max, x)), "float32");
    const share = div(isMax, reduceSum(isMax, axes, true));
    return [mul(share, broadcastBack(g, x, axes, keep))];
  },
};
