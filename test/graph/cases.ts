/**
 * Op cases for the forward and gradient checks: each op with broadcasting in
 * both operands where it applies, and a symbolic "batch" dimension.
 */
import type { Graph } from "../../src/graph/ir.js";
import {
  add,
  cast,
  concat,
  contractLeading,
  conv,
  conv1d,
  crossEntropy,
  div,
  dropout,
  equal,
  erf,
  exp,
  expandAs,
  gather,
  gelu,
  greater,
  layerNorm,
  linear,
  log,
  logSoftmax,
  maskedFill,
  matmul,
  maximum,
  mul,
  not,
  pad,
  reduceMax,
  reduceMean,
  reduceSum,
  relu,
  replaceToken,
  reshape,
  slice,
  softmax,
  sqrt,
  sub,
  transpose,
  where,
} from "../../src/graph/ops/index.js";
import type { OpCase } from "./op-check.js";

const B = "batch";
const input = (g: Graph, name: string, shape: (number | string)[]) => g.input(name, shape);

/** Key mask [batch=3, 4]: row 0 all valid, row 1 two valid, row 2 fully masked. */
const KEY_MASK = [1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0];

export const differentiableCases: OpCase[] = [
  {
    name: "add, both operands broadcast",
    build: (g) => {
      const a = input(g, "a", [B, 1, 3]);
      const b = input(g, "b", [2, 1]);
      return { out: add(a, b), wrt: [a, b] };
    },
  },
  {
    name: "sub, rank-1 minus batch",
    build: (g) => {
      const a = input(g, "a", [3]);
      const b = input(g, "b", [B, 3]);
      return { out: sub(a, b), wrt: [a, b] };
    },
  },
  {
    name: "mul, both operands broadcast",
    build: (g) => {
      const a = input(g, "a", [B, 1, 4]);
      const b = input(g, "b", [3, 1]);
      return { out: mul(a, b), wrt: [a, b] };
    },
  },
  {
    name: "div, divisor broadcast",
    range: [0.5, 1.5],
    build: (g) => {
      const a = input(g, "a", [B, 3]);
      const b = input(g, "b", [3]);
      return { out: div(a, b), wrt: [a, b] };
    },
  },
  {
    name: "matmul, batch × matrix",
    build: (g) => {
      const a = input(g, "a", [B, 3, 4]);
      const b = input(g, "b", [4, 2]);
      return { out: matmul(a, b), wrt: [a, b] };
    },
  },
  {
    name: "matmul, broadcast batch axes on both sides",
    build: (g) => {
      const a = input(g, "a", [2, 1, 3, 4]);
      const b = input(g, "b", [3, 4, 2]);
      return { out: matmul(a, b), wrt: [a, b] };
    },
  },
  {
    name: "contractLeading over batch and two more axes",
    build: (g) => {
      const a = input(g, "a", [B, 2, 3, 4]);
      const b = input(g, "b", [B, 2, 3, 5]);
      return { out: contractLeading(a, b), wrt: [a, b] };
    },
  },
  {
    name: "transpose",
    build: (g) => {
      const x = input(g, "x", [B, 2, 3]);
      return { out: transpose(x, [2, 0, 1]), wrt: [x] };
    },
  },
  {
    name: "reshape keeping the batch",
    build: (g) => {
      const x = input(g, "x", [B, 2, 3]);
      return { out: reshape(reshape(x, [B, 6]), [B, 3, 2]), wrt: [x] };
    },
  },
  {
    name: "reduceSum over batch and last axis",
    build: (g) => {
      const x = input(g, "x", [B, 3, 4]);
      return { out: reduceSum(x, [0, 2]), wrt: [x] };
    },
  },
  {
    name: "expandAs to a symbolic batch",
    build: (g) => {
      const x = input(g, "x", [1, 3]);
      const like = input(g, "like", [B, 3]);
      return { out: expandAs(x, like), wrt: [x] };
    },
  },
  {
    name: "relu",
    build: (g) => {
      const x = input(g, "x", [B, 5]);
      return { out: relu(x), wrt: [x] };
    },
  },
  {
    name: "gelu, exact erf form, both signs",
    range: [-3, 3],
    build: (g) => {
      const x = input(g, "x", [B, 5]);
      return { out: gelu(x), wrt: [x] };
    },
  },
  {
    name: "erf",
    range: [-2, 2],
    build: (g) => {
      const x = input(g, "x", [B, 4]);
      return { out: erf(x), wrt: [x] };
    },
  },
  {
    name: "where, all three broadcast",
    feeds: { cond: [1, 0, 1, 0, 0, 1, 1, 1, 0] },
    build: (g) => {
      const cond = g.input("cond", [B, 3], "bool");
      const a = input(g, "a", [3]);
      const b = input(g, "b", [B, 1]);
      return { out: where(cond, a, b), wrt: [a, b] };
    },
  },
  {
    name: "reduceMean over the middle axis, kept",
    build: (g) => {
      const x = input(g, "x", [B, 3, 4]);
      return { out: reduceMean(x, [1], true), wrt: [x] };
    },
  },
  {
    name: "reduceMean over the symbolic batch",
    build: (g) => {
      const x = input(g, "x", [B, 3]);
      return { out: reduceMean(x, [0]), wrt: [x] };
    },
  },
  {
    name: "reduceMean over all axes",
    build: (g) => {
      const x = input(g, "x", [B, 2, 2]);
      return { out: reduceMean(x, [0, 1, 2]), wrt: [x] };
    },
  },
  {
    name: "reduceMax over time",
    build: (g) => {
      const x = input(g, "x", [B, 4, 3]);
      return { out: reduceMax(x, [1]), wrt: [x] };
    },
  },
  {
    name: "reduceMax over two axes, kept",
    build: (g) => {
      const x = input(g, "x", [B, 2, 3]);
      return { out: reduceMax(x, [0, 2], true), wrt: [x] };
    },
  },
  {
    name: "softmax, last axis",
    range: [-3, 3],
    build: (g) => {
      const x = input(g, "x", [B, 2, 4]);
      return { out: softmax(x, -1), wrt: [x] };
    },
  },
  {
    name: "softmax over the symbolic batch axis",
    build: (g) => {
      const x = input(g, "x", [B, 3]);
      return { out: softmax(x, 0), wrt: [x] };
    },
  },
  {
    name: "softmax of large logits (overflow without the max shift)",
    range: [500, 520],
    build: (g) => {
      const x = input(g, "x", [B, 4]);
      return { out: softmax(x, 1), wrt: [x] };
    },
  },
  {
    name: "masked softmax: a full, a partial and a fully masked row",
    feeds: { keyValid: KEY_MASK },
    build: (g) => {
      const s = input(g, "s", [B, 4]);
      const valid = g.input("keyValid", [B, 4], "bool");
      return { out: softmax(maskedFill(s, not(valid), Number.NEGATIVE_INFINITY), -1), wrt: [s] };
    },
  },
  {
    name: "logSoftmax, last axis",
    range: [-3, 3],
    build: (g) => {
      const x = input(g, "x", [B, 5]);
      return { out: logSoftmax(x, -1), wrt: [x] };
    },
  },
  {
    name: "logSoftmax over a middle axis",
    build: (g) => {
      const x = input(g, "x", [B, 3, 2]);
      return { out: logSoftmax(x, 1), wrt: [x] };
    },
  },
  {
    name: "sqrt",
    range: [0.2, 2],
    build: (g) => {
      const x = input(g, "x", [B, 4]);
      return { out: sqrt(x), wrt: [x] };
    },
  },
  {
    name: "exp",
    build: (g) => {
      const x = input(g, "x", [B, 4]);
      return { out: exp(x), wrt: [x] };
    },
  },
  {
    name: "log",
    range: [0.2, 2],
    build: (g) => {
      const x = input(g, "x", [B, 4]);
      return { out: log(x), wrt: [x] };
    },
  },
  {
    name: "maximum, both operands broadcast",
    build: (g) => {
      const a = input(g, "a", [B, 1, 3]);
      const b = input(g, "b", [2, 1]);
      return { out: maximum(a, b), wrt: [a, b] };
    },
  },
  {
    name: "slice with negative bounds",
    build: (g) => {
      const x = input(g, "x", [B, 5, 3]);
      return { out: slice(x, 1, -4, -1), wrt: [x] };
    },
  },
  {
    name: "slice on the last axis",
    build: (g) => {
      const x = input(g, "x", [B, 2, 4]);
      return { out: slice(x, -1, 1, 3), wrt: [x] };
    },
  },
  {
    name: "concat of three along time",
    build: (g) => {
      const a = input(g, "a", [B, 2, 3]);
      const b = input(g, "b", [B, 1, 3]);
      const c = input(g, "c", [B, 3, 3]);
      return { out: concat([a, b, c], 1), wrt: [a, b, c] };
    },
  },
  {
    name: "pad before and after with a value",
    build: (g) => {
      const x = input(g, "x", [B, 3, 2]);
      return { out: pad(x, 1, 2, 1, 0.5), wrt: [x] };
    },
  },
  {
    name: "replaceToken: one token per row of a [batch, T, H, dh] tensor",
    feeds: { idx: [2, 0, 3] },
    build: (g) => {
      const x = input(g, "x", [B, 4, 2, 3]);
      const token = input(g, "token", [B, 1, 2, 3]);
      const idx = g.input("idx", [B], "int64");
      return { out: replaceToken(x, idx, token), wrt: [x, token] };
    },
  },
  {
    name: "gather rank-1 indices with a repeat and a negative index",
    feeds: { idx: [3, 0, 3, -1] },
    build: (g) => {
      const x = input(g, "x", [B, 5, 2]);
      const idx = g.input("idx", [4], "int64");
      return { out: gather(x, idx, 1), wrt: [x] };
    },
  },
  {
    name: "gather rank-2 indices on the last axis",
    feeds: { idx: [0, 2, 2, 1] },
    build: (g) => {
      const x = input(g, "x", [B, 2, 3]);
      const idx = g.input("idx", [2, 2], "int64");
      return { out: gather(x, idx, 2), wrt: [x] };
    },
  },
  {
    name: "gather a scalar index (axis dropped)",
    build: (g) => {
      const x = input(g, "x", [B, 4, 2]);
      const idx = g.constant(BigInt64Array.of(2n), []);
      return { out: gather(x, idx, 1), wrt: [x] };
    },
  },
  {
    name: "gather rows of a table with batch-shaped indices (embedding)",
    feeds: { idx: [4, 0, 4] },
    build: (g) => {
      const table = input(g, "table", [5, 3]);
      const idx = g.input("idx", [B], "int64");
      return { out: gather(table, idx, 0), wrt: [table] };
    },
  },
  {
    name: "cast of a bool mask times x",
    feeds: { m: [1, 0, 1, 1, 0, 0] },
    build: (g) => {
      const x = input(g, "x", [B, 2]);
      const m = g.input("m", [B, 2], "bool");
      return { out: mul(x, cast(m, "float32")), wrt: [x] };
    },
  },
  {
    name: "layerNorm over the last axis",
    range: [-2, 2],
    build: (g) => {
      const x = input(g, "x", [B, 3, 6]);
      const w = input(g, "w", [6]);
      const b = input(g, "b", [6]);
      return { out: layerNorm(x, w, b), wrt: [x, w, b] };
    },
  },
  {
    name: "conv1d kernel 3 padding 1",
    build: (g) => {
      const x = input(g, "x", [B, 6, 2]);
      const w = input(g, "w", [4, 2, 3]);
      const b = input(g, "b", [4]);
      return { out: conv1d(x, w, b, 1), wrt: [x, w, b] };
    },
  },
  {
    name: "conv1d kernel 5 padding 2 without bias",
    build: (g) => {
      const x = input(g, "x", [B, 5, 3]);
      const w = input(g, "w", [2, 3, 5]);
      return { out: conv1d(x, w, undefined, 2), wrt: [x, w] };
    },
  },
  {
    name: "conv, channel-major, no padding",
    build: (g) => {
      const x = input(g, "x", [B, 2, 6]);
      const w = input(g, "w", [3, 2, 4]);
      const b = input(g, "b", [3]);
      return { out: conv(x, w, b, 0), wrt: [x, w, b] };
    },
  },
  {
    name: "conv with padding wider than the kernel (cropped input gradient)",
    build: (g) => {
      const x = input(g, "x", [B, 2, 4]);
      const w = input(g, "w", [2, 2, 2]);
      return { out: conv(x, w, undefined, 3), wrt: [x, w] };
    },
  },
  {
    name: "linear with PyTorch weight layout",
    build: (g) => {
      const x = input(g, "x", [B, 2, 5]);
      const w = input(g, "w", [4, 5]);
      const b = input(g, "b", [4]);
      return { out: linear(x, w, b), wrt: [x, w, b] };
    },
  },
  {
    name: "crossEntropy, mean over a symbolic batch",
    range: [-3, 3],
    feeds: { labels: [0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0] },
    build: (g) => {
      const logits = input(g, "logits", [B, 4]);
      const labels = input(g, "labels", [B, 4]);
      return { out: crossEntropy(logits, labels), wrt: [logits] };
    },
  },
  {
    name: "dropout with a bool keep-mask",
    feeds: { keep: [1, 0, 1, 1, 1, 0, 0, 1, 1] },
    build: (g) => {
      const x = input(g, "x", [B, 3]);
      const keep = g.input("keep", [B, 3], "bool");
      return { out: dropout(x, keep, 0.25), wrt: [x] };
    },
  },
];

