import type { Value } from "../ir.js";
import { greater } from "./greater.js";
import type { OpDef } from "./op-def.js";
import { where } from "./where.js";

/** max(x, 0). @example relu(matmul(x, w)) */
export function relu(x: Value): Value {
  return x.graph.apply("Relu", [x]);
}

export const reluDef: OpDef = {
  infer([x]) {
    return { shape: x.shape, dtype: x.dtype };
  },
  onnx(node, w) {
    w.node("Relu", [w.name(node.inputs[0])], [w.out]);
  },
  // Subgradient 0 at x = 0, as PyTorch.
  vjp(node, g) {
    const x = node.inputs[0];
    return [where(greater(x, x.graph.scalar(0)), g, g.graph.scalar(0))];
  },
};
