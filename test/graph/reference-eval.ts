/**
 * A float64 reference interpreter of the graph IR, written independently of
 * the ONNX emission: every op is evaluated in plain TypeScript on
 * Float64Arrays (bool and int64 values are stored as 0/1 and whole numbers).
 * Tests compare ONNX Runtime (float32) against it, and use it for finite
 * differences in float64.
 *
 * The table is a `Record<OpName, …>`, so an op added to the IR without a
 * reference implementation is a compile error in the tests.
 */
import type { DType, Graph, Node, Shape, Value } from "../../src/graph/ir.js";
import type { OpName } from "../../src/graph/ops/names.js";
import { LOWEST_FLOAT32 } from "../../src/graph/ops/softmax.js";
import { erfc } from "../../src/stats/special.js";

export interface Tensor64 {
  readonly data: Float64Array;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

export interface Feed64 {
  data: ArrayLike<number> | ArrayLike<bigint>;
  dims: readonly number[];
}

const size = (shape: readonly number[]): number => shape.reduce((n, d) => n * d, 1);

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Multi-index of flat position `flat` in `shape`. */
function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = flat % shape[i];
    flat = Math.floor(flat / shape[i]);
  }
  return idx;
}

/** Flat position in a tensor of `shape` broadcast to an output index (right-aligned). */
function broadcastOffset(outIdx: readonly number[], shape: readonly number[]): number {
  const lead = outIdx.length - shape.length;
  let off = 0;
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    off += (shape[i] === 1 ? 0 : outIdx[i + lead]) * stride;
    stride *= shape[i];
  }
  return off;
}

function broadcastShape(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const di = i < rank - s.length ? 1 : s[i - (rank - s.length)];
      if (di !== 1) {
        if (d !== 1 && d !== di) throw new Error(`reference: shapes do not broadcast`);
        d = di;
      }
    }
    out.push(d);
  }
  return out;
}

function elementwise(dtype: DType, inputs: Tensor64[], f: (...xs: number[]) => number): Tensor64 {
  const shape = broadcastShape(...inputs.map((t) => t.shape));
  const out = new Float64Array(size(shape));
  const xs = new Array<number>(inputs.length);
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    for (let k = 0; k < inputs.length; k++) xs[k] = inputs[k].data[broadcastOffset(idx, inputs[k].shape)];
    out[i] = f(...xs);
  }
  return { data: out, shape, dtype };
}

/** Reduce `x` over `axes` with `f` applied to each slice's values. */
function reduce(
  x: Tensor64,
  axes: readonly number[],
  keep: boolean,
  f: (values: number[]) => number,
): Tensor64 {
  const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const groups = new Map<number, number[]>();
  for (let i = 0; i < x.data.length; i++) {
    const o = broadcastOffset(unravel(i, x.shape), keptShape);
    const g = groups.get(o);
    if (g === undefined) groups.set(o, [x.data[i]]);
    else g.push(x.data[i]);
  }
  const out = new Float64Array(size(keptShape));
  for (let o = 0; o < out.length; o++) out[o] = f(groups.get(o) ?? []);
  const shape = keep ? keptShape : x.shape.filter((_, i) => !axes.includes(i));
  return { data: out, shape, dtype: x.dtype };
}

/** Apply `f` to each 1-D slice along `axis` (same length in and out). */
function alongAxis(x: Tensor64, axis: number, f: (values: number[]) => number[]): Tensor64 {
  const st = strides(x.shape);
  const n = x.shape[axis];
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < x.data.length; i++) {
    if (unravel(i, x.shape)[axis] !== 0) continue;
    const values = Array.from({ length: n }, (_, j) => x.data[i + j * st[axis]]);
    f(values).forEach((v, j) => {
      out[i + j * st[axis]] = v;
    });
  }
  return { data: out, shape: x.shape, dtype: x.dtype };
}

