import { check, type Value } from "../ir.js";
import { normalizeAxis } from "./axis.js";
import { exp } from "./exp.js";
import { mul } from "./mul.js";
import type { OpDef } from "./op-def.js";
import { reduceSum } from "./reduce-sum.js";
import { sub } from "./sub.js";

/**
 * log(softmax(x)) along `axis`, computed stably (ONNX LogSoftmax).
 * -Infinity entries stay -Infinity (log 0) as in PyTorch; a slice that is
 * entirely -Infinity gives -Infinity throughout instead of NaN, and its
 * gradient is finite.
 *
 * @example logSoftmax(logits, -1)
 */
export function logSoftmax(x: Value, axis: number): Value {
  return x.graph.apply("LogSoftmax", [x], { axis: normalizeAxis("LogSoftmax", x, axis) });
}

export const logSoftmaxDef: OpDef = {
  infer([x]) {
    check(x.dtype === "float32", () => `LogSoftmax: x must be float32, got ${x.dtype}`);
    return { shape: x.shape, dtype: "float32" };
  },
  // ONNX LogSoftmax turns an all -Infinity slice into NaN: those slices
  // (maximum -Infinity) are replaced by -Infinity.
  onnx(node, w) {
    const x = w.name(node.inputs[0]);
    const axis = node.attrs.axis as number;
    const [raw, max, masked] = [w.temp(), w.temp(), w.temp()];
    const minusInf = w.float(Number.NEGATIVE_INFINITY);
    w.node("LogSoftmax", [x], [raw], { axis });
    w.node("ReduceMax", [x], [max], { axes: [axis], keepdims: 1 });
    w.node("Equal", [max, minusInf], [masked]);
    w.node("Where", [masked, minusInf, raw], [w.out]);
  },
  // dx = g − softmax(x) · Σ g.
  vjp(node, g) {
    const axis = node.attrs.axis as number;
    return [sub(g, mul(exp(node.output), reduceSum(g, [axis], true)))];
  },
};
