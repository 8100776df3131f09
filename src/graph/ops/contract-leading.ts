import { check, shapeString, type Value } from "../ir.js";
import { matmul, swapLast } from "./matmul.js";
import type { OpDef } from "./op-def.js";

/**
 * Σ over every leading axis of aᵀ·b: a [..., m, k], b [..., m, n] → [k, n],
 * i.e. out[i, j] = Σ_{..., r} a[..., r, i] · b[..., r, j]. One GEMM over the
 * flattened rows (ONNX Reshape + Gemm), where a batched MatMul followed by a
 * ReduceSum would materialise [..., k, n]. It is the weight gradient of
 * x · W for x with batch axes.
 *
 * @example contractLeading(x, g) // x [batch, S, 128], g [batch, S, 256] → [128, 256]
 */
export function contractLeading(a: Value, b: Value): Value {
  return a.graph.apply("ContractLeading", [a, b]);
}

export const contractLeadingDef: OpDef = {
  infer([a, b]) {
    check(
      a.rank >= 2 && a.rank === b.rank && a.shape.slice(0, -1).every((d, i) => d === b.shape[i]),
      () =>
        `ContractLeading: a and b must agree on all but the last axis, got ${shapeString(a.shape)} and ${shapeString(b.shape)}`,
    );
    const [k, n] = [a.shape[a.rank - 1], b.shape[b.rank - 1]];
    check(
      typeof k === "number" && typeof n === "number",
      () =>
        `ContractLeading: the last axes must have known sizes, got ${shapeString(a.shape)} and ${shapeString(b.shape)}`,
    );
    return { shape: [k, n], dtype: "float32" };
  },
  onnx(node, w) {
    const [a, b] = node.inputs;
    const [a2, b2] = [w.temp(), w.temp()];
    w.node("Reshape", [w.name(a), w.ints([-1, a.shape[a.rank - 1] as number])], [a2]);
    w.node("Reshape", [w.name(b), w.ints([-1, b.shape[b.rank - 1] as number])], [b2]);
    w.node("Gemm", [a2, b2], [w.out], { transA: 1 });
  },
  // da = b · Gᵀ, db = a · G (G broadcast over the leading axes).
  vjp(node, g) {
    const [a, b] = node.inputs;
    return [matmul(b, swapLast(g)), matmul(a, g)];
  },
};