function matmul(a: Tensor64, b: Tensor64): Tensor64 {
  const [m, k] = a.shape.slice(-2);
  const n = b.shape[b.shape.length - 1];
  const batch = broadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const shape = [...batch, m, n];
  const out = new Float64Array(size(shape));
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  for (let p = 0; p < size(batch); p++) {
    const bi = unravel(p, batch);
    const ao = broadcastOffset(bi, aBatch) * m * k;
    const bo = broadcastOffset(bi, bBatch) * k * n;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let t = 0; t < k; t++) s += a.data[ao + i * k + t] * b.data[bo + t * n + j];
        out[p * m * n + i * n + j] = s;
      }
  }
  return { data: out, shape, dtype: "float32" };
}

/** out[outIdx] = x[map(outIdx)] for a gather-like op; map returns -1 for "fill". */
function remap(x: Tensor64, shape: number[], map: (outIdx: number[]) => number[] | null, fill = 0): Tensor64 {
  const st = strides(x.shape);
  const out = new Float64Array(size(shape));
  for (let i = 0; i < out.length; i++) {
    const src = map(unravel(i, shape));
    out[i] = src === null ? fill : x.data[src.reduce((o, v, j) => o + v * st[j], 0)];
  }
  return { data: out, shape, dtype: x.dtype };
}

/** Softmax after raising -Infinity to the lowest float32 (the IR's masking rule). */
function softmaxValues(raw: number[]): number[] {
  const values = raw.map((v) => Math.max(v, LOWEST_FLOAT32));
  const m = Math.max(...values);
  const e = values.map((v) => Math.exp(v - m));
  const s = e.reduce((p, q) => p + q, 0);
  return e.map((v) => v / s);
}

function logSoftmaxValues(values: number[]): number[] {
  const m = Math.max(...values);
  if (m === Number.NEGATIVE_INFINITY) return values.map(() => Number.NEGATIVE_INFINITY);
  const lse = m + Math.log(values.reduce((p, v) => p + Math.exp(v - m), 0));
  return values.map((v) => v - lse);
}

type Kernel = (inputs: Tensor64[], node: Node, resolve: (s: Shape) => number[]) => Tensor64;

const f32 = "float32" as const;
const bool = (b: boolean): number => (b ? 1 : 0);

