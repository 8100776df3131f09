import { check, shapeString, type Value } from "../ir.js";
import { normalizeAxis } from "./axis.js";
import type { OpDef } from "./op-def.js";
import { pad } from "./pad.js";

/**
 * x[..., start:end, ...] along `axis` (Python-style negative indices; the
 * axis must have a known size).
 *
 * @example slice(h, 1, 0, 1) // the first time step, kept as an axis of size 1
 */
export function slice(x: Value, axis: number, start: number, end: number): Value {
  const a = normalizeAxis("Slice", x, axis);
  const size = x.shape[a];
  check(
    typeof size === "number",
    () => `Slice: axis ${a} of x ${shapeString(x.shape)} is symbolic; only known sizes can be sliced`,
  );
  const s = start < 0 ? start + size : start;
  const e = end < 0 ? end + size : end;
  check(
    Number.isInteger(s) && Number.isInteger(e) && 0 <= s && s <= e && e <= size,
    () => `Slice: range ${start}:${end} is not within axis ${a} of size ${size} (x ${shapeString(x.shape)})`,
  );
  return x.graph.apply("Slice", [x], { axis: a, start: s, end: e });
}

export const sliceDef: OpDef = {
  infer([x], attrs) {
    const shape = [...x.shape];
    shape[attrs.axis as number] = (attrs.end as number) - (attrs.start as number);
    return { shape, dtype: x.dtype };
  },
  onnx(node, w) {
    const { axis, start, end } = node.attrs as { axis: number; start: number; end: number };
    w.node("Slice", [w.name(node.inputs[0]), w.ints([start]), w.ints([end]), w.ints([axis])], [w.out]);
  },
  vjp(node, g) {
    const { axis, start, end } = node.attrs as { axis: number; start: number; end: number };
    const size = node.inputs[0].shape[axis] as number;
    return [pad(g, axis, start, size - end, 0)];
  },
};