/** Ops whose output carries no gradient: forward only. */
export const forwardOnlyCases: OpCase[] = [
  {
    name: "greater with broadcasting",
    build: (g) => ({ out: greater(input(g, "a", [B, 3]), input(g, "b", [3])) }),
  },
  {
    name: "equal with ties",
    feeds: { a: [1, 2, 3, 1, 2, 3, 0, 0, 0], b: [1, 0, 3] },
    build: (g) => ({ out: equal(input(g, "a", [B, 3]), input(g, "b", [3])) }),
  },
  {
    name: "not",
    feeds: { m: [1, 0, 1, 0, 0, 1] },
    build: (g) => ({ out: not(g.input("m", [B, 2], "bool")) }),
  },
  {
    name: "cast float → bool",
    feeds: { x: [0, 1.5, -2, 0, 0, 3] },
    build: (g) => ({ out: cast(input(g, "x", [B, 2]), "bool") }),
  },
  {
    name: "logSoftmax with masked entries and a fully masked row",
    feeds: { keyValid: KEY_MASK },
    build: (g) => {
      const s = input(g, "s", [B, 4]);
      const valid = g.input("keyValid", [B, 4], "bool");
      return { out: logSoftmax(maskedFill(s, not(valid), Number.NEGATIVE_INFINITY), 1) };
    },
  },
  {
    name: "max-pool over valid time steps only",
    feeds: { valid: [1, 1, 1, 1, 0, 0, 1, 0, 0] },
    build: (g) => {
      const h = input(g, "h", [B, 3, 2]);
      const valid = g.input("valid", [B, 3, 1], "bool");
      return { out: reduceMax(where(valid, h, g.scalar(Number.NEGATIVE_INFINITY)), [1]) };
    },
  },
];
