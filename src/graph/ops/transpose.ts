import { check, shapeString, type Value } from "../ir.js";
import type { OpDef } from "./op-def.js";

/** Permute axes: out.shape[i] = x.shape[perm[i]]. @example transpose(x, [0, 2, 1]) */
export function transpose(x: Value, perm: readonly number[]): Value {
  return x.graph.apply("Transpose", [x], { perm });
}

export function invertPermutation(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => {
    inv[p] = i;
  });
  return inv;
}

export const transposeDef: OpDef = {
  infer([x], attrs) {
    const perm = attrs.perm as readonly number[];
    const sorted = [...perm].sort((p, q) => p - q);
    check(
      perm.length === x.rank && sorted.every((p, i) => p === i),
      () => `Transpose: perm [${perm}] is not a permutation of the axes of ${shapeString(x.shape)}`,
    );
    return { shape: perm.map((p) => x.shape[p]), dtype: x.dtype };
  },
  onnx(node, w) {
    w.node("Transpose", [w.name(node.inputs[0])], [w.out], { perm: node.attrs.perm });
  },
  vjp(node, g) {
    return [transpose(g, invertPermutation(node.attrs.perm as readonly number[]))];
  },
};
