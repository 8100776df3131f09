/**
 * Every op of the IR. Adding a name here without an entry in `registry.ts`
 * (with its shape rule, ONNX form and VJP) is a compile error.
 */
export type OpName =
  | "Add"
  | "Sub"
  | "Mul"
  | "Div"
  | "MatMul"
  | "Relu"
  | "ReduceSum"
  | "Reshape"
  | "Transpose"
  | "Expand"
  | "Greater"
  | "Where";
