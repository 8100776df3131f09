import type { Graph, Shape, Value } from "../graph/ir.js";
import type { TSTConfig } from "./config.js";

/** BatchNorm and LayerNorm epsilon of the reference (PyTorch defaults). */
export const BN_EPS = 1e-5;
export const LN_EPS = 1e-5;

/**
 * What the pieces of the TST graph (stems, norms, pooling) share with the builder: the graph, the
 * config, the mode, the parameter inputs (declared once, by canonical name) and the train-mode
 * statistic outputs (`bn:<prefix>.batch_mean|batch_var|count`, for the running-statistic update).
 */
export interface GraphParts {
  readonly g: Graph;
  readonly config: TSTConfig;
  readonly train: boolean;
  param(name: string, shape: Shape): Value;
  statistic(name: string, value: Value): void;
  /**
   * Train mode, conv stem: where its BatchNorm statistics come from ("batch": the call's rows;
   * "fed": a whole batch's, for micro-batches, see `fedBatchNorm` in stems.ts).
   */
  readonly batchNormStats: "batch" | "fed";
  /** A term added to the loss before differentiation (fed-statistics BatchNorm's corrections). */
  lossTerm(value: Value): void;
}
