import { check, shapeString, type Value } from "../ir.js";
import { concat } from "./concat.js";
import { contractLeading } from "./contract-leading.js";
import { gather } from "./gather.js";
import type { OpDef } from "./op-def.js";
import { pad } from "./pad.js";
import { reduceSum } from "./reduce-sum.js";
import { reshape } from "./reshape.js";
import { slice } from "./slice.js";
import { transpose } from "./transpose.js";

/**
 * 1-D convolution in ONNX/PyTorch channel-major layout: x [N, C, L],
 * weight [M, C, k], optional bias [M], stride 1, `padding` zeros on both
 * sides → [N, M, L + 2·padding − k + 1]. (Cross-correlation, as Conv1d.)
 * For time-major activations use `conv1d` in nn/.
 *
 * @example conv(xChannelsFirst, w, b, 1) // [batch, 32, 36] * [64, 32, 3] → [batch, 64, 36]
 */
export function conv(x: Value, weight: Value, bias: Value | undefined, padding: number): Value {
  check(
    Number.isInteger(padding) && padding >= 0,
    () => `Conv: padding must be an integer >= 0, got ${padding}`,
  );
  const inputs = bias === undefined ? [x, weight] : [x, weight, bias];
  return x.graph.apply("Conv", inputs, { padding });
}

export const convDef: OpDef = {
  infer([x, w, b], attrs) {
    const p = attrs.padding as number;
    check(
      x.rank === 3 && w.rank === 3 && x.dtype === "float32" && w.dtype === "float32",
      () =>
        `Conv: x and weight must be float32 [N, C, L] and [M, C, k], got ${shapeString(x.shape)} and ${shapeString(w.shape)}`,
    );
    const [n, c, length] = x.shape;
    const [m, cw, k] = w.shape;
    check(
      typeof c === "number",
      () => `Conv: the channels of x ${shapeString(x.shape)} must have a known size`,
    );
    check(
      cw === c,
      () => `Conv: weight ${shapeString(w.shape)} must have ${c} input channels (x ${shapeString(x.shape)})`,
    );
    check(
      typeof length === "number" && typeof k === "number" && length + 2 * p - k + 1 >= 1,
      () =>
        `Conv: kernel of weight ${shapeString(w.shape)} must be known and fit x ${shapeString(x.shape)} padded by ${p}`,
    );
    check(
      b === undefined || (b.rank === 1 && b.shape[0] === m),
      () => `Conv: bias must have shape [${m}], got ${shapeString(b?.shape ?? [])}`,
    );
    return { shape: [n, m, length + 2 * p - k + 1], dtype: "float32" };
  },
  onnx(node, w) {
    const p = node.attrs.padding as number;
    w.node("Conv", node.inputs.map(w.name), [w.out], { pads: [p, p] });
  },
  // dx: correlate g with the weight flipped in time and transposed in
  // channels (a full convolution: padding k−1−p, cropped if negative).
  // dW[m, c, j] = Σ_{n,t} g[n, m, t] · xpad[n, c, t + j]: the k shifted
  // windows of padded x (im2col, time-major, tap-major columns) contracted
  // with g over batch and time in one GEMM.
  vjp(node, g) {
    const [x, w, b] = node.inputs;
    const p = node.attrs.padding as number;
    const k = w.shape[2] as number;
    const length = x.shape[2] as number;
    const reversed = x.graph.constant(
      BigInt64Array.from({ length: k }, (_, j) => BigInt(k - 1 - j)),
      [k],
    );
    const flipped = transpose(gather(w, reversed, 2), [1, 0, 2]);
    const q = k - 1 - p;
    const dx =
      q >= 0 ? conv(g, flipped, undefined, q) : slice(conv(g, flipped, undefined, 0), 2, -q, -q + length);
    const c = x.shape[1] as number;
    const outLength = g.shape[2] as number;
    const padded = pad(transpose(x, [0, 2, 1]), 1, p, p);
    const windows = Array.from({ length: k }, (_, j) => slice(padded, 1, j, j + outLength));
    const columns = k === 1 ? windows[0] : concat(windows, 2);
    const dwFlat = contractLeading(columns, transpose(g, [0, 2, 1])); // [k·C, M]
    const dw = transpose(reshape(dwFlat, [k, c, w.shape[0]]), [2, 1, 0]);
    return b === undefined ? [dx, dw] : [dx, dw, reduceSum(g, [0, 2])];
  },
};
