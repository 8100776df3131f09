import { check, type Value } from "../ir.js";
import { where } from "../ops/where.js";

/**
 * `value` where `mask` is true, x elsewhere (as `Tensor.masked_fill`); the
 * gradient flows only to the entries kept from x.
 *
 * @example maskedFill(scores, not(keyValid), -Infinity)
 */
export function maskedFill(x: Value, mask: Value, value: number): Value {
  check(mask.dtype === "bool", () => `maskedFill: mask must be bool, got ${mask.dtype}`);
  return where(mask, x.graph.scalar(value), x);
}
