import type { Value } from "../ir.js";
import { add } from "../ops/add.js";
import { matmul } from "../ops/matmul.js";
import { transpose } from "../ops/transpose.js";

/**
 * x · Wᵀ + b with W in PyTorch layout [out, in] (as `torch.nn.functional.linear`).
 *
 * @example linear(x, W, b) // [batch, S, 128] · [256, 128]ᵀ + [256] → [batch, S, 256]
 */
export function linear(x: Value, weight: Value, bias?: Value): Value {
  const y = matmul(x, transpose(weight, [1, 0]));
  return bias === undefined ? y : add(y, bias);
}