const kernels: Record<OpName, Kernel> = {
  Add: (x) => elementwise(f32, x, (a, b) => a + b),
  Sub: (x) => elementwise(f32, x, (a, b) => a - b),
  Mul: (x) => elementwise(f32, x, (a, b) => a * b),
  Div: (x) => elementwise(f32, x, (a, b) => a / b),
  Max: (x) => elementwise(f32, x, (a, b) => Math.max(a, b)),
  Greater: (x) => elementwise("bool", x, (a, b) => bool(a > b)),
  Equal: (x) => elementwise("bool", x, (a, b) => bool(a === b)),
  Where: ([c, a, b]) => elementwise(a.dtype, [c, a, b], (cv, av, bv) => (cv !== 0 ? av : bv)),
  Relu: (x) => elementwise(f32, x, (a) => Math.max(a, 0)),
  Erf: (x) => elementwise(f32, x, (a) => 1 - erfc(a)),
  Gelu: (x) => elementwise(f32, x, (a) => 0.5 * a * erfc(-a / Math.SQRT2)),
  Sqrt: (x) => elementwise(f32, x, Math.sqrt),
  Exp: (x) => elementwise(f32, x, Math.exp),
  Log: (x) => elementwise(f32, x, Math.log),
  Not: (x) => elementwise("bool", x, (a) => bool(a === 0)),
  Cast: ([x], node) => {
    const to = node.attrs.to as DType;
    return elementwise(to, [x], (a) => (to === "bool" ? bool(a !== 0) : to === "int64" ? Math.trunc(a) : a));
  },
  MatMul: ([a, b]) => matmul(a, b),
  ReduceSum: ([x], n) =>
    reduce(x, n.attrs.axes as number[], Boolean(n.attrs.keepdims), (v) => v.reduce((p, q) => p + q, 0)),
  ReduceMean: ([x], n) =>
    reduce(
      x,
      n.attrs.axes as number[],
      Boolean(n.attrs.keepdims),
      (v) => v.reduce((p, q) => p + q, 0) / v.length,
    ),
  ReduceMax: ([x], n) =>
    reduce(x, n.attrs.axes as number[], Boolean(n.attrs.keepdims), (v) => Math.max(...v)),
  CountElements: ([x], n) => ({
    data: Float64Array.of((n.attrs.axes as number[]).reduce((p, a) => p * x.shape[a], 1)),
    shape: [],
    dtype: f32,
  }),
  Softmax: ([x], n) => alongAxis(x, n.attrs.axis as number, softmaxValues),
  LogSoftmax: ([x], n) => alongAxis(x, n.attrs.axis as number, logSoftmaxValues),
  Reshape: ([x], n, resolve) => ({
    data: x.data,
    shape: resolve(n.attrs.shape as unknown as Shape),
    dtype: x.dtype,
  }),
  Transpose: ([x], n) => {
    const perm = n.attrs.perm as number[];
    const shape = perm.map((p) => x.shape[p]);
    return remap(x, shape, (o) => {
      const src = new Array<number>(perm.length);
      perm.forEach((p, i) => {
        src[p] = o[i];
      });
      return src;
    });
  },
  Expand: ([x, like]) => remapBroadcast(x, broadcastShape(x.shape, like.shape)),
  Slice: ([x], n) => {
    const { axis, start, end } = n.attrs as Record<string, number>;
    const shape = [...x.shape];
    shape[axis] = end - start;
    return remap(x, shape, (o) => o.map((v, i) => (i === axis ? v + start : v)));
  },
  Pad: ([x], n) => {
    const { axis, before, after, value } = n.attrs as Record<string, number>;
    const shape = [...x.shape];
    shape[axis] += before + after;
    return remap(
      x,
      shape,
      (o) => {
        const j = o[axis] - before;
        return j < 0 || j >= x.shape[axis] ? null : o.map((v, i) => (i === axis ? j : v));
      },
      value,
    );
  },
  Concat: (xs, n) => {
    const axis = n.attrs.axis as number;
    const shape = [...xs[0].shape];
    shape[axis] = xs.reduce((s, t) => s + t.shape[axis], 0);
    const out = new Float64Array(size(shape));
    for (let i = 0; i < out.length; i++) {
      const o = unravel(i, shape);
      let j = o[axis];
      let t = 0;
      while (j >= xs[t].shape[axis]) j -= xs[t++].shape[axis];
      const src = o.map((v, d) => (d === axis ? j : v));
      out[i] = xs[t].data[src.reduce((p, v, d) => p + v * strides(xs[t].shape)[d], 0)];
    }
    return { data: out, shape, dtype: xs[0].dtype };
  },
  Gather: ([x, idx], n) => {
    const axis = n.attrs.axis as number;
    const q = idx.shape.length;
    const shape = [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)];
    const ist = strides(idx.shape);
    return remap(x, shape, (o) => {
      const at = o.slice(axis, axis + q).reduce((p, v, d) => p + v * ist[d], 0);
      const i = idx.data[at];
      return [...o.slice(0, axis), i < 0 ? i + x.shape[axis] : i, ...o.slice(axis + q)];
    });
  },
  LayerNorm: ([x, w, b], n) => {
    const eps = n.attrs.epsilon as number;
    const normalised = alongAxis(x, x.shape.length - 1, (v) => {
      const mean = v.reduce((p, q) => p + q, 0) / v.length;
      const variance = v.reduce((p, q) => p + (q - mean) ** 2, 0) / v.length;
      return v.map((q) => (q - mean) / Math.sqrt(variance + eps));
    });
    return elementwise(f32, [normalised, w, b], (xh, wv, bv) => xh * wv + bv);
  },
  ContractLeading: ([a, b]) => {
    const k = a.shape[a.shape.length - 1];
    const n = b.shape[b.shape.length - 1];
    const rows = a.data.length / k;
    const out = new Float64Array(k * n);
    for (let r = 0; r < rows; r++)
      for (let i = 0; i < k; i++)
        for (let j = 0; j < n; j++) out[i * n + j] += a.data[r * k + i] * b.data[r * n + j];
    return { data: out, shape: [k, n], dtype: f32 };
  },
  Conv: ([x, w, b], n) => {
    const p = n.attrs.padding as number;
    const [batch, c, length] = x.shape;
    const [m, , k] = w.shape;
    const outLength = length + 2 * p - k + 1;
    const out = new Float64Array(batch * m * outLength);
    for (let i = 0; i < batch; i++)
      for (let o = 0; o < m; o++)
        for (let t = 0; t < outLength; t++) {
          let s = b === undefined ? 0 : b.data[o];
          for (let ci = 0; ci < c; ci++)
            for (let j = 0; j < k; j++) {
              const src = t + j - p;
              if (src >= 0 && src < length)
                s += w.data[(o * c + ci) * k + j] * x.data[(i * c + ci) * length + src];
            }
          out[(i * m + o) * outLength + t] = s;
        }
    return { data: out, shape: [batch, m, outLength], dtype: f32 };
  },
  ReplaceToken: ([x, idx, token]) => {
    const [N, T] = x.shape;
    const rest = size(x.shape.slice(2));
    const out = Float64Array.from(x.data);
    for (let n = 0; n < N; n++) {
      const t = idx.data[n] < 0 ? idx.data[n] + T : idx.data[n];
      for (let r = 0; r < rest; r++) out[(n * T + t) * rest + r] = token.data[n * rest + r];
    }
    return { data: out, shape: x.shape, dtype: x.dtype };
  },
  ScatterAdd: ([like, idx, up], n) => {
    const axis = n.attrs.axis as number;
    const q = idx.shape.length;
    const out = new Float64Array(size(like.shape));
    const st = strides(like.shape);
    const ist = strides(idx.shape);
    for (let u = 0; u < up.data.length; u++) {
      const o = unravel(u, up.shape);
      const i = idx.data[o.slice(axis, axis + q).reduce((p, v, d) => p + v * ist[d], 0)];
      const dst = [...o.slice(0, axis), i < 0 ? i + like.shape[axis] : i, ...o.slice(axis + q)];
      out[dst.reduce((p, v, d) => p + v * st[d], 0)] += up.data[u];
    }
    return { data: out, shape: like.shape, dtype: f32 };
  },
};

