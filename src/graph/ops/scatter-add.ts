import { check, shapeString, type Value } from "../ir.js";
import { normalizeAxis } from "./axis.js";
import { sameShape } from "./broadcast.js";
import { gather } from "./gather.js";
import type { OpDef } from "./op-def.js";

/**
 * Zeros shaped like `like` with `updates` added at `indices` along `axis`:
 * the transpose of {@link gather} (updates shaped like gather's output).
 *
 * @example scatterAdd(x, idx, g, 0) // the gradient of gather(x, idx, 0)
 */
export function scatterAdd(like: Value, indices: Value, updates: Value, axis: number): Value {
  return like.graph.apply("ScatterAdd", [like, indices, updates], {
    axis: normalizeAxis("ScatterAdd", like, axis),
  });
}

export const scatterAddDef: OpDef = {
  infer([like, indices, updates], attrs) {
    const a = attrs.axis as number;
    const expected = [...like.shape.slice(0, a), ...indices.shape, ...like.shape.slice(a + 1)];
    check(
      indices.dtype === "int64" && updates.dtype === "float32",
      () =>
        `ScatterAdd: expected int64 indices and float32 updates, got ${indices.dtype} and ${updates.dtype}`,
    );
    check(
      sameShape(updates.shape, expected),
      () => `ScatterAdd: updates must have shape ${shapeString(expected)}, got ${shapeString(updates.shape)}`,
    );
    return { shape: like.shape, dtype: "float32" };
  },
  // Flatten the index axes of `updates` into one, broadcast the indices over
  // it, and ScatterElements(reduction "add") into zeros shaped like `like`.
  onnx(node, w) {
    const [like, indices, updates] = node.inputs;
    const a = node.attrs.axis as number;
    const t = () => w.temp();
    const [likeShape, zeros, upShape, pre, post, target, flat] = [t(), t(), t(), t(), t(), t(), t()];
    const [flatShape, idx, idxFull] = [t(), t(), t()];
    w.node("Shape", [w.name(like)], [likeShape]);
    w.node("Expand", [w.float(0), likeShape], [zeros]);
    w.node("Shape", [w.name(updates)], [upShape]);
    w.node("Slice", [upShape, w.ints([0]), w.ints([a])], [pre]);
    w.node("Slice", [upShape, w.ints([a + indices.rank]), w.ints([updates.rank])], [post]);
    w.node("Concat", [pre, w.ints([-1]), post], [target], { axis: 0 });
    w.node("Reshape", [w.name(updates), target], [flat]);
    w.node("Shape", [flat], [flatShape]);
    const idxDims = like.shape.map((_, i) => (i === a ? -1 : 1));
    w.node("Reshape", [w.name(indices), w.ints(idxDims)], [idx]);
    w.node("Expand", [idx, flatShape], [idxFull]);
    w.node("ScatterElements", [zeros, idxFull, flat], [w.out], { axis: a, reduction: "add" });
  },
  vjp(node, g) {
    return [null, null, gather(g, node.inputs[1], node.attrs.axis as number)];
  },
};
