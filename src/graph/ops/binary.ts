import { type Attrs, check, type Node, type Value } from "../ir.js";
import { broadcastShapes, unbroadcast } from "./broadcast.js";
import type { OpDef } from "./op-def.js";

/** Shared shape rule and ONNX form of the broadcasting arithmetic ops. */
export function binaryDef(
  onnxOp: string,
  vjp: (a: Value, b: Value, out: Value, g: Value) => [Value, Value],
): OpDef {
  return {
    infer([a, b]: readonly Value[], _attrs: Attrs) {
      check(a.dtype === "float32" && b.dtype === "float32", () => `${onnxOp}: inputs must be float32`);
      return { shape: broadcastShapes(onnxOp, a.shape, b.shape), dtype: "float32" };
    },
    onnx(node, w) {
      w.node(onnxOp, node.inputs.map(w.name), [w.out]);
    },
    vjp(node: Node, g: Value) {
      const [a, b] = node.inputs;
      const [ga, gb] = vjp(a, b, node.output, g);
      return [unbroadcast(ga, a.shape), unbroadcast(gb, b.shape)];
    },
  };
}

/** A number becomes a scalar constant of `like`'s graph. */
export function lift(x: Value | number, like: Value): Value {
  return typeof x === "number" ? like.graph.scalar(x) : x;
}
