import { addDef } from "./add.js";
import { castDef } from "./cast.js";
import { concatDef } from "./concat.js";
import { contractLeadingDef } from "./contract-leading.js";
import { convDef } from "./conv.js";
import { countElementsDef } from "./count-elements.js";
import { divDef } from "./div.js";
import { equalDef } from "./equal.js";
import { erfDef } from "./erf.js";
import { expDef } from "./exp.js";
import { expandDef } from "./expand.js";
import { gatherDef } from "./gather.js";
import { geluDef } from "./gelu.js";
import { greaterDef } from "./greater.js";
import { layerNormDef } from "./layer-norm.js";
import { logDef } from "./log.js";
import { logSoftmaxDef } from "./log-softmax.js";
import { matmulDef } from "./matmul.js";
import { maximumDef } from "./maximum.js";
import { mulDef } from "./mul.js";
import type { OpName } from "./names.js";
import { notDef } from "./not.js";
import type { OpDef } from "./op-def.js";
import { padDef } from "./pad.js";
import { reduceMaxDef } from "./reduce-max.js";
import { reduceMeanDef } from "./reduce-mean.js";
import { reduceSumDef } from "./reduce-sum.js";
import { reluDef } from "./relu.js";
import { replaceTokenDef } from "./replace-token.js";
import { reshapeDef } from "./reshape.js";
import { scatterAddDef } from "./scatter-add.js";
import { sliceDef } from "./slice.js";
import { softmaxDef } from "./softmax.js";
import { sqrtDef } from "./sqrt.js";
import { subDef } from "./sub.js";
import { transposeDef } from "./transpose.js";
import { whereDef } from "./where.js";

export type { OpName } from "./names.js";

/** The op table: a missing op or VJP is a compile error, not a runtime surprise. */
export const opDefs: Record<OpName, OpDef> = {
  Add: addDef,
  Sub: subDef,
  Mul: mulDef,
  Div: divDef,
  MatMul: matmulDef,
  Relu: reluDef,
  Gelu: geluDef,
  Erf: erfDef,
  ReduceSum: reduceSumDef,
  Reshape: reshapeDef,
  Transpose: transposeDef,
  Expand: expandDef,
  Greater: greaterDef,
  Where: whereDef,
  ReduceMean: reduceMeanDef,
  ReduceMax: reduceMaxDef,
  CountElements: countElementsDef,
  Softmax: softmaxDef,
  LogSoftmax: logSoftmaxDef,
  Sqrt: sqrtDef,
  Exp: expDef,
  Log: logDef,
  Max: maximumDef,
  Slice: sliceDef,
  Concat: concatDef,
  Pad: padDef,
  Gather: gatherDef,
  ScatterAdd: scatterAddDef,
  ReplaceToken: replaceTokenDef,
  Equal: equalDef,
  Not: notDef,
  Cast: castDef,
  Conv: convDef,
  ContractLeading: contractLeadingDef,
  LayerNorm: layerNormDef,
};
