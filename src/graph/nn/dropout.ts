import { check, shapeString, type Value } from "../ir.js";
import { cast } from "../ops/cast.js";
import { mul } from "../ops/mul.js";

/**
 * Inverted dropout with a fed keep-mask (so a seed fixes it): x · mask / (1 − p),
 * as `torch.nn.Dropout` in train mode. `mask` is bool or 0/1 float32 and
 * broadcasts against x.
 *
 * @example dropout(h, g.input("dropout:h", ["batch", 36, 128], "bool"), 0.1)
 */
export function dropout(x: Value, mask: Value, p: number): Value {
  check(p >= 0 && p < 1, () => `dropout: p must be in [0, 1), got ${p}`);
  check(
    mask.dtype !== "int64",
    () => `dropout: mask must be bool or float32, got int64 ${shapeString(mask.shape)}`,
  );
  const kept = mul(x, cast(mask, "float32"));
  return p === 0 ? kept : mul(kept, 1 / (1 - p));
}
