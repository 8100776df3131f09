import type { DType, Value } from "../ir.js";
import type { OpDef } from "./op-def.js";

/** ONNX TensorProto element types. */
export const ONNX_ELEMENT_TYPE: Record<DType, number> = { float32: 1, int64: 7, bool: 9 };

/** Convert to `dtype` (bool → float32 gives 0/1). @example cast(mask, "float32") */
export function cast(x: Value, dtype: DType): Value {
  if (x.dtype === dtype) return x;
  return x.graph.apply("Cast", [x], { to: dtype });
}

export const castDef: OpDef = {
  infer([x], attrs) {
    return { shape: x.shape, dtype: attrs.to as DType };
  },
  onnx(node, w) {
    w.node("Cast", [w.name(node.inputs[0])], [w.out], { to: ONNX_ELEMENT_TYPE[node.attrs.to as DType] });
  },
  // Only float → float carries a gradient, and cast() never emits that node.
  vjp() {
    return [null];
  },
};
