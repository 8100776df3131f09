import type { Graph, Node, Value } from "./ir.js";
import type { OnnxNodeWriter } from "./ops/op-def.js";

/**
 * Peephole fusions applied when a graph is written as ONNX: a few IR node
 * patterns become one faster ONNX node (or a short chain) with the same
 * result up to float32 rounding. The IR stays as built (autodiff, the float64
 * interpreter and the shape checks never see these); only the emitted model
 * changes. A pattern is fused only when its intermediate values are used by
 * nothing else (no other node, not a requested output), so caching a hook
 * keeps the plain form for that part of the graph.
 *
 * - Linear: `[Relu(]Add(MatMul(x, Transpose(W, [1, 0]) | B), b)[)]` with a 2-D weight
 *   and a 1-D bias → `Reshape → Gemm(transB, C = b) [→ Relu] → Reshape`. ONNX Runtime
 *   fuses MatMul+Add into Gemm only for rank-2 inputs, so for [batch, S, in] inputs
 *   the bias was a separate pass over the output; on the rank-2 Gemm it also fuses
 *   the Relu (FusedGemm).
 * - Broadcast add: `Add(a, Expand(t, like))` whose result has a's shape → `Add(a, t)`
 *   (numpy broadcasting), without materialising the expanded tensor.
 * - Softmax of scores (a MatMul, or a MatMul masked with -inf): without the guard pass
 *   of the Softmax op, see {@link softmaxFusion}.
 * - An add of two graph inputs of one rank-3 shape → `Sum`: the same float sum, which keeps ONNX
 *   Runtime from fusing it with a following LayerNormalization, see {@link inputSumFusion}.
 * - Attention (only with `contrib`): per-head scaled dot-product attention
 *   `Transpose(MatMul(Softmax([Where(keyMask,] MatMul(Transpose(Mul(q, c)), Transpose(k))
 *   [, -inf)]), Transpose(v)))` → `com.microsoft.MultiHeadAttention`, one kernel
 *   that ONNX Runtime runs per (batch row, head) instead of three batched ops of
 *   tiny matrices, four transposes and a separate softmax. Measured faster only for
 *   very short sequences (see RuntimeOptions.contribOps), so the runtime leaves it off.
 */

/** How a fused pattern is written: the values it reads, and the nodes that compute the root's output. */
export interface Fusion {
  readonly inputs: readonly Value[];
  emit(w: FusionWriter): void;
}

/** The node writer plus nodes of another operator domain (contrib ops). */
export interface FusionWriter extends OnnxNodeWriter {
  domainNode(
    domain: string,
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attrs: { ints?: Record<string, number>; floats?: Record<string, number> },
  ): void;
}

export interface FusionOptions {
  /** Allow ONNX Runtime contrib ops (domain com.microsoft); off for portable exports. */
  contrib?: boolean;
}

/**
 * The lowest finite float32, as ops/softmax.ts. Not imported from there: ir.ts and the op files
 * import each other (ir.ts → ops/registry.ts → every op → ir.ts), and ESM only resolves that
 * cycle when it is entered at ir.ts. onnx.ts imports this file first, so an import of
 * ops/softmax.ts here would enter the cycle at an op, and ops/registry.ts would read `softmaxDef`
 * before softmax.ts has run (ReferenceError: Cannot access 'softmaxDef' before initialization,
 * reproduced by importing onnx.ts alone).
 */
const LOWEST_FLOAT32 = -3.4028234663852886e38;

/** The domain of ONNX Runtime's contrib ops. */
export const MS_DOMAIN = "com.microsoft";

/**
 * Plan the fusions of the nodes that the outputs need.
 * `outputs`: ids of the values fetched as graph outputs.
 */
