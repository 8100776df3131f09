import { check, type Dim, type Shape, shapeString, type Value } from "../ir.js";
import { reduceSum } from "./reduce-sum.js";
import { reshape } from "./reshape.js";

/** Numpy broadcasting of two shapes; symbolic dims match only the same name or 1. */
export function broadcastShapes(op: string, a: Shape, b: Shape): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
    check(
      da === db || da === 1 || db === 1,
      () =>
        `${op}: shapes ${shapeString(a)} and ${shapeString(b)} do not broadcast (axis ${i}: ${da} vs ${db})`,
    );
    out.push(da === 1 ? db : da);
  }
  return out;
}

/**
 * The gradient of a broadcast input: sum `grad` over the axes that were
 * broadcast, then reshape to the input's shape.
 */
export function unbroadcast(grad: Value, shape: Shape): Value {
  const lead = grad.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < grad.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && grad.shape[i] !== 1)) axes.push(i);
  }
  if (axes.length === 0 && lead === 0) return grad;
  const summed = axes.length > 0 ? reduceSum(grad, axes, true) : grad;
  return sameShape(summed.shape, shape) ? summed : reshape(summed, shape);
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
