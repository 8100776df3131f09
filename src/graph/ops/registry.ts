import { addDef } from "./add.js";
import { divDef } from "./div.js";
import { expandDef } from "./expand.js";
import { greaterDef } from "./greater.js";
import { matmulDef } from "./matmul.js";
import { mulDef } from "./mul.js";
import type { OpName } from "./names.js";
import type { OpDef } from "./op-def.js";
import { reduceSumDef } from "./reduce-sum.js";
import { reluDef } from "./relu.js";
import { reshapeDef } from "./reshape.js";
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
  ReduceSum: reduceSumDef,
  Reshape: reshapeDef,
  Transpose: transposeDef,
  Expand: expandDef,
  Greater: greaterDef,
  Where: whereDef,
};
