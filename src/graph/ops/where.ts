import { check, type Value } from "../ir.js";
import { broadcastShapes, unbroadcast } from "./broadcast.js";
import type { OpDef } from "./op-def.js";

/** cond ? a : b elementwise (broadcasting). @example where(mask, scores, g.scalar(-Infinity)) */
export function where(cond: Value, a: Value, b: Value): Value {
  return cond.graph.apply("Where", [cond, a, b]);
}

export const whereDef: OpDef = {
  infer([cond, a, b]) {
    check(cond.dtype === "bool", () => `Where: condition must be bool, got ${cond.dtype}`);
    check(a.dtype === b.dtype, () => `Where: branches differ in dtype (${a.dtype} vs ${b.dtype})`);
    const ab = broadcastShapes("Where", a.shape, b.shape);
    return { shape: broadcastShapes("Where", cond.shape, ab), dtype: a.dtype };
  },
  onnx(node, w) {
    w.node("Where", node.inputs.map(w.name), [w.out]);
  },
  vjp(node, g) {
    const [cond, a, b] = node.inputs;
    const zero = g.graph.scalar(0);
    return [null, unbroadcast(where(cond, g, zero), a.shape), unbroadcast(where(cond, zero, g), b.shape)];
  },
};
