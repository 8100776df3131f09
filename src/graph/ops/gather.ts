import { check, shapeString, type Value } from "../ir.js";
import { normalizeAxis } from "./axis.js";
import type { OpDef } from "./op-def.js";
import { scatterAdd } from "./scatter-add.js";

/**
 * Take entries of `x` along `axis` at int64 `indices` (numpy `take`, ONNX
 * Gather): out.shape = x.shape[:axis] + indices.shape + x.shape[axis+1:].
 *
 * @example gather(logits, classIndex, 1) // [batch, K] at [2] → [batch, 2]
 */
export function gather(x: Value, indices: Value, axis: number): Value {
  return x.graph.apply("Gather", [x, indices], { axis: normalizeAxis("Gather", x, axis) });
}

export const gatherDef: OpDef = {
  infer([x, indices], attrs) {
    check(indices.dtype === "int64", () => `Gather: indices must be int64, got ${indices.dtype}`);
    const a = attrs.axis as number;
    return { shape: [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)], dtype: x.dtype };
  },
  onnx(node, w) {
    w.node("Gather", node.inputs.map(w.name), [w.out], { axis: node.attrs.axis });
  },
  // Gathered entries send their gradient back to where they came from (summed on repeats).
  vjp(node, g) {
    const [x, indices] = node.inputs;
    check(x.dtype === "float32", () => `Gather: no gradient for ${x.dtype} x ${shapeString(x.shape)}`);
    return [scatterAdd(x, indices, g, node.attrs.axis as number), null];
  },
};
