/**
 * How a command keeps to `--memory-budget`: the per-row cost of the graph it runs (see
 * model/memory-cost.ts) gives the rows per runtime call, and ONNX Runtime's arena stays on only
 * where its extra copy of the live tensors still fits.
 */
import type { HookedTST } from "../model/hooked-tst.js";
import type { HookName } from "../model/hooks.js";
import {
  type BudgetFit,
  cachedBytes,
  fitToBudget,
  type RowCost,
  rowsBesideFit,
  tstRowCost,
  unitsWithin,
} from "../model/memory-cost.js";
import { defaultMemoryBudget, formatBytes, parseMemorySize } from "../runtime/memory-budget.js";

export const MEMORY_BUDGET_FLAG = "--memory-budget";

/** `--memory-budget <size>` as commander's `.option(...)` arguments. */
export const MEMORY_BUDGET_OPTION = [
  `${MEMORY_BUDGET_FLAG} <size>`,
  "peak memory to stay within, e.g. 2GiB or 512MiB (default: half the free memory, at most 4 GiB)",
] as const;

export interface MemoryBudget {
  bytes: number;
  /** Given by the user: a hard limit. The default is a preference one row may exceed. */
  strict: boolean;
}

/** The budget: the flag's value, or the default share of the free memory. */
export function memoryBudget(flag: string | undefined): MemoryBudget {
  return flag === undefined
    ? { bytes: defaultMemoryBudget(), strict: false }
    : { bytes: parseMemorySize(flag, MEMORY_BUDGET_FLAG), strict: true };
}

export interface MemoryPlan extends BudgetFit {
  /** One line for stderr: the budget, the rows and the arena choice. */
  note: string;
  /**
   * Pairs per sweep chunk (at most `cap`) whose cached activations at `hooks` (two inputs a
   * pair) fit beside the runtime calls; a power of two, so chunks of a smaller plan never
   * straddle those of a larger one (the study's shards are whole chunks of 16).
   */
  pairsPerChunk(hooks: readonly HookName[], cap: number): number;
  /**
   * Rows per call (at most `cap`) of a backward graph on the plan's model (attribution patching,
   * integrated gradients, saliency): a training graph's row cost bounds theirs, as it holds
   * every activation the backward pass reads.
   */
  gradientRows(masked: boolean, cap: number): number;
  /**
   * Whether two runtime calls of `rows` rows fit at once (a sweep's two halves side by side,
   * patching/side-by-side.ts), each with its own arena when the fit kept it on.
   */
  halvesFit: boolean;
}

/**
 * `fitToBudget` for a command's `--memory-budget`, with the line that says what it chose.
 *
 * @example
 * const plan = planMemory(model, tstRowCost(model.config), memoryBudget(flags.memoryBudget), 256);
 */
export function planMemory(model: HookedTST, cost: RowCost, budget: MemoryBudget, cap: number): MemoryPlan {
  const fit = fitToBudget(model, cost, budget.bytes, cap, MEMORY_BUDGET_FLAG, { strict: budget.strict });
  const note = `memory budget ${formatBytes(budget.bytes)}${budget.strict ? "" : " (default)"}: ${fit.rows} rows per call at ${formatBytes(cost.perRow)} a row, ONNX Runtime arena ${fit.arena ? "on" : "off"}`;
  const pairsPerChunk = (hooks: readonly HookName[], cap: number) => {
    // A default budget binds nothing but the rows (as before it existed): chunks stay at `cap`.
    if (!budget.strict) return cap;
    const pairs = unitsWithin(fit, budget.bytes, 2 * cachedBytes(model.config, hooks), cap);
    return pairs >= cap ? cap : 2 ** Math.floor(Math.log2(pairs));
  };
  const gradientRows = (masked: boolean, cap: number) =>
    rowsBesideFit(
      fit,
      tstRowCost(model.config, { mode: "train", mask: masked, dropout: false }),
      budget.bytes,
      cap,
      MEMORY_BUDGET_FLAG,
      {
        strict: budget.strict,
      },
    );
  const halvesFit =
    fit.inUse + fit.cost.fixed + 2 * (fit.arena ? 2 : 1) * fit.rows * fit.cost.perRow <= budget.bytes;
  return { ...fit, note, pairsPerChunk, gradientRows, halvesFit };
}

/**
 * The row cost of a patched run, bounded above: the whole forward with each layer's residual
 * input and z cached and patched (the patching engine's runs start at one of these, or at the
 * input, and patch a subset of them).
 *
 * @example
 * const cost = patchedRunCost(model, inputs.mask !== null);
 */
export function patchedRunCost(model: HookedTST, masked: boolean): RowCost {
  const hooks: HookName[] = [];
  for (let l = 0; l < model.config.layers; l++) {
    hooks.push(`blocks.${l}.hook_resid_pre` as HookName, `blocks.${l}.attn.hook_z` as HookName);
  }
  return tstRowCost(model.config, { mask: masked, cache: hooks, patch: hooks });
}