export function planFusions(
  graph: Graph,
  needed: ReadonlySet<number>,
  outputs: ReadonlySet<number>,
  options: FusionOptions = {},
): Map<number, Fusion> {
  const uses = new Map<number, number>();
  for (const node of graph.nodes) {
    if (!needed.has(node.output.id)) continue;
    for (const v of node.inputs) uses.set(v.id, (uses.get(v.id) ?? 0) + 1);
  }
  // A value that only `count` of the fused nodes read and no output fetches.
  const privateTo = (v: Value, count = 1) =>
    v.kind === "node" && !outputs.has(v.id) && (uses.get(v.id) ?? 0) === count;
  const constants = new Map(graph.constants.map((c) => [c.value.id, c.data]));
  const scalarOf = (v: Value): number | undefined => {
    const data = constants.get(v.id);
    return data instanceof Float32Array && data.length === 1 ? data[0] : undefined;
  };

  const fusions = new Map<number, Fusion>();
  for (const node of graph.nodes) {
    if (!needed.has(node.output.id)) continue;
    const fusion =
      linearFusion(node, privateTo) ??
      broadcastAddFusion(node, privateTo) ??
      softmaxFusion(node, privateTo, scalarOf) ??
      inputSumFusion(node) ??
      (options.contrib ? attentionFusion(node, privateTo, scalarOf) : undefined);
    if (fusion !== undefined) fusions.set(node.id, fusion);
  }
  return fusions;
}

type Private = (v: Value, count?: number) => boolean;

function producedBy(v: Value, op: string): Node | undefined {
  return v.producer !== null && v.producer.op === op ? v.producer : undefined;
}

function samePerm(perm: unknown, expected: readonly number[]): boolean {
  return Array.isArray(perm) && perm.length === expected.length && perm.every((p, i) => p === expected[i]);
}

function linearFusion(node: Node, privateTo: Private): Fusion | undefined {
  // Relu(linear) keeps the Relu on the rank-2 Gemm output, where ONNX Runtime fuses the two.
  const relu = node.op === "Relu";
  const add = relu ? producedBy(node.inputs[0], "Add") : node.op === "Add" ? node : undefined;
  if (add === undefined || (relu && !privateTo(node.inputs[0]))) return undefined;
  for (const [mi, bi] of [
    [0, 1],
    [1, 0],
  ]) {
    const m = add.inputs[mi];
    const bias = add.inputs[bi];
    const matmul = producedBy(m, "MatMul");
    if (matmul === undefined || !privateTo(m)) continue;
    const [x, right] = matmul.inputs;
    const n = m.shape[m.rank - 1];
    const k = x.shape[x.rank - 1];
    if (right.rank !== 2 || x.rank < 2 || typeof n !== "number" || typeof k !== "number") continue;
    if (bias.rank !== 1 || bias.shape[0] !== n || bias.dtype !== "float32") continue;
    const leading = x.shape.slice(0, -1);
    if (leading.filter((d) => typeof d === "string").length > 1) continue;
    const transposed = producedBy(right, "Transpose");
    const weight =
      transposed !== undefined && samePerm(transposed.attrs.perm, [1, 0]) ? transposed.inputs[0] : right;
    const transB = weight === right ? 0 : 1;
    return {
      inputs: [x, weight, bias],
      emit(w) {
        let rows = w.name(x);
        if (x.rank > 2) {
          rows = w.temp();
          w.node("Reshape", [w.name(x), w.ints([-1, k])], [rows]);
        }
        const last = x.rank === 2;
        const product = last && !relu ? w.out : w.temp();
        w.node("Gemm", [rows, w.name(weight), w.name(bias)], [product], { transB });
        let result = product;
        if (relu) {
          result = last ? w.out : w.temp();
          w.node("Relu", [product], [result]);
        }
        if (!last) {
          const dims = leading.map((d) => (typeof d === "number" ? d : -1));
          w.node("Reshape", [result, w.ints([...dims, n])], [w.out]);
        }
      },
    };
  }
  return undefined;
}

