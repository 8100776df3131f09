import { inputError } from "../errors.js";
import { type TSTConfig, tokenCount } from "../model/config.js";
import { validateComponent } from "./setters.js";
import type { Component, HeadMode, HeadRef, ReceiverInput } from "./types.js";

/**
 * Named component sets for sweeps (`--components heads,layers,mlp,...`): each
 * expands to every component of one kind in a model.
 */
export const PRESETS = {
  /** Every head (L×H runs per pair). */
  heads: "every attention head",
  /** Every whole attention layer (`hook_attn_out`). */
  layers: "every attention layer output",
  mlp: "every MLP output",
  "resid-pre": "the whole residual stream before each layer",
  "resid-mid": "the whole residual stream between attention and MLP of each layer",
  "resid-post": "the whole residual stream after each layer",
  "head-pos": "every head at every time step",
  "layer-pos": "every attention layer output at every time step",
  "mlp-pos": "every MLP output at every time step",
  "resid-pos": "the residual stream before each layer at each time step (causal tracing)",
  "path-q": "every sender head → query input of every later head",
  "path-k": "every sender head → key input of every later head",
  "path-v": "every sender head → value input of every later head",
} as const;

export type PresetName = keyof typeof PRESETS;

export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/**
 * Expand a preset into its components.
 *
 * @example
 * presetComponents(config, "heads", "z").length; // 24 for 3 layers × 8 heads
 */
export function presetComponents(config: TSTConfig, preset: PresetName, mode: HeadMode = "z"): Component[] {
  const { layers: L, heads: H } = config;
  const S = tokenCount(config);
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  const out: Component[] = [];
  switch (preset) {
    case "heads":
      for (const layer of range(L))
        for (const head of range(H)) out.push({ kind: "head", layer, head, mode });
      return out;
    case "layers":
      return range(L).map((layer) => ({ kind: "attn", layer }));
    case "mlp":
      return range(L).map((layer) => ({ kind: "mlp", layer }));
    case "resid-pre":
    case "resid-mid":
    case "resid-post": {
      const point = preset.slice(6) as "pre" | "mid" | "post";
      return range(L).map((layer) => ({ kind: "resid", layer, point }));
    }
    case "head-pos":
      for (const layer of range(L))
        for (const head of range(H))
          for (const position of range(S)) out.push({ kind: "head", layer, head, mode, position });
      return out;
    case "layer-pos":
      for (const layer of range(L))
        for (const position of range(S)) out.push({ kind: "attn", layer, position });
      return out;
    case "mlp-pos":
      for (const layer of range(L))
        for (const position of range(S)) out.push({ kind: "mlp", layer, position });
      return out;
    case "resid-pos":
      for (const layer of range(L))
        for (const position of range(S)) out.push({ kind: "resid", layer, point: "pre", position });
      return out;
    case "path-q":
    case "path-k":
    case "path-v": {
      const input = preset.slice(5) as ReceiverInput;
      for (const ls of range(L))
        for (const hs of range(H))
          for (let lr = ls + 1; lr < L; lr++)
            for (const hr of range(H)) {
              out.push({
                kind: "path",
                sender: { layer: ls, head: hs },
                receiver: { layer: lr, head: hr },
                input,
              });
            }
      return out;
    }
  }
}

/**
 * Parse `--components` ("heads,layers,mlp") into components, in the order given.
 *
 * @example
 * parseComponents(config, "heads,mlp", "z").length; // 27
 */
export function parseComponents(config: TSTConfig, list: string, mode: HeadMode = "z"): Component[] {
  const names = list
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (names.length === 0) {
    throw inputError("no components given", {
      field: "--components",
      hint: `use some of: ${PRESET_NAMES.join(", ")}`,
    });
  }
  const out: Component[] = [];
  for (const name of names) {
    if (!(name in PRESETS)) {
      throw inputError(`unknown component set "${name}"`, {
        field: "--components",
        hint: `use some of: ${PRESET_NAMES.join(", ")}`,
      });
    }
    out.push(...presetComponents(config, name as PresetName, mode));
  }
  return out;
}

/**
 * Parse head groups: groups separated by ";", heads "layer.head" joined by "+"
 * ("0.1+0.5;2.3" = two groups).
 *
 * @example
 * parseGroups(config, "0.1+0.5;2.3", "z"); // two group components
 */
export function parseGroups(config: TSTConfig, text: string, mode: HeadMode = "z"): Component[] {
  return text
    .split(";")
    .map((g) => g.trim())
    .filter((g) => g !== "")
    .map((g) => {
      const heads: HeadRef[] = g.split("+").map((h) => {
        const m = /^\s*(\d+)\.(\d+)\s*$/.exec(h);
        if (m === null) {
          throw inputError(`bad head "${h}" in group "${g}"`, {
            field: "--groups",
            hint: 'write heads as layer.head joined by "+", groups separated by ";", e.g. "0.1+0.5;2.3"',
          });
        }
        return { layer: Number(m[1]), head: Number(m[2]) };
      });
      const component: Component = { kind: "group", heads, mode };
      validateComponent(config, component);
      return component;
    });
}

/** A row's component columns: kind name, layer, head, position and a detail string. */
export interface ComponentColumns {
  component: string;
  layer: number | null;
  head: number | null;
  position: number | null;
  detail: string;
}

/**
 * How a component appears in the effects CSV.
 *
 * @example
 * componentColumns({ kind: "resid", layer: 1, point: "pre", position: 4 });
 * // { component: "resid_pre", layer: 1, head: null, position: 4, detail: "" }
 */
export function componentColumns(c: Component): ComponentColumns {
  const pos = (p: number | undefined) => (p === undefined ? null : p);
  switch (c.kind) {
    case "head":
      return { component: "head", layer: c.layer, head: c.head, position: pos(c.position), detail: "" };
    case "attn":
    case "mlp":
      return { component: c.kind, layer: c.layer, head: null, position: pos(c.position), detail: "" };
    case "resid":
      return {
        component: `resid_${c.point}`,
        layer: c.layer,
        head: null,
        position: pos(c.position),
        detail: "",
      };
    case "group":
      return {
        component: "group",
        layer: null,
        head: null,
        position: null,
        detail: c.heads.map((h) => `${h.layer}.${h.head}`).join("+"),
      };
    case "path":
      return {
        component: `path_${c.input}`,
        layer: c.receiver.layer,
        head: c.receiver.head,
        position: null,
        detail: `${c.sender.layer}.${c.sender.head}->${c.receiver.layer}.${c.receiver.head}`,
      };
  }
}
