import { splitCsvLine } from "../csv-line.js";
import { indexToLabel, type LabelMap } from "../data/labels.js";
import { inputError } from "../errors.js";
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
 *
 * The last columns say how the pair was aligned (align.ts): `align`, the real steps of
 * source and target, `overlap` (share of the target's real steps patched), and `status`:
 * `ok`; `not_applicable` (a position that is padding in either input: every metric cell
 * is empty, so a reader that skips empty cells leaves the row out of statistics); or
 * `no_overlap` (no shared real step: effect 0, flagged).
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
  "align",
  "source_steps",
  "target_steps",
  "overlap",
  "status",
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
        r.align,
        r.sourceSteps,
        r.targetSteps,
        cell(r.overlap),
        r.status,
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

/** One line of the long-format effects table, as read back. */
export interface EffectLine {
  readonly pairId: number;
  readonly source: number;
  readonly target: number;
  readonly trueLabel: string;
  readonly direction: string;
  readonly component: string;
  readonly layer: number | null;
  readonly head: number | null;
  readonly position: number | null;
  readonly detail: string;
  readonly headMode: string;
  /** Metric columns (dp_true, recovery, logit_diff, d_logit_diff, kl_source); null = empty cell. */
  readonly metrics: Readonly<Record<string, number | null>>;
  /** How the pair was aligned, the share of the target's real steps patched, and the row's status. */
  readonly align: string;
  readonly overlap: number | null;
  readonly status: string;
}

const METRIC_NAMES = ["dp_true", "recovery", "logit_diff", "d_logit_diff", "kl_source"] as const;

/** True when a CSV header line is the long-format effects table's. */
export function isEffectsLongHeader(headerLine: string): boolean {
  return headerLine.replace(/^\uFEFF/, "").trim() === EFFECTS_LONG_COLUMNS.join(",");
}

/**
 * Parse the long-format effects table written by {@link effectsLongCsv} (numbers round-trip exactly).
 *
 * @example
 * const lines = parseEffectsLong(readFileSync("effects/heads.csv", "utf8"), "effects/heads.csv");
 */
export function parseEffectsLong(text: string, file: string): EffectLine[] {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  if (lines.length === 0 || !isEffectsLongHeader(lines[0])) {
    throw inputError("not a long-format effects table (the header differs)", {
      file,
      line: 1,
      hint: `the first line must be ${EFFECTS_LONG_COLUMNS.join(",")} (as tspatch sweep writes it)`,
    });
  }
  const out: EffectLine[] = [];
  for (let r = 1; r < lines.length; r++) {
    const cells = splitCsvLine(lines[r]);
    if (cells.length !== EFFECTS_LONG_COLUMNS.length) {
      throw inputError(`row has ${cells.length} cells, the header ${EFFECTS_LONG_COLUMNS.length}`, {
        file,
        line: r + 1,
        hint: "the file was cut or edited; re-run the sweep",
      });
    }
    const at = (name: (typeof EFFECTS_LONG_COLUMNS)[number]) => cells[EFFECTS_LONG_COLUMNS.indexOf(name)];
    const number = (name: (typeof EFFECTS_LONG_COLUMNS)[number], optional: boolean): number | null => {
      const raw = at(name);
      if (raw === "" && optional) return null;
      const value = Number(raw);
      if (raw === "" || !Number.isFinite(value)) {
        throw inputError(`"${raw}" is not a number`, {
          file,
          line: r + 1,
          field: name,
          hint: "the file was cut or edited; re-run the sweep",
        });
      }
      return value;
    };
    const metrics: Record<string, number | null> = {};
    for (const m of METRIC_NAMES) metrics[m] = number(m, true);
    out.push({
      pairId: number("pair_id", false) as number,
      source: number("source", false) as number,
      target: number("target", false) as number,
      trueLabel: at("true_label"),
      direction: at("direction"),
      component: at("component"),
      layer: number("layer", true),
      head: number("head", true),
      position: number("position", true),
      detail: at("detail"),
      headMode: at("head_mode"),
      metrics,
      align: at("align"),
      overlap: number("overlap", true),
      status: at("status"),
    });
  }
  return out;
}