function broadcastAddFusion(node: Node, privateTo: Private): Fusion | undefined {
  if (node.op !== "Add") return undefined;
  for (const [ei, ai] of [
    [1, 0],
    [0, 1],
  ]) {
    const expanded = node.inputs[ei];
    const other = node.inputs[ai];
    const expand = producedBy(expanded, "Expand");
    if (expand === undefined || !privateTo(expanded)) continue;
    const table = expand.inputs[0];
    // The plain broadcast must give the same shape: other already has the full shape
    // and the table's axes align with its trailing axes.
    if (other.rank !== node.output.rank || !other.shape.every((d, i) => d === node.output.shape[i])) continue;
    if (table.rank > other.rank) continue;
    const offset = other.rank - table.rank;
    if (!table.shape.every((d, i) => d === 1 || d === other.shape[offset + i])) continue;
    const inputs = ei === 1 ? [other, table] : [table, other];
    return {
      inputs,
      emit(w) {
        w.node("Add", inputs.map(w.name), [w.out]);
      },
    };
  }
  return undefined;
}

/**
 * The Softmax op raises -inf to the lowest float32 first (one Max pass, see ops/softmax.ts), so a
 * slice that is entirely -inf gives the uniform distribution. Scores that come straight from a
 * MatMul are finite (barring overflow), and masked scores `Where(mask, s, -inf)` can be filled with
 * the lowest float32 directly: the same probabilities, bit for bit, without the extra pass.
 */
function softmaxFusion(
  node: Node,
  privateTo: Private,
  scalarOf: (v: Value) => number | undefined,
): Fusion | undefined {
  if (node.op !== "Softmax") return undefined;
  const x = node.inputs[0];
  const axis = node.attrs.axis as number;
  if (producedBy(x, "MatMul") !== undefined) {
    return {
      inputs: [x],
      emit(w) {
        w.node("Softmax", [w.name(x)], [w.out], { axis });
      },
    };
  }
  const where = producedBy(x, "Where");
  if (where === undefined || !privateTo(x) || scalarOf(where.inputs[2]) !== Number.NEGATIVE_INFINITY) {
    return undefined;
  }
  const [cond, kept] = where.inputs;
  if (producedBy(kept, "MatMul") === undefined) return undefined;
  return {
    inputs: [cond, kept],
    emit(w) {
      const filled = w.temp();
      w.node("Where", [w.name(cond), w.name(kept), w.float(LOWEST_FLOAT32)], [filled]);
      w.node("Softmax", [filled], [w.out], { axis });
    },
  };
}

/**
 * z[b, s, h, :] = Σ_t softmax_t(c · q[b, s, h, :] · k[b, t, h, :] (masked)) v[b, t, h, :],
 * as tst-graph.ts builds it, in ONNX Runtime's MultiHeadAttention (inputs [B, S, H·dh]).
 */
