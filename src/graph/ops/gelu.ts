import { check, type Value } from "../ir.js";
import { add } from "./add.js";
import { erf } from "./erf.js";
import { exp } from "./exp.js";
import { mul } from "./mul.js";
import type { OpDef } from "./op-def.js";

/**
 * GELU, the exact form x·Φ(x) = ½·x·(1 + erf(x/√2)) (Hendrycks & Gimpel 2016; PyTorch's default,
 * `approximate="none"`). ONNX has Gelu only from opset 20, above the emitted opset 17, so it is
 * written as Erf and arithmetic, the pattern ONNX Runtime's GeluFusion turns back into one kernel.
 *
 * @example gelu(linear(x, W_in, b_in))
 */
export function gelu(x: Value): Value {
  return x.graph.apply("Gelu", [x]);
}

export const geluDef: OpDef = {
  infer([x]) {
    check(x.dtype === "float32", () => `Gelu: x must be float32, got ${x.dtype}`);
    return { shape: x.shape, dtype: "float32" };
  },
  onnx(node, w) {
    const x = w.name(node.inputs[0]);
    const scaled = w.temp();
    const erfed = w.temp();
    const onePlus = w.temp();
    const half = w.temp();
    w.node("Div", [x, w.float(Math.SQRT2)], [scaled]);
    w.node("Erf", [scaled], [erfed]);
    w.node("Add", [erfed, w.float(1)], [onePlus]);
    w.node("Mul", [x, onePlus], [half]);
    w.node("Mul", [half, w.float(0.5)], [w.out]);
  },
  // d/dx x·Φ(x) = Φ(x) + x·φ(x), φ(x) = e^{−x²/2}/√(2π).
  vjp(node, g) {
    const x = node.inputs[0];
    const s = (v: number) => x.graph.scalar(v);
    const cdf = mul(add(erf(mul(x, s(Math.SQRT1_2))), s(1)), s(0.5));
    const pdf = mul(exp(mul(mul(x, x), s(-0.5))), s(1 / Math.sqrt(2 * Math.PI)));
    return [mul(g, add(cdf, mul(x, pdf)))];
  },
};
