import { check, shapeString, type Value } from "../ir.js";
import { add } from "../ops/add.js";
import { concat } from "../ops/concat.js";
import { matmul } from "../ops/matmul.js";
import { pad } from "../ops/pad.js";
import { reshape } from "../ops/reshape.js";
import { slice } from "../ops/slice.js";
import { transpose } from "../ops/transpose.js";

/**
 * 1-D convolution over time of x [batch, S, Cin] (time-major) with a PyTorch
 * `Conv1d` weight [Cout, Cin, k], stride 1, zero `padding` on both sides:
 * out [batch, S + 2·padding − k + 1, Cout]. Same numbers as
 * `F.conv1d(x.transpose(1, 2), weight, bias, padding=padding).transpose(1, 2)`.
 *
 * Built as im2col from primitives: the k shifted windows of the padded input
 * joined on the channel axis ([batch, S', k·Cin], tap-major) times the weight
 * laid out as [k·Cin, Cout]; autodiff differentiates the pieces. Measured
 * against Transpose → ONNX Conv → Transpose (the `conv` op, with its own VJP)
 * on the TST embedding stack at batch 256 × S 36 (bench/graph-ops.ts, CPU
 * time, minima): the forward pass costs the same (ratio 1.04–1.06) and
 * forward + weight gradients about 13% less, so im2col it is.
 *
 * @example conv1d(x, w, b, 2) // kernel 5, 'same' length
 */
export function conv1d(x: Value, weight: Value, bias: Value | undefined, padding: number): Value {
  check(x.rank === 3, () => `conv1d: x must be [batch, S, Cin], got ${shapeString(x.shape)}`);
  const [cout, cin, k] = weight.shape;
  check(
    weight.rank === 3 && cin === x.shape[2] && typeof k === "number" && typeof cin === "number",
    () =>
      `conv1d: weight must be [Cout, ${x.shape[2]}, k] for x ${shapeString(x.shape)}, got ${shapeString(weight.shape)}`,
  );
  check(
    bias === undefined || (bias.rank === 1 && bias.shape[0] === cout),
    () => `conv1d: bias must have shape [${cout}], got ${shapeString(bias?.shape ?? [])}`,
  );
  const length = (x.shape[1] as number) + 2 * padding - k + 1;
  check(length >= 1, () => `conv1d: kernel ${k} is longer than the padded input ${shapeString(x.shape)}`);
  const padded = padding > 0 ? pad(x, 1, padding, padding) : x;
  const windows = Array.from({ length: k }, (_, j) => slice(padded, 1, j, j + length));
  const columns = k === 1 ? windows[0] : concat(windows, 2);
  // [Cout, Cin, k] → [k, Cin, Cout] → [k·Cin, Cout], matching the tap-major columns.
  const kernel = reshape(transpose(weight, [2, 1, 0]), [k * cin, cout]);
  const y = matmul(columns, kernel);
  return bias === undefined ? y : add(y, bias);
}
