import { type OpName, opDefs } from "./ops/registry.js";

/**
 * A small tensor-graph IR: values with static shapes (a string dimension is
 * symbolic, e.g. "batch"), nodes appended in insertion order (so the order is
 * already topological and the same graph always serialises to the same ONNX
 * bytes), and one output per node.
 *
 * Build graphs with the op functions in `ops/` (`add(a, b)`, `matmul(a, b)`):
 * each checks shapes when the node is added and throws {@link ShapeError}
 * naming the op, the argument, what was expected and what it got.
 *
 * @example
 * const g = new Graph();
 * const x = g.input("x", ["batch", 3]);
 * const w = g.input("w", [3, 2]);
 * g.output("y", relu(matmul(x, w)));
 */

/** A dimension: a number, or a name for a size known only at run time. */
export type Dim = number | string;
export type Shape = readonly Dim[];
export type DType = "float32" | "int64" | "bool";
export type AttrValue = number | string | boolean | readonly number[];
export type Attrs = Readonly<Record<string, AttrValue>>;
export type TensorData = Float32Array | BigInt64Array | Uint8Array;

export class ShapeError extends Error {
  override readonly name = "ShapeError";
}

/** Throw a ShapeError with a message built only when the check fails. */
export function check(condition: boolean, message: () => string): asserts condition {
  if (!condition) throw new ShapeError(message());
}

export function shapeString(shape: Shape): string {
  return `[${shape.join(",")}]`;
}

export type ValueKind = "input" | "constant" | "node";

export class Value {
  constructor(
    readonly graph: Graph,
    readonly id: number,
    readonly shape: Shape,
    readonly dtype: DType,
    readonly kind: ValueKind,
    /** The node that computes this value (kind "node" only). */
    readonly producer: Node | null,
  ) {}

  get rank(): number {
    return this.shape.length;
  }
}

export interface Node {
  readonly id: number;
  readonly op: OpName;
  readonly inputs: readonly Value[];
  readonly attrs: Attrs;
  readonly output: Value;
}

export interface GraphInput {
  readonly name: string;
  readonly value: Value;
}

export interface GraphConstant {
  readonly value: Value;
  readonly data: TensorData;
}

export class Graph {
  readonly inputs: GraphInput[] = [];
  readonly constants: GraphConstant[] = [];
  readonly nodes: Node[] = [];
  readonly outputs = new Map<string, Value>();
  private nextId = 0;
  private readonly inputNames = new Map<string, Value>();
  private readonly scalarCache = new Map<string, Value>();

  /** A graph input fed at run time (data or weights). Names are unique. */
  input(name: string, shape: Shape, dtype: DType = "float32"): Value {
    check(!this.inputNames.has(name), () => `input "${name}" is declared twice`);
    check(!this.outputs.has(name), () => `input "${name}" has the name of an output`);
    for (const d of shape) check(validDim(d), () => `input "${name}": bad dimension ${String(d)}`);
    const value = new Value(this, this.nextId++, [...shape], dtype, "input", null);
    this.inputs.push({ name, value });
    this.inputNames.set(name, value);
    return value;
  }

  /** The input of that name, if declared. */
  getInput(name: string): Value | undefined {
    return this.inputNames.get(name);
  }

  /** A constant tensor baked into the graph (ONNX initializer). */
  constant(data: TensorData, shape: Shape): Value {
    const size = shape.reduce<number>((n, d) => n * (d as number), 1);
    check(
      shape.every((d) => typeof d === "number"),
      () => `constant: shape must be concrete, got ${shapeString(shape)}`,
    );
    check(data.length === size, () => `constant: ${data.length} values for shape ${shapeString(shape)}`);
    const dtype: DType =
      data instanceof Float32Array ? "float32" : data instanceof BigInt64Array ? "int64" : "bool";
    const value = new Value(this, this.nextId++, [...shape], dtype, "constant", null);
    this.constants.push({ value, data });
    return value;
  }

  /** A float32 scalar constant (shape []); equal scalars are shared. */
  scalar(x: number): Value {
    const key = Object.is(x, -0) ? "-0" : String(x);
    let value = this.scalarCache.get(key);
    if (value === undefined) {
      value = this.constant(new Float32Array([x]), []);
      this.scalarCache.set(key, value);
    }
    return value;
  }

  /** Append a node; its op checks the input shapes and gives the output shape. */
  apply(op: OpName, inputs: readonly Value[], attrs: Attrs = {}): Value {
    for (const v of inputs) {
      check(v.graph === this, () => `${op}: an input belongs to another graph`);
    }
    const { shape, dtype } = opDefs[op].infer(inputs, attrs);
    const id = this.nextId++;
    const node: { -readonly [K in keyof Node]: Node[K] } = {
      id,
      op,
      inputs: [...inputs],
      attrs,
      output: undefined as unknown as Value,
    };
    node.output = new Value(this, id, shape, dtype, "node", node);
    this.nodes.push(node);
    return node.output;
  }

  /** Name a value as a graph output (fetched by name at run time). */
  output(name: string, value: Value): Value {
    check(value.graph === this, () => `output "${name}" belongs to another graph`);
    check(!this.inputNames.has(name), () => `output "${name}" has the name of an input`);
    this.outputs.set(name, value);
    return value;
  }
}

function validDim(d: Dim): boolean {
  return typeof d === "string" ? d.length > 0 : Number.isInteger(d) && d >= 0;
}
