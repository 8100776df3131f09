import { check, type Dim, shapeString, type Value } from "../ir.js";
import { broadcastShapes, unbroadcast } from "./broadcast.js";
import { contractLeading } from "./contract-leading.js";
import type { OpDef } from "./op-def.js";
import { transpose } from "./transpose.js";

/**
 * Batched matrix product a[..., m, k] · b[..., k, n] → [..., m, n]; leading
 * (batch) axes broadcast as in numpy.
 *
 * @example matmul(x, w) // [batch, 25, 128] · [128, 384] → [batch, 25, 384]
 */
export function matmul(a: Value, b: Value): Value {
  return a.graph.apply("MatMul", [a, b]);
}

/** Swap the last two axes. */
export function swapLast(x: Value): Value {
  const perm = x.shape.map((_, i) => i);
  const r = x.rank;
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return transpose(x, perm);
}

export const matmulDef: OpDef = {
  infer([a, b]) {
    check(
      a.rank >= 2 && b.rank >= 2,
      () => `MatMul: inputs need rank >= 2, got ${shapeString(a.shape)} and ${shapeString(b.shape)}`,
    );
    const k1 = a.shape[a.rank - 1];
    const k2 = b.shape[b.rank - 2];
    check(
      k1 === k2,
      () => `MatMul: inner dimensions differ: a ${shapeString(a.shape)} · b ${shapeString(b.shape)}`,
    );
    const batch: Dim[] = broadcastShapes("MatMul", a.shape.slice(0, -2), b.shape.slice(0, -2));
    return { shape: [...batch, a.shape[a.rank - 2], b.shape[b.rank - 1]], dtype: "float32" };
  },
  onnx(node, w) {
    w.node("MatMul", node.inputs.map(w.name), [w.out]);
  },
  // dA = G·Bᵀ, dB = Aᵀ·G, each summed over broadcast batch axes. For a
  // matrix B (x·W with batched x) dB is one GEMM over all rows of x and G.
  vjp(node, g) {
    const [a, b] = node.inputs;
    const db =
      b.rank === 2 && a.rank > 2 ? contractLeading(a, g) : unbroadcast(matmul(swapLast(a), g), b.shape);
    return [unbroadcast(matmul(g, swapLast(b)), a.shape), db];
  },
};
