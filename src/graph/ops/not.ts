import { check, type Value } from "../ir.js";
import type { OpDef } from "./op-def.js";

/** Logical negation of a bool tensor. @example not(mask) */
export function not(x: Value): Value {
  return x.graph.apply("Not", [x]);
}

export const notDef: OpDef = {
  infer([x]) {
    check(x.dtype === "bool", () => `Not: input must be bool, got ${x.dtype}`);
    return { shape: x.shape, dtype: "bool" };
  },
  onnx(node, w) {
    w.node("Not", [w.name(node.inputs[0])], [w.out]);
  },
  vjp() {
    return [null];
  },
};
