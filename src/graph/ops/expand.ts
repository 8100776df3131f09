import type { Value } from "../ir.js";
import { broadcastShapes, unbroadcast } from "./broadcast.js";
import type { OpDef } from "./op-def.js";

/**
 * Broadcast `x` to the shape of `like` (whose values are not read). Works with
 * symbolic dims because ONNX takes the target shape from `like` at run time.
 *
 * @example expandAs(reshape(g, ["batch", 1, 128]), x) // → x's shape
 */
export function expandAs(x: Value, like: Value): Value {
  return x.graph.apply("Expand", [x, like]);
}

export const expandDef: OpDef = {
  infer([x, like]) {
    return { shape: broadcastShapes("Expand", x.shape, like.shape), dtype: x.dtype };
  },
  onnx(node, w) {
    const shape = w.temp();
    w.node("Shape", [w.name(node.inputs[1])], [shape]);
    w.node("Expand", [w.name(node.inputs[0]), shape], [w.out]);
  },
  vjp(node, g) {
    return [unbroadcast(g, node.inputs[0].shape), null];
  },
};
