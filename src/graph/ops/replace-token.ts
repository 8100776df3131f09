import { check, shapeString, type Value } from "../ir.js";
import { equal } from "./equal.js";
import type { OpDef } from "./op-def.js";
import { reduceSum } from "./reduce-sum.js";
import { reshape } from "./reshape.js";
import { where } from "./where.js";

/**
 * `x` [N, T, …] with token `index[n]` of row n replaced by `token[n]` ([N, 1, …]); numpy's
 * `put_along_axis(x, index[:, None, …], token, axis=1)` without the in-place write. A one-token
 * start merges its recomputed token into the cached layer output this way: ONNX Runtime's
 * ScatterND copies `x` and writes N slices, 0.93 ms at N = 128, T = 36, D = 128 on one thread
 * (a plain copy of x: 0.94 ms), where `Where(step, token, x)` broadcast over it took 1.6 ms.
 *
 * @example replaceToken(residPost, step, recomputed) // [B, T, D], [B] int64, [B, 1, D]
 */
export function replaceToken(x: Value, index: Value, token: Value): Value {
  return x.graph.apply("ReplaceToken", [x, index, token]);
}

export const replaceTokenDef: OpDef = {
  infer([x, index, token]) {
    check(
      x.rank >= 2 && index.dtype === "int64" && index.rank === 1 && index.shape[0] === x.shape[0],
      () =>
        `ReplaceToken: expected x [N, T, …] and int64 index [N], got ${x.dtype} x ${shapeString(x.shape)} and ${index.dtype} index ${shapeString(index.shape)}`,
    );
    const expected = [x.shape[0], 1, ...x.shape.slice(2)];
    check(
      token.dtype === x.dtype && token.rank === x.rank && token.shape.every((d, i) => d === expected[i]),
      () =>
        `ReplaceToken: token must be ${x.dtype} ${shapeString(expected)}, got ${token.dtype} ${shapeString(token.shape)}`,
    );
    return { shape: x.shape, dtype: x.dtype };
  },
  // ScatterND at the (row, index) pairs: ONNX Runtime's ScatterElements, which would need no row
  // numbers, took as long as the Where (1.5 ms at the shape above).
  onnx(node, w) {
    const [x, index, token] = node.inputs;
    const t = () => w.temp();
    const [count, n, zero, one, rows, rowColumn, indexColumn, pairs, updates] = [
      t(),
      t(),
      t(),
      t(),
      t(),
      t(),
      t(),
      t(),
      t(),
    ];
    w.node("Shape", [w.name(index)], [count]);
    w.node("Squeeze", [count, w.ints([0])], [n]);
    w.node("Squeeze", [w.ints([0]), w.ints([0])], [zero]);
    w.node("Squeeze", [w.ints([1]), w.ints([0])], [one]);
    w.node("Range", [zero, n, one], [rows]);
    w.node("Unsqueeze", [rows, w.ints([1])], [rowColumn]);
    w.node("Unsqueeze", [w.name(index), w.ints([1])], [indexColumn]);
    w.node("Concat", [rowColumn, indexColumn], [pairs], { axis: 1 });
    w.node("Squeeze", [w.name(token), w.ints([1])], [updates]);
    w.node("ScatterND", [w.name(x), pairs, updates], [w.out]);
  },
  // x's gradient is g off the replaced tokens; the token's is g at them.
  vjp(node, g) {
    const [x, index] = node.inputs;
    const T = x.shape[1];
    check(
      typeof T === "number",
      () => `ReplaceToken: no gradient with a symbolic token axis (x ${shapeString(x.shape)})`,
    );
    const positions = g.graph.constant(
      BigInt64Array.from({ length: T }, (_, t) => BigInt(t)),
      [1, T],
    );
    const hit = reshape(equal(reshape(index, [x.shape[0], 1]), positions), [
      x.shape[0],
      T,
      ...new Array(x.rank - 2).fill(1),
    ]);
    const zero = g.graph.scalar(0);
    return [where(hit, zero, g), null, reduceSum(where(hit, g, zero), [1], true)];
  },
};
