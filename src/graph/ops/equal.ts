import { check, type Value } from "../ir.js";
import { lift } from "./binary.js";
import { broadcastShapes } from "./broadcast.js";
import type { OpDef } from "./op-def.js";

/** a == b elementwise (broadcasting), as bool; no gradient. @example equal(x, reduceMax(x, [1], true)) */
export function equal(a: Value, b: Value | number): Value {
  return a.graph.apply("Equal", [a, lift(b, a)]);
}

export const equalDef: OpDef = {
  infer([a, b]) {
    check(a.dtype === b.dtype, () => `Equal: dtypes differ (a ${a.dtype} vs b ${b.dtype})`);
    return { shape: broadcastShapes("Equal", a.shape, b.shape), dtype: "bool" };
  },
  onnx(node, w) {
    w.node("Equal", node.inputs.map(w.name), [w.out]);
  },
  vjp() {
    return [null, null];
  },
};
