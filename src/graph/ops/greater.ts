import { check, type Value } from "../ir.js";
import { broadcastShapes } from "./broadcast.js";
import type { OpDef } from "./op-def.js";

/** a > b elementwise, as bool. @example greater(x, g.scalar(0)) */
export function greater(a: Value, b: Value): Value {
  return a.graph.apply("Greater", [a, b]);
}

export const greaterDef: OpDef = {
  infer([a, b]) {
    check(a.dtype === b.dtype, () => `Greater: dtypes differ (${a.dtype} vs ${b.dtype})`);
    return { shape: broadcastShapes("Greater", a.shape, b.shape), dtype: "bool" };
  },
  onnx(node, w) {
    w.node("Greater", node.inputs.map(w.name), [w.out]);
  },
  vjp() {
    return [null, null];
  },
};
