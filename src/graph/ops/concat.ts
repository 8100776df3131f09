import { check, shapeString, type Value } from "../ir.js";
import { normalizeAxis } from "./axis.js";
import type { OpDef } from "./op-def.js";
import { slice } from "./slice.js";

/**
 * Join tensors along `axis`; other axes must match, `axis` must have known sizes.
 *
 * @example concat([q, k, v], -1)
 */
export function concat(values: readonly Value[], axis: number): Value {
  check(values.length > 0, () => "Concat: values must hold at least one tensor, got none");
  const a = normalizeAxis("Concat", values[0], axis);
  return values[0].graph.apply("Concat", values, { axis: a });
}

export const concatDef: OpDef = {
  infer(values, attrs) {
    const a = attrs.axis as number;
    const first = values[0];
    let total = 0;
    values.forEach((v, i) => {
      check(
        v.dtype === first.dtype && v.rank === first.rank,
        () =>
          `Concat: values[${i}] is ${v.dtype} ${shapeString(v.shape)}, expected ${first.dtype} of rank ${first.rank}`,
      );
      check(
        v.shape.every((d, j) => j === a || d === first.shape[j]),
        () =>
          `Concat: values[${i}] ${shapeString(v.shape)} differs from values[0] ${shapeString(first.shape)} off axis ${a}`,
      );
      const d = v.shape[a];
      check(
        typeof d === "number",
        () => `Concat: axis ${a} of values[${i}] ${shapeString(v.shape)} is symbolic`,
      );
      total += d;
    });
    const shape = [...first.shape];
    shape[a] = total;
    return { shape, dtype: first.dtype };
  },
  onnx(node, w) {
    w.node("Concat", node.inputs.map(w.name), [w.out], { axis: node.attrs.axis });
  },
  vjp(node, g) {
    const a = node.attrs.axis as number;
    let offset = 0;
    return node.inputs.map((v) => {
      const size = v.shape[a] as number;
      offset += size;
      return v.dtype === "float32" ? slice(g, a, offset - size, offset) : null;
    });
  },
};
