import type { Value } from "../ir.js";
import type { OpDef } from "./op-def.js";
import { normalizeAxes } from "./reduce-sum.js";

/**
 * The number of elements along `axes` of `x` (product of those dims) as a
 * float32 scalar. A constant when the dims are known; read at run time when
 * one is symbolic (e.g. the batch size in a mean over the batch).
 *
 * @example div(total, countElements(x, [0])) // mean over a symbolic batch
 */
export function countElements(x: Value, axes: readonly number[]): Value {
  const normalized = normalizeAxes(x, axes);
  const dims = normalized.map((a) => x.shape[a]);
  if (dims.every((d) => typeof d === "number")) {
    return x.graph.scalar(dims.reduce<number>((n, d) => n * (d as number), 1));
  }
  return x.graph.apply("CountElements", [x], { axes: normalized });
}

export const countElementsDef: OpDef = {
  infer() {
    return { shape: [], dtype: "float32" };
  },
  onnx(node, w) {
    const shape = w.temp();
    const dims = w.temp();
    const product = w.temp();
    w.node("Shape", [w.name(node.inputs[0])], [shape]);
    w.node("Gather", [shape, w.ints(node.attrs.axes as number[])], [dims], { axis: 0 });
    w.node("ReduceProd", [dims], [product], { keepdims: 0 });
    w.node("Cast", [product], [w.out], { to: 1 });
  },
  vjp() {
    return [null];
  },
};
