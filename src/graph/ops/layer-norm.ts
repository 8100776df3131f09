import { check, shapeString, type Value } from "../ir.js";
import { add } from "./add.js";
import { unbroadcast } from "./broadcast.js";
import { div } from "./div.js";
import { mul } from "./mul.js";
import type { OpDef } from "./op-def.js";
import { reduceMean } from "./reduce-mean.js";
import { sqrt } from "./sqrt.js";
import { sub } from "./sub.js";

/**
 * Layer normalisation over the last axis as one op (ONNX LayerNormalization,
 * opset 17): (x − mean) / √(biased var + eps) · weight + bias, as
 * `torch.nn.LayerNorm`. Use `layerNorm` from nn/, which checks the shapes.
 *
 * @example layerNormOp(x, w, b, 1e-5)
 */
export function layerNormOp(x: Value, weight: Value, bias: Value, eps: number): Value {
  return x.graph.apply("LayerNorm", [x, weight, bias], { epsilon: eps });
}

/** x̂ = (x − mean) / √(var + eps) over the last axis, and 1 / √(var + eps). */
function normalise(x: Value, eps: number): { xhat: Value; rstd: Value } {
  const centred = sub(x, reduceMean(x, [-1], true));
  const rstd = div(x.graph.scalar(1), sqrt(add(reduceMean(mul(centred, centred), [-1], true), eps)));
  return { xhat: mul(centred, rstd), rstd };
}

export const layerNormDef: OpDef = {
  infer([x, w, b], attrs) {
    const d = x.shape[x.rank - 1];
    check(
      x.dtype === "float32" && w.rank === 1 && b.rank === 1 && w.shape[0] === d && b.shape[0] === d,
      () =>
        `LayerNorm: weight and bias must be [${d}] for x ${shapeString(x.shape)}, got ${shapeString(w.shape)} and ${shapeString(b.shape)}`,
    );
    const eps = attrs.epsilon as number;
    // Written as a FLOAT attribute only when not a whole number (see onnx.ts).
    check(eps > 0 && eps < 1, () => `LayerNorm: eps must be in (0, 1), got ${eps}`);
    return { shape: x.shape, dtype: "float32" };
  },
  onnx(node, w) {
    w.node("LayerNormalization", node.inputs.map(w.name), [w.out], {
      axis: -1,
      epsilon: node.attrs.epsilon as number,
    });
  },
  // With ĝ = g·w: dx = rstd · (ĝ − mean ĝ − x̂ · mean(ĝ ⊙ x̂)), dw = Σ g ⊙ x̂, db = Σ g
  // (sums over all but the last axis), recomputing x̂ from x.
  vjp(node, g) {
    const [x, w, b] = node.inputs;
    const { xhat, rstd } = normalise(x, node.attrs.epsilon as number);
    const gh = mul(g, w);
    const inner = sub(sub(gh, reduceMean(gh, [-1], true)), mul(xhat, reduceMean(mul(gh, xhat), [-1], true)));
    return [mul(rstd, inner), unbroadcast(mul(g, xhat), w.shape), unbroadcast(g, b.shape)];
  },
};
