import { check, shapeString, type Value } from "../ir.js";
import { normalizeAxis } from "./axis.js";
import type { OpDef } from "./op-def.js";
import { slice } from "./slice.js";

/**
 * Pad `axis` with `before` and `after` entries of `value` (constant mode).
 *
 * @example pad(x, 1, 2, 2) // 'same' padding in time for a kernel of 5
 */
export function pad(x: Value, axis: number, before: number, after: number, value = 0): Value {
  const a = normalizeAxis("Pad", x, axis);
  check(
    Number.isInteger(before) && Number.isInteger(after) && before >= 0 && after >= 0,
    () => `Pad: before and after must be integers >= 0, got ${before} and ${after}`,
  );
  check(
    typeof x.shape[a] === "number" || before + after === 0,
    () => `Pad: axis ${a} of x ${shapeString(x.shape)} is symbolic; only known sizes can be padded`,
  );
  return x.graph.apply("Pad", [x], { axis: a, before, after, value });
}

export const padDef: OpDef = {
  infer([x], attrs) {
    check(x.dtype === "float32", () => `Pad: x must be float32, got ${x.dtype}`);
    const a = attrs.axis as number;
    const shape = [...x.shape];
    shape[a] = (shape[a] as number) + (attrs.before as number) + (attrs.after as number);
    return { shape, dtype: x.dtype };
  },
  // Opset 17 Pad: pads = [begin of each axis..., end of each axis...], value as an input.
  onnx(node, w) {
    const x = node.inputs[0];
    const { axis, before, after, value } = node.attrs as Record<string, number>;
    const pads = new Array<number>(2 * x.rank).fill(0);
    pads[axis] = before;
    pads[x.rank + axis] = after;
    w.node("Pad", [w.name(x), w.ints(pads), w.float(value)], [w.out], { mode: "constant" });
  },
  vjp(node, g) {
    const { axis, before } = node.attrs as Record<string, number>;
    return [slice(g, axis, before, before + (node.inputs[0].shape[axis] as number))];
  },
};
