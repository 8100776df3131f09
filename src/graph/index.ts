export { grad } from "./autodiff.js";
export { type Dim, type DType, Graph, type Shape, ShapeError, Value } from "./ir.js";
export { OPSET, type ToOnnxOptions, toOnnx } from "./onnx.js";
export * as ops from "./ops/index.js";
