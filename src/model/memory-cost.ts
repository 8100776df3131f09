import { inputError } from "../errors.js";
import type { Graph, Value } from "../graph/ir.js";
import { formatBytes } from "../runtime/memory-budget.js";
import { Runtime } from "../runtime/session.js";
import type { TSTConfig } from "./config.js";
import type { HookedTST } from "./hooked-tst.js";
import { type HookName, hookShape } from "./hooks.js";
import { buildTSTGraph, type TSTGraphOptions } from "./tst-graph.js";

/** What one runtime call of a graph holds: bytes that grow with the rows of the call, and the rest. */
export interface RowCost {
  /** Peak bytes of activations per batch row (inputs, intermediates and outputs alive at once). */
  perRow: number;
  /** Bytes that do not depend on the rows: weights, constants, weight gradients. */
  fixed: number;
}

const DTYPE_BYTES = { float32: 4, int64: 8, bool: 1 } as const;

/**
 * The memory a graph needs per batch row, from its values' shapes and lifetimes: walking the
 * nodes in order, a value is alive from the node that makes it (inputs: from the start) to its
 * last reader (outputs: to the end), and the cost is the largest sum of live per-row bytes.
 * This is the executor's live set when every tensor is freed after its last use, which is what
 * ONNX Runtime does without its arena; attention patterns (S² per head), q/k/v/z, the MLP's
 * hidden layer and, in a train graph, every tensor saved for the backward pass are all values
 * here. Fusions only remove values, so the figure is an upper bound of the fused graph's.
 *
 * @example
 * const { perRow, fixed } = graphRowCost(buildTSTGraph(config).graph);
 */
export function graphRowCost(graph: Graph): RowCost {
  const lastUse = new Map<Value, number>();
  graph.nodes.forEach((node, i) => {
    for (const v of node.inputs) lastUse.set(v, i);
  });
  const end = graph.nodes.length;
  for (const v of graph.outputs.values()) lastUse.set(v, end);
  let fixed = 0;
  let live = 0;
  // Fed tensors stay with the caller for the whole call.
  for (const { value } of graph.inputs) {
    const cost = valueBytes(value);
    fixed += cost.fixed;
    live += cost.perRow;
  }
  for (const { value } of graph.constants) fixed += valueBytes(value).fixed;
  let peak = live;
  const dying = new Map<number, number>();
  graph.nodes.forEach((node, i) => {
    const cost = valueBytes(node.output);
    fixed += cost.fixed;
    live += cost.perRow;
    peak = Math.max(peak, live);
    const last = lastUse.get(node.output) ?? i;
    dying.set(last, (dying.get(last) ?? 0) + cost.perRow);
    live -= dying.get(i) ?? 0;
  });
  return { perRow: peak, fixed };
}

/**
 * The row cost of the TST graph built with these options (see `buildTSTGraph`).
 *
 * @example
 * const cost = tstRowCost(model.config, { cache: ["blocks.0.attn.hook_z"] });
 */
export function tstRowCost(config: TSTConfig, options: TSTGraphOptions = {}): RowCost {
  return graphRowCost(buildTSTGraph(config, options).graph);
}

/**
 * Rows per runtime call (at most `cap`) that keep the process within `budget` bytes, given the
 * bytes it already holds (`inUse`, e.g. its resident set with the data loaded). When not even
 * one row fits, an input error says what one row needs and what to do.
 *
 * @example
 * const rows = rowsWithin(cost, budget, process.memoryUsage().rss, 256, "--memory-budget");
 */
export function rowsWithin(
  cost: RowCost,
  budget: number,
  inUse: number,
  cap: number,
  field: string,
  shorter = "--resample the series to fewer steps",
): number {
  const rows = Math.floor((budget - inUse - cost.fixed) / cost.perRow);
  if (rows < 1) {
    throw inputError(
      `one row needs ${formatBytes(cost.perRow)} of activations (plus ${formatBytes(cost.fixed)} of weights and ${formatBytes(inUse)} the process already holds), more than the budget of ${formatBytes(budget)}`,
      {
        field,
        hint: `give ${field} ${formatBytes(inUse + cost.fixed + cost.perRow)} or more, or ${shorter} (attention grows with steps²)`,
      },
    );
  }
  return Math.min(cap, rows);
}

function valueBytes(v: Value): RowCost {
  let size = DTYPE_BYTES[v.dtype];
  let perRow = false;
  for (const d of v.shape) {
    if (typeof d === "number") size *= d;
    else perRow = true; // the symbolic batch dimension
  }
  return perRow ? { perRow: size, fixed: 0 } : { perRow: 0, fixed: size };
}

/**
 * What ONNX Runtime holds per row beyond the graph's values (kernel scratch, allocator rounding):
 * eval at length 1,500 peaked 2–13 % above the values' cost (1 and 2 GiB budgets, arena off).
 */
const EXECUTOR_SLACK = 1.1;

export interface BudgetFit {
  /** Rows per runtime call. */
  rows: number;
  /** The cost the rows were fitted to (per row with the executor's slack). */
  cost: RowCost;
  /** What the process held when the fit was made (bytes, its resident set). */
  inUse: number;
  /** The model on a runtime whose arena setting fits the budget, running `rows` rows per call. */
  model: HookedTST;
  /** ONNX Runtime's arena (and memory pattern) kept on. */
  arena: boolean;
  /** The budget changed something: fewer rows than `cap`, or the arena off. */
  binds: boolean;
}

