import { check, type Node, type Value } from "../ir.js";
import type { OpDef } from "./op-def.js";

/** Shared shape rule and ONNX form of the elementwise float ops of one input. */
export function unaryDef(onnxOp: string, vjp: (x: Value, out: Value, g: Value) => Value): OpDef {
  return {
    infer([x]) {
      check(x.dtype === "float32", () => `${onnxOp}: input must be float32, got ${x.dtype}`);
      return { shape: x.shape, dtype: "float32" };
    },
    onnx(node, w) {
      w.node(onnxOp, [w.name(node.inputs[0])], [w.out]);
    },
    vjp(node: Node, g: Value) {
      return [vjp(node.inputs[0], node.output, g)];
    },
  };
}
