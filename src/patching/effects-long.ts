import { indexToLabel, type LabelMap } from "../data/labels.js";
import { componentColumns } from "./presets.js";
import type { EffectRow } from "./sweep.js";
import type { Component } from "./types.js";

/**
 * The `effects-long` format, what a sweep writes: one line per (pair, direction, component),
 * with the pair, the component and every metric as columns. (The statistics read the other
 * format, `unit-table`: one row per unit, one column per hypothesis; see stats/unit-table.ts.)
 * Empty cells mean "does not apply" (layer of a group, position of a whole-sequence
 * patch) or "undefined" (recovery when |M_source − M_target| < epsilon, see
 * metrics.ts); the table never holds NaN.
 */
export const EFFECTS_LONG_COLUMNS = [
  "pair_id",
  "source",
  "target",
  "true_label",
  "direction",
  "component",
  "layer",
  "head",
  "position",
  "detail",
  "head_mode",
  "dp_true",
  "recovery",
  "logit_diff",
  "d_logit_diff",
  "kl_source",
] as const;

/**
 * Render effect rows in the `effects-long` format as CSV text (header + one line per row, `\n`
 * line ends).
 *
 * @example
 * writeFileAtomic("effects.csv", effectsLongCsv(result.rows, inputs.labelMap));
 */
export function effectsLongCsv(rows: readonly EffectRow[], labelMap: LabelMap | null): string {
  const lines = [EFFECTS_LONG_COLUMNS.join(",")];
  for (const r of rows) {
    const c = componentColumns(r.component);
    const label =
      labelMap === null ? String(r.pair.trueClass) : (indexToLabel(labelMap, r.pair.trueClass) ?? "");
    lines.push(
      [
        r.pair.id,
        r.pair.source,
        r.pair.target,
        csvText(label),
        r.pair.direction,
        c.component,
        cell(c.layer),
        cell(c.head),
        cell(c.position),
        csvText(c.detail),
        headMode(r.component),
        cell(r.dpTrue),
        cell(r.recovery),
        cell(r.logitDiff),
        cell(r.dLogitDiff),
        cell(r.klSource),
      ].join(","),
    );
  }
  return `${lines.join("\n")}\n`;
}

function headMode(c: Component): string {
  return c.kind === "head" || c.kind === "group" ? c.mode : "";
}

/** A number in shortest round-trip form; null and non-finite values become an empty cell. */
function cell(value: number | null): string {
  return value === null || !Number.isFinite(value) ? "" : String(value);
}

function csvText(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
