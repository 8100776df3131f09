import { inputError } from "../errors.js";
import { type TSTConfig, tokenCount } from "../model/config.js";
import { type HookName, hookShape } from "../model/hooks.js";
import type { Component } from "./types.js";

/**
 * Setters: each component kind says which entries of which hook come from the
 * source (TransformerLens `patching.py` style: one generic engine, a small
 * setter per index shape). A site selects, per non-batch axis of the hook,
 * either every index (`null`) or a list of indices; the patched entries are
 * the cartesian product of the selections.
 *
 * | component            | hook                      | axes selected              |
 * | -------------------- | ------------------------- | -------------------------- |
 * | head (z)             | blocks.l.attn.hook_z      | [pos?, h, ·]  (S×H×dh)     |
 * | head (slice)         | blocks.l.hook_attn_out    | [pos?, h·dh..h·dh+dh−1]    |
 * | attn (whole layer)   | blocks.l.hook_attn_out    | [pos?, ·]                  |
 * | mlp                  | blocks.l.hook_mlp_out     | [pos?, ·]                  |
 * | resid pre/mid/post   | blocks.l.hook_resid_*     | [pos?, ·]                  |
 * | group of heads       | attn.hook_z of each layer | [·, {heads of that layer}, ·] |
 *
 * Path patching is not a single activation swap; see path.ts.
 */

/** Indices of one axis taken from the source; null = all of them. */
export type AxisSelect = readonly number[] | null;

export interface PatchSite {
  readonly hook: HookName;
  /** One entry per non-batch axis of the hook. */
  readonly select: readonly AxisSelect[];
}

const all = null;

/**
 * The patch sites of a component (everything but path patching).
 *
 * @example
 * componentSites(config, { kind: "head", layer: 1, head: 3, mode: "z" });
 * // [{ hook: "blocks.1.attn.hook_z", select: [null, [3], null] }]
 */
export function componentSites(config: TSTConfig, component: Component): PatchSite[] {
  validateComponent(config, component);
  const at = (p: number | undefined): AxisSelect => (p === undefined ? all : [p]);
  switch (component.kind) {
    case "head": {
      const { layer, head, position, mode } = component;
      if (mode === "z") return [{ hook: `blocks.${layer}.attn.hook_z`, select: [at(position), [head], all] }];
      const dh = config.dModel / config.heads;
      const dims = Array.from({ length: dh }, (_, i) => head * dh + i);
      return [{ hook: `blocks.${layer}.hook_attn_out`, select: [at(position), dims] }];
    }
    case "attn":
      return [{ hook: `blocks.${component.layer}.hook_attn_out`, select: [at(component.position), all] }];
    case "mlp":
      return [{ hook: `blocks.${component.layer}.hook_mlp_out`, select: [at(component.position), all] }];
    case "resid":
      return [
        {
          hook: `blocks.${component.layer}.hook_resid_${component.point}`,
          select: [at(component.position), all],
        },
      ];
    case "group": {
      const byLayer = new Map<number, number[]>();
      for (const { layer, head } of component.heads)
        byLayer.set(layer, [...(byLayer.get(layer) ?? []), head]);
      const dh = config.dModel / config.heads;
      return [...byLayer.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([layer, heads]) =>
          component.mode === "z"
            ? { hook: `blocks.${layer}.attn.hook_z` as HookName, select: [all, uniqueSorted(heads), all] }
            : {
                hook: `blocks.${layer}.hook_attn_out` as HookName,
                select: [
                  all,
                  uniqueSorted(heads).flatMap((h) => Array.from({ length: dh }, (_, i) => h * dh + i)),
                ],
              },
        );
    }
    case "path":
      throw new Error("componentSites: path patching has no single site; use pathPatch (path.ts)");
  }
}

/**
 * The mask of a site for one batch row: dims (without the batch axis) are 1
 * where the axis is taken whole, so the mask broadcasts to the hook's shape.
 *
 * @example
 * siteMask(config, { hook: "blocks.0.attn.hook_z", select: [null, [2], null] });
 * // { dims: [1, 8, 1], data: Uint8Array [0,0,1,0,0,0,0,0] }
 */
export function siteMask(config: TSTConfig, site: PatchSite): { dims: number[]; data: Uint8Array } {
  const full = hookShape(config, site.hook, 1).slice(1) as number[];
  const dims = full.map((d, i) => (site.select[i] === null ? 1 : d));
  const size = dims.reduce((a, b) => a * b, 1);
  const data = new Uint8Array(size);
  const lists = dims.map((d, i) => site.select[i] ?? Array.from({ length: d }, (_, k) => k));
  const strides = dims.map((_, i) => dims.slice(i + 1).reduce((a, b) => a * b, 1));
  const fill = (axis: number, offset: number) => {
    if (axis === dims.length) {
      data[offset] = 1;
      return;
    }
    for (const k of lists[axis]) fill(axis + 1, offset + k * strides[axis]);
  };
  fill(0, 0);
  return { dims, data };
}

/** Check layer, head and position ranges; an InputError names the component and the valid range. */
export function validateComponent(config: TSTConfig, component: Component): void {
  const layer = (l: number, what: string) => {
    if (!(Number.isInteger(l) && l >= 0 && l < config.layers)) {
      throw inputError(`${what}: layer ${l} does not exist`, {
        field: "component",
        hint: `layers are 0..${config.layers - 1}`,
      });
    }
  };
  const head = (h: number, what: string) => {
    if (!(Number.isInteger(h) && h >= 0 && h < config.heads)) {
      throw inputError(`${what}: head ${h} does not exist`, {
        field: "component",
        hint: `heads are 0..${config.heads - 1}`,
      });
    }
  };
  const position = (p: number | undefined, what: string) => {
    const T = tokenCount(config);
    if (p !== undefined && !(Number.isInteger(p) && p >= 0 && p < T)) {
      throw inputError(`${what}: position ${p} does not exist`, {
        field: "component",
        hint: `positions are tokens 0..${T - 1}`,
      });
    }
  };
  const name = component.kind;
  switch (component.kind) {
    case "head":
      layer(component.layer, name);
      head(component.head, name);
      position(component.position, name);
      return;
    case "attn":
    case "mlp":
    case "resid":
      layer(component.layer, name);
      position(component.position, name);
      return;
    case "group":
      if (component.heads.length === 0)
        throw inputError("a head group must name at least one head", { field: "group" });
      for (const h of component.heads) {
        layer(h.layer, name);
        head(h.head, name);
      }
      return;
    case "path":
      layer(component.sender.layer, "path sender");
      head(component.sender.head, "path sender");
      layer(component.receiver.layer, "path receiver");
      head(component.receiver.head, "path receiver");
      if (component.sender.layer >= component.receiver.layer) {
        throw inputError(
          `path sender ${component.sender.layer}.${component.sender.head} must be in an earlier layer than receiver ${component.receiver.layer}.${component.receiver.head}`,
          { field: "path", hint: "a head can only influence the q/k/v inputs of heads in later layers" },
        );
      }
      return;
  }
}

function uniqueSorted(values: readonly number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}