/**
 * Rows per runtime call for a graph of `cost`, at most `cap`, within `budget` counting what the
 * process holds now (`field` names the budget's flag in errors, `shorter` how to shorten the
 * series; `strict` false: a default budget, which one row may exceed). The model is moved to a
 * runtime with ONNX Runtime's arena and memory pattern off when keeping them would not fit:
 * the arena holds freed blocks for reuse, about a second copy of the live tensors.
 *
 * @example
 * const fit = fitToBudget(model, tstRowCost(model.config), 2 * 2 ** 30, 256, "--memory-budget");
 */
export function fitToBudget(
  model: HookedTST,
  cost: RowCost,
  budget: number,
  cap: number,
  field: string,
  options: { shorter?: string; strict?: boolean } = {},
): BudgetFit {
  const inUse = process.memoryUsage().rss;
  cost = { ...cost, perRow: Math.ceil(cost.perRow * EXECUTOR_SLACK) };
  // A default budget (strict false) is a preference: a command that used to run still runs, one row at a time.
  const rows =
    options.strict === false && inUse + cost.fixed + cost.perRow > budget
      ? 1
      : rowsWithin(cost, budget, inUse, cap, field, options.shorter);
  const arena = inUse + cost.fixed + 2 * rows * cost.perRow <= budget;
  const moved = arena ? model : withoutArena(model);
  moved.chunkSize = rows;
  return { rows, cost, inUse, model: moved, arena, binds: rows < cap || !arena };
}

/** Most rows per call of a backward graph under a budget: attribution patching's own chunk of pairs. */
export const GRADIENT_ROWS_CAP = 128;

/** What the backward graphs of a run without a memory budget may hold per call (see {@link fixedGradientRows}). */
export const UNBUDGETED_GRADIENT_BYTES = 2 * 2 ** 30;

/**
 * Rows per call (at most `cap`) of a backward graph when no budget was given: whatever the machine
 * holds, a call's activations stay under {@link UNBUDGETED_GRADIENT_BYTES}. It depends only on the
 * model's shape (not on free memory or the process), so a run's results do not depend on the
 * machine; on short series it is the cap (AtP's 128 pairs), on long ones it keeps a call from
 * holding tens of GiB. Measured, the baselines of 6 pairs at length 361 without a budget: peak RSS
 * 9.8 GiB with it, 19.7 GiB without; the rest is the forward calls' 256 rows and ONNX Runtime's
 * arena, which only `--memory-budget` bounds.
 *
 * @example
 * const rows = fixedGradientRows(model.config, true, 128);
 */
export function fixedGradientRows(config: TSTConfig, masked: boolean, cap: number): number {
  const cost = tstRowCost(config, { mode: "train", mask: masked, dropout: false });
  const rows = Math.floor((UNBUDGETED_GRADIENT_BYTES - cost.fixed) / (cost.perRow * EXECUTOR_SLACK));
  return Math.max(1, Math.min(cap, rows));
}

/**
 * Rows per call of another graph (e.g. a backward graph, whose rows hold every tensor saved for
 * the gradient) run on a fitted model: within the same budget, counting the arena's second copy
 * when the fit kept it on. `strict` false: a default budget, which one row may exceed.
 *
 * @example
 * const rows = rowsBesideFit(fit, tstRowCost(config, { mode: "train" }), budget, 128, "--memory-budget");
 */
export function rowsBesideFit(
  fit: BudgetFit,
  cost: RowCost,
  budget: number,
  cap: number,
  field: string,
  options: { strict?: boolean } = {},
): number {
  const held = { ...cost, perRow: Math.ceil(cost.perRow * EXECUTOR_SLACK * (fit.arena ? 2 : 1)) };
  if (options.strict === false && fit.inUse + held.fixed + held.perRow > budget) return 1;
  return rowsWithin(held, budget, fit.inUse, cap, field);
}

/**
 * The model (the same parameters) on a runtime with ONNX Runtime's arena and memory pattern off,
 * or the model itself when its runtime has them off already.
 *
 * @example
 * const lean = withoutArena(model); // lean.params === model.params
 */
export function withoutArena(model: HookedTST): HookedTST {
  if (!model.runtime.memoryArena) return model;
  return model.onRuntime(
    new Runtime({ threads: model.runtime.threads, memoryArena: false, memoryPattern: false }),
  );
}

/**
 * How many units (e.g. a sweep's pairs, each holding `perUnit` bytes of cached activations on
 * the host) a chunk may hold beside runtime calls of `fit.rows` rows within `budget`: at most
 * `cap`, at least 1 (one unit is what the fit already allowed for).
 *
 * @example
 * const pairs = unitsWithin(fit, 2 * 2 ** 30, 2 * cachedBytesPerInput, 16);
 */
export function unitsWithin(fit: BudgetFit, budget: number, perUnit: number, cap: number): number {
  // Only the graph's values count twice with the arena on (freed blocks kept for reuse).
  const call = fit.cost.fixed + (fit.arena ? 2 : 1) * fit.rows * fit.cost.perRow;
  const units = Math.floor((budget - fit.inUse - call) / Math.max(1, perUnit));
  return Math.max(1, Math.min(cap, units));
}

/**
 * Bytes of one input row's cached activations at `hooks` (what the patching engine keeps on the
 * host for each input of a chunk).
 *
 * @example
 * const perInput = cachedBytes(model.config, ["blocks.0.attn.hook_z"]); // S × H × dh × 4
 */
export function cachedBytes(config: TSTConfig, hooks: readonly HookName[]): number {
  let bytes = 0;
  for (const h of hooks) bytes += 4 * (hookShape(config, h, 1) as number[]).reduce((a, b) => a * b, 1);
  return bytes;
}
