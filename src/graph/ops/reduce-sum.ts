import { type Attrs, check, type Dim, type DType, shapeString, type Value } from "../ir.js";
import { expandAs } from "./expand.js";
import type { OpDef } from "./op-def.js";
import { reshape } from "./reshape.js";

/** Sum over `axes`. @example reduceSum(x, [1], true) // [b, s, d] → [b, 1, d] */
export function reduceSum(x: Value, axes: readonly number[], keepDims = false): Value {
  return x.graph.apply("ReduceSum", [x], { axes: reductionAxes("ReduceSum", x, axes), keepdims: keepDims });
}

/**
 * Axes of a reduction, normalised; at least one is required (ONNX reads an
 * empty list as "all axes", the IR would read it as "none").
 */
export function reductionAxes(op: string, x: Value, axes: readonly number[]): number[] {
  check(
    axes.length > 0,
    () => `${op}: axes must name at least one axis of x ${shapeString(x.shape)}, got []`,
  );
  return normalizeAxes(x, axes);
}

export function normalizeAxes(x: Value, axes: readonly number[]): number[] {
  const out = axes.map((a) => (a < 0 ? a + x.rank : a));
  for (const a of out)
    check(a >= 0 && a < x.rank, () => `axis ${a} out of range for ${shapeString(x.shape)}`);
  return [...new Set(out)].sort((p, q) => p - q);
}

/** Output shape of a reduction over `axes`. */
export function reducedShape(x: Value, axes: readonly number[], keepDims: boolean): Dim[] {
  const out: Dim[] = [];
  x.shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepDims) out.push(1);
  });
  return out;
}

/** `g` (shaped like a reduction of x) reshaped with kept axes and broadcast back to x's shape. */
export function broadcastBack(g: Value, x: Value, axes: readonly number[], keepDims: boolean): Value {
  const kept = keepDims ? g : reshape(g, reducedShape(x, axes, true));
  return expandAs(kept, x);
}

export const reduceSumDef: OpDef = {
  infer: inferReduction,
  onnx(node, w) {
    const axes = node.attrs.axes as number[];
    w.node("ReduceSum", [w.name(node.inputs[0]), w.ints(axes)], [w.out], {
      keepdims: node.attrs.keepdims ? 1 : 0,
    });
  },
  vjp(node, g) {
    const x = node.inputs[0];
    return [broadcastBack(g, x, node.attrs.axes as number[], Boolean(node.attrs.keepdims))];
  },
};

/** The shape rule every reduction shares: `axes` removed, or kept as 1 with `keepdims`. */
export function inferReduction([x]: readonly Value[], attrs: Attrs): { shape: Dim[]; dtype: DType } {
  return { shape: reducedShape(x, attrs.axes as number[], Boolean(attrs.keepdims)), dtype: x.dtype };
}

/** ONNX form of ReduceMean / ReduceMax at opset 17: axes as an attribute (an input only from opset 18). */
export function reductionWithAxesAttribute(opType: "ReduceMean" | "ReduceMax"): OpDef["onnx"] {
  return (node, w) => {
    w.node(opType, [w.name(node.inputs[0])], [w.out], {
      axes: node.attrs.axes as number[],
      keepdims: node.attrs.keepdims ? 1 : 0,
    });
  };
}
