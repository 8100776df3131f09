import { check, type Dim, type Shape, shapeString, type Value } from "../ir.js";
import type { OpDef } from "./op-def.js";

/**
 * Reshape to `shape`. Symbolic dims must appear in the input too (the batch
 * size is kept, never folded into another axis).
 *
 * @example reshape(q, ["batch", 25, 8, 16])
 */
export function reshape(x: Value, shape: Shape): Value {
  return x.graph.apply("Reshape", [x], { shape: shape as readonly number[] });
}

function concreteProduct(shape: Shape): number {
  return shape.reduce<number>((n, d) => (typeof d === "number" ? n * d : n), 1);
}

function symbols(shape: Shape): string {
  return shape
    .filter((d): d is string => typeof d === "string")
    .sort()
    .join(",");
}

export const reshapeDef: OpDef = {
  infer([x], attrs) {
    const shape = attrs.shape as unknown as Dim[];
    check(
      symbols(shape) === symbols(x.shape) && concreteProduct(shape) === concreteProduct(x.shape),
      () => `Reshape: cannot reshape ${shapeString(x.shape)} to ${shapeString(shape)}`,
    );
    return { shape: [...shape], dtype: x.dtype };
  },
  onnx(node, w) {
    const x = node.inputs[0];
    const target = node.attrs.shape as unknown as Dim[];
    let inferred = 0;
    // A symbolic dim at the same position is copied (0); one other may be inferred (-1).
    const dims = target.map((d, i) => {
      if (typeof d === "number") return d;
      if (x.shape[i] === d) return 0;
      inferred++;
      return -1;
    });
    if (inferred > 1) throw new Error(`Reshape: cannot express ${shapeString(target)} in ONNX`);
    w.node("Reshape", [w.name(x), w.ints(dims)], [w.out]);
  },
  vjp(node, g) {
    return [reshape(g, node.inputs[0].shape)];
  },
};
