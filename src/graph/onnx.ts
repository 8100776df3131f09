import type onnxProto from "onnx-proto";
import { requireCommonJs } from "../commonjs.js";
import type { AttrValue, DType, Graph, Node, Shape, Value } from "./ir.js";
import { type Fusion, type FusionWriter, MS_DOMAIN, planFusions } from "./onnx-fusions.js";
import { ONNX_ELEMENT_TYPE } from "./ops/cast.js";
import { opDefs } from "./ops/registry.js";

let schema: typeof onnxProto.onnx | undefined;

/** The ONNX protobuf classes, loaded with the first graph written (a warm cache may need none). */
function onnxSchema(): typeof onnxProto.onnx {
  schema ??= (requireCommonJs("onnx-proto") as typeof onnxProto).onnx;
  return schema;
}

/** The ONNX opset the IR emits (ReduceSum takes axes as an input from 13; LayerNormalization exists from 17). */
export const OPSET = 17;

export interface ToOnnxOptions {
  /** Graph outputs to include (default: all). Nodes nothing asks for are left out. */
  outputs?: readonly string[];
  /** Stored in the model's metadata (e.g. a model config). */
  metadata?: Record<string, string>;
  name?: string;
  /**
   * Let the emitter use ONNX Runtime contrib ops (domain com.microsoft, e.g. MultiHeadAttention)
   * for faster runs in ONNX Runtime. Default false: standard ONNX only (portable exports).
   */
  contribOps?: boolean;
  /** Apply the peephole fusions of onnx-fusions.ts (default true; false writes every IR node as is). */
  fuse?: boolean;
}

/**
 * Serialise a graph to ONNX ModelProto bytes. Only the nodes and inputs that
 * the requested outputs depend on are written, so one model graph yields many
 * small runtime graphs (e.g. logits only, or logits plus a cached hook).
 *
 * @example
 * const bytes = toOnnx(g, { outputs: ["logits"] });
 */
export function toOnnx(graph: Graph, options: ToOnnxOptions = {}): Uint8Array {
  const outputNames = options.outputs ?? [...graph.outputs.keys()];
  const outputs = outputNames.map((name) => {
    const value = graph.outputs.get(name);
    if (value === undefined) throw new Error(`toOnnx: graph has no output "${name}"`);
    return { name, value };
  });
  const roots = outputs.map((o) => o.value);
  // Fusions are planned on the plain dependency set; the fused nodes then read only their
  // pattern's inputs, so nodes inside a pattern drop out unless something else needs them.
  const fusions =
    options.fuse === false
      ? new Map<number, Fusion>()
      : planFusions(graph, neededValues(graph, roots), new Set(roots.map((v) => v.id)), {
          contrib: options.contribOps ?? false,
        });
  const needed = neededValues(graph, roots, (node) => fusions.get(node.id)?.inputs ?? node.inputs);

  const inputNames = new Map(graph.inputs.map((i) => [i.value.id, i.name]));
  const nameOf = (v: Value): string =>
    inputNames.get(v.id) ?? (v.kind === "constant" ? `c${v.id}` : `v${v.id}`);

  const onnx = onnxSchema();
  const nodes: onnxProto.onnx.INodeProto[] = [];
  const initializers: onnxProto.onnx.ITensorProto[] = [];
  let temps = 0;
  let currentNode: Node | null = null;
  let usesContrib = false;
  const writer: FusionWriter = {
    name: nameOf,
    get out() {
      return nameOf((currentNode as Node).output);
    },
    node(opType, inputs, outs, attrs = {}) {
      nodes.push({
        opType,
        input: [...inputs],
        output: [...outs],
        name: `n${nodes.length}`,
        attribute: Object.entries(attrs).map(([key, value]) => attribute(key, value)),
      });
    },
    ints(values) {
      const name = `i${temps++}`;
      initializers.push(tensorProto(name, [values.length], "int64", BigInt64Array.from(values.map(BigInt))));
      return name;
    },
    float(value) {
      const name = `f${temps++}`;
      initializers.push(tensorProto(name, [], "float32", new Float32Array([value])));
      return name;
    },
    temp() {
      return `t${temps++}`;
    },
    domainNode(domain, opType, inputs, outs, attrs) {
      usesContrib ||= domain === MS_DOMAIN;
      const T = onnx.AttributeProto.AttributeType;
      nodes.push({
        opType,
        domain,
        input: [...inputs],
        output: [...outs],
        name: `n${nodes.length}`,
        attribute: [
          ...Object.entries(attrs.ints ?? {}).map(([name, i]) => ({ name, type: T.INT, i })),
          ...Object.entries(attrs.floats ?? {}).map(([name, f]) => ({ name, type: T.FLOAT, f })),
        ],
      });
    },
  };

  for (const node of graph.nodes) {
    if (!needed.has(node.output.id)) continue;
    currentNode = node;
    const fusion = fusions.get(node.id);
    if (fusion !== undefined) fusion.emit(writer);
    else opDefs[node.op].onnx(node, writer);
  }
  for (const { value, data } of graph.constants) {
    if (needed.has(value.id)) initializers.push(tensorProto(nameOf(value), value.shape, value.dtype, data));
  }
  for (const { name, value } of outputs) writer.node("Identity", [nameOf(value)], [name]);

  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: "tspatch",
    opsetImport: [
      { domain: "", version: OPSET },
      ...(usesContrib ? [{ domain: MS_DOMAIN, version: 1 }] : []),
    ],
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: options.name ?? "tspatch",
      node: nodes,
      initializer: initializers,
      input: graph.inputs.filter((i) => needed.has(i.value.id)).map((i) => valueInfo(i.name, i.value)),
      output: outputs.map((o) => valueInfo(o.name, o.value)),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

function neededValues(
  graph: Graph,
  roots: readonly Value[],
  reads: (node: Node) => readonly Value[] = (node) => node.inputs,
): Set<number> {
  const needed = new Set<number>(roots.map((v) => v.id));
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const node = graph.nodes[i];
    if (needed.has(node.output.id)) for (const v of reads(node)) needed.add(v.id);
  }
  return needed;
}

function valueInfo(name: string, value: Value): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ONNX_ELEMENT_TYPE[value.dtype],
        shape: { dim: value.shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function tensorProto(
  name: string,
  shape: Shape,
  dtype: DType,
  data: Float32Array | BigInt64Array | Uint8Array,
): onnxProto.onnx.ITensorProto {
  return {
    name,
    dims: shape as number[],
    dataType: ONNX_ELEMENT_TYPE[dtype],
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

// Integer numbers become INT attributes, other numbers FLOAT: ops pass floats
// (epsilon, alpha) that are never whole numbers, or say so by passing a FLOAT list.
function attribute(name: string, value: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnxSchema().AttributeProto.AttributeType;
  if (typeof value === "boolean") return { name, type: T.INT, i: value ? 1 : 0 };
  if (typeof value === "string") return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === "number") {
    return Number.isInteger(value) ? { name, type: T.INT, i: value } : { name, type: T.FLOAT, f: value };
  }
  return { name, type: T.INTS, ints: [...value] };
}
