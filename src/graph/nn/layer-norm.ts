import { check, shapeString, type Value } from "../ir.js";
import { layerNormOp } from "../ops/layer-norm.js";

/**
 * Layer normalisation over the last axis, as `torch.nn.LayerNorm`:
 * (x − mean) / √(biased var + eps) · weight + bias. One fused op (ONNX
 * LayerNormalization) with its own VJP: the composition from primitives
 * (ReduceMean, Sub, Mul, Sqrt, Div…) took 1.7× the CPU time on
 * [256, 36, 128] (bench/graph-ops.ts).
 *
 * @example layerNorm(resid, ln.weight, ln.bias) // weight, bias: [dModel]
 */
export function layerNorm(x: Value, weight: Value, bias: Value, eps = 1e-5): Value {
  const d = x.shape[x.rank - 1];
  for (const [name, p] of [
    ["weight", weight],
    ["bias", bias],
  ] as const) {
    check(
      p.rank === 1 && p.shape[0] === d,
      () =>
        `layerNorm: ${name} must have shape [${d}] (last axis of x ${shapeString(x.shape)}), got ${shapeString(p.shape)}`,
    );
  }
  return layerNormOp(x, weight, bias, eps);
}
