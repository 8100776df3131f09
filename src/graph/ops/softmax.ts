import { check, type Value } from "../ir.js";
import { normalizeAxis } from "./axis.js";
import { mul } from "./mul.js";
import type { OpDef } from "./op-def.js";
import { reduceSum } from "./reduce-sum.js";
import { sub } from "./sub.js";

/** The lowest finite float32: -Infinity entries are raised to it before the softmax. */
export const LOWEST_FLOAT32 = -3.4028234663852886e38;

/**
 * Softmax along `axis` (ONNX Softmax, max-subtracted so it is stable).
 *
 * Masking: -Infinity entries get probability exactly 0 whenever the slice
 * has a finite entry. A slice that is entirely -Infinity (an attention row
 * whose keys are all masked) gives the uniform distribution and a finite
 * gradient instead of NaN: the input is first raised to the lowest finite
 * float32, as masking with `finfo.min` does in PyTorch code. That costs one
 * elementwise Max (≈ 1.2× a bare ONNX Softmax on [256, 8, 36, 36]); an exact
 * guard (ReduceMax + Equal + Where after the softmax) cost ≈ 1.9×
 * (bench/graph-ops.ts, CPU time).
 *
 * @example softmax(where(keyMask, scores, g.scalar(-Infinity)), -1)
 */
export function softmax(x: Value, axis: number): Value {
  return x.graph.apply("Softmax", [x], { axis: normalizeAxis("Softmax", x, axis) });
}

export const softmaxDef: OpDef = {
  infer([x]) {
    check(x.dtype === "float32", () => `Softmax: x must be float32, got ${x.dtype}`);
    return { shape: x.shape, dtype: "float32" };
  },
  onnx(node, w) {
    const raised = w.temp();
    w.node("Max", [w.name(node.inputs[0]), w.float(LOWEST_FLOAT32)], [raised]);
    w.node("Softmax", [raised], [w.out], { axis: node.attrs.axis as number });
  },
  // dx = y ⊙ (g − Σ g⊙y): the Jacobian diag(y) − y yᵀ applied to g.
  vjp(node, g) {
    const y = node.output;
    const axis = node.attrs.axis as number;
    return [mul(y, sub(g, reduceSum(mul(g, y), [axis], true)))];
  },
};
