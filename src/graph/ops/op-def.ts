import type { Attrs, AttrValue, DType, Node, Shape, Value } from "../ir.js";

/** Writes one IR node as ONNX node(s). */
export interface OnnxNodeWriter {
  /** The ONNX name of a value. */
  name(value: Value): string;
  /** The ONNX name the node's result must have. */
  readonly out: string;
  /** Emit one ONNX node. */
  node(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attrs?: Record<string, AttrValue>,
  ): void;
  /** An int64 initializer holding `values` (for shape/axes inputs); returns its name. */
  ints(values: readonly number[]): string;
  /** A float32 scalar initializer (shape []); returns its name. */
  float(value: number): string;
  /** A fresh name for an intermediate result. */
  temp(): string;
}

/**
 * What the IR knows about an op: its shape rule, its ONNX form and its
 * vector-Jacobian product, one entry per input (`null`: no gradient flows there).
 */
export interface OpDef {
  infer(inputs: readonly Value[], attrs: Attrs): { shape: Shape; dtype: DType };
  onnx(node: Node, w: OnnxNodeWriter): void;
  vjp(node: Node, grad: Value): readonly (Value | null)[];
}