function attentionFusion(
  node: Node,
  privateTo: Private,
  scalarOf: (v: Value) => number | undefined,
): Fusion | undefined {
  // z = Transpose(zHeads, [0, 2, 1, 3])
  if (node.op !== "Transpose" || !samePerm(node.attrs.perm, [0, 2, 1, 3])) return undefined;
  const zHeads = node.inputs[0];
  const pv = producedBy(zHeads, "MatMul");
  if (pv === undefined || !privateTo(zHeads)) return undefined;
  const [pattern, vt] = pv.inputs;
  const vTranspose = producedBy(vt, "Transpose");
  const softmax = producedBy(pattern, "Softmax");
  if (vTranspose === undefined || !samePerm(vTranspose.attrs.perm, [0, 2, 1, 3])) return undefined;
  if (softmax === undefined || softmax.attrs.axis !== 3 || !privateTo(pattern)) return undefined;
  let scores = softmax.inputs[0];
  let keyMask: Value | undefined;
  const where = producedBy(scores, "Where");
  if (where !== undefined) {
    const [cond, kept, filler] = where.inputs;
    const fill = scalarOf(filler);
    if (!privateTo(scores) || fill !== Number.NEGATIVE_INFINITY) return undefined;
    // The key mask must be [batch, 1, 1, S]: one row of keys per batch row.
    if (cond.rank !== 4 || cond.shape[1] !== 1 || cond.shape[2] !== 1) return undefined;
    keyMask = cond;
    scores = kept;
  }
  const qk = producedBy(scores, "MatMul");
  if (qk === undefined || !privateTo(scores)) return undefined;
  const [qt, kt] = qk.inputs;
  const qTranspose = producedBy(qt, "Transpose");
  const kTranspose = producedBy(kt, "Transpose");
  if (qTranspose === undefined || !samePerm(qTranspose.attrs.perm, [0, 2, 1, 3])) return undefined;
  if (kTranspose === undefined || !samePerm(kTranspose.attrs.perm, [0, 2, 3, 1])) return undefined;
  const scaled = qTranspose.inputs[0];
  const mul = producedBy(scaled, "Mul");
  if (mul === undefined) return undefined;
  const [q, c] = mul.inputs;
  const scale = scalarOf(c);
  const k = kTranspose.inputs[0];
  const v = vTranspose.inputs[0];
  if (scale === undefined || q.rank !== 4 || k.rank !== 4 || v.rank !== 4) return undefined;
  const [, S, H, dh] = q.shape;
  const same = (a: Value) => a.shape.every((d, i) => d === q.shape[i]);
  if (typeof H !== "number" || typeof dh !== "number" || !same(k) || !same(v)) return undefined;
  if (keyMask !== undefined && keyMask.shape[3] !== S) return undefined;
  const inputs = keyMask === undefined ? [q, k, v] : [q, k, v, keyMask];
  return {
    inputs,
    emit(w) {
      const flat = (x: Value) => {
        const t = w.temp();
        w.node("Reshape", [w.name(x), w.ints([0, 0, H * dh])], [t]);
        return t;
      };
      const names = [flat(q), flat(k), flat(v), ""];
      if (keyMask !== undefined) {
        const rows = w.temp();
        const int32 = w.temp();
        w.node("Reshape", [w.name(keyMask), w.ints([0, -1])], [rows]);
        w.node("Cast", [rows], [int32], { to: 6 });
        names.push(int32);
      }
      const out = w.temp();
      // Masked keys get the lowest float32 added instead of -inf: probability exactly 0
      // as before, and a row with every key masked stays uniform (see ops/softmax.ts).
      w.domainNode(MS_DOMAIN, "MultiHeadAttention", names, [out], {
        ints: { num_heads: H },
        floats: { scale, mask_filter_value: LOWEST_FLOAT32 },
      });
      w.node("Reshape", [out, w.ints([0, 0, H, dh])], [w.out]);
    },
  };
}

/**
 * A run started at a sub-layer output adds two fed values, `resid + attn_out` (or `resid_mid +
 * mlp_out`), and ONNX Runtime fuses an Add whose inputs have one known rank-3 shape with the
 * post-norm LayerNormalization after it into `com.microsoft.SkipLayerNormalization`: other
 * rounding than the layer computed whole (LSST effects moved by up to 2e-5) and, measured on one
 * thread, a slower kernel. `Sum` of the two is the same IEEE addition, and the fusion matches
 * only `Add`.
 */
function inputSumFusion(node: Node): Fusion | undefined {
  if (node.op !== "Add") return undefined;
  const [a, b] = node.inputs;
  if (a.kind !== "input" || b.kind !== "input" || a.rank !== 3) return undefined;
  if (!a.shape.every((d, i) => d === b.shape[i]) || b.rank !== 3) return undefined;
  return {
    inputs: [a, b],
    emit(w) {
      w.node("Sum", [w.name(a), w.name(b)], [w.out]);
    },
  };
}
