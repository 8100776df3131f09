import { check, shapeString, type Value } from "../ir.js";

/** A Python-style axis (negative counts from the end) as 0..rank−1; throws naming the op. */
export function normalizeAxis(op: string, x: Value, axis: number): number {
  const a = axis < 0 ? axis + x.rank : axis;
  check(
    Number.isInteger(a) && a >= 0 && a < x.rank,
    () => `${op}: axis ${axis} is out of range for x of shape ${shapeString(x.shape)}`,
  );
  return a;
}