function remapBroadcast(x: Tensor64, shape: number[]): Tensor64 {
  const out = new Float64Array(size(shape));
  for (let i = 0; i < out.length; i++) out[i] = x.data[broadcastOffset(unravel(i, shape), x.shape)];
  return { data: out, shape, dtype: x.dtype };
}

/**
 * Evaluate `targets` of `graph` in float64. Feeds are keyed by input name;
 * symbolic dims take their sizes from the fed inputs.
 */
export function evaluate(graph: Graph, feeds: Record<string, Feed64>, targets: readonly Value[]): Tensor64[] {
  const values = new Map<number, Tensor64>();
  const symbols = new Map<string, number>();
  for (const { name, value } of graph.inputs) {
    const feed = feeds[name];
    if (feed === undefined) continue;
    value.shape.forEach((d, i) => {
      if (typeof d === "string") symbols.set(d, feed.dims[i]);
    });
    values.set(value.id, {
      data: Float64Array.from(feed.data as ArrayLike<number>, (v) => Number(v)),
      shape: [...feed.dims],
      dtype: value.dtype,
    });
  }
  for (const { value, data } of graph.constants) {
    values.set(value.id, {
      data: Float64Array.from(data as ArrayLike<number>, (v) => Number(v)),
      shape: value.shape as number[],
      dtype: value.dtype,
    });
  }
  const resolve = (s: Shape): number[] =>
    s.map((d) => {
      if (typeof d === "number") return d;
      const v = symbols.get(d);
      if (v === undefined) throw new Error(`reference: symbolic dim "${d}" is not bound by any feed`);
      return v;
    });
  const last = Math.max(...targets.map((t) => t.id));
  for (const node of graph.nodes) {
    if (node.id > last) break;
    const inputs = node.inputs.map((v) => values.get(v.id));
    if (inputs.some((t) => t === undefined)) continue; // depends on an input not fed
    values.set(node.output.id, kernels[node.op](inputs as Tensor64[], node, resolve));
  }
  return targets.map((t) => {
    const v = values.get(t.id);
    if (v === undefined) throw new Error(`reference: value ${t.id} was not computed (missing feed?)`);
    return v;
  });
}
