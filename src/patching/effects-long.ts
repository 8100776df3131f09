import { splitCsvLine } from "../csv-line.js";
import { indexToLabel, type LabelMap } from "../data/labels.js";
import { inputError } from "../errors.js";
import { componentColumns } from "./presets.js";
import type { EffectRow } from "./sweep.js";
import type { Component } from "./types.js";

/** The pair and the component: with the metrics, the columns every reader needs. */
const PAIR_COMPONENT_COLUMNS = [
  "pair_id",
  "source",
  "target",
  "true_label",
  "direction",
  "component",
  "layer",
  "head",
] as const;
/** The metric columns of the effects table, in file order. */
export const EFFECT_METRIC_COLUMNS = [
  "dp_true",
  "recovery",
  "logit_diff",
  "d_logit_diff",
  "kl_source",
] as const;

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
  ...PAIR_COMPONENT_COLUMNS,
  "position",
  "detail",
  "head_mode",
  ...EFFECT_METRIC_COLUMNS,
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
  /** null for an empty cell or, read with `columns: "required"`, a table without the column. */
  readonly position: number | null;
  /** "" for an empty cell or a missing column (as head_mode, align and status). */
  readonly detail: string;
  readonly headMode: string;
  /** Metric columns (dp_true, recovery, logit_diff, d_logit_diff, kl_source); null = empty cell. */
  readonly metrics: Readonly<Record<string, number | null>>;
  /** How the pair was aligned, the share of the target's real steps patched, and the row's status. */
  readonly align: string;
  readonly overlap: number | null;
  readonly status: string;
}

/** The columns a table must have when read with `columns: "required"`. */
export const EFFECTS_LONG_REQUIRED_COLUMNS = [...PAIR_COMPONENT_COLUMNS, ...EFFECT_METRIC_COLUMNS] as const;

export interface EffectsLongReadOptions {
  /**
   * "all" (default): the header must be exactly the sweep's, as for files the study wrote itself.
   * "required": the columns may come in any order, with others, and only
   * {@link EFFECTS_LONG_REQUIRED_COLUMNS} must be there (hand-made or older tables); the missing
   * optional columns read as empty cells.
   */
  readonly columns?: "all" | "required";
}

/** True when a CSV header line is the long-format effects table's. */
export function isEffectsLongHeader(headerLine: string): boolean {
  return headerLine.replace(/^\uFEFF/, "").trim() === EFFECTS_LONG_COLUMNS.join(",");
}

/**
 * Parse the long-format effects table written by {@link effectsLongCsv} (numbers round-trip
 * exactly). Cells are read without surrounding blanks; every error names the file, the line and
 * the column.
 *
 * @example
 * const lines = parseEffectsLong(readFileSync("effects/heads.csv", "utf8"), "effects/heads.csv");
 */
export function parseEffectsLong(
  text: string,
  file: string,
  options: EffectsLongReadOptions = {},
): EffectLine[] {
  const strict = (options.columns ?? "all") === "all";
  const hint = strict
    ? "the file was cut or edited; re-run the sweep"
    : "use the CSV written by `tspatch sweep`";
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === "") lines.pop();
  if (strict && (lines.length === 0 || !isEffectsLongHeader(lines[0]))) {
    throw inputError("not a long-format effects table (the header differs)", {
      file,
      line: 1,
      hint: `the first line must be ${EFFECTS_LONG_COLUMNS.join(",")} (as tspatch sweep writes it)`,
    });
  }
  const header = splitCsvLine(lines[0] ?? "").map((s) => s.trim());
  const col = new Map(header.map((n, j) => [n, j]));
  for (const name of EFFECTS_LONG_REQUIRED_COLUMNS) {
    if (!col.has(name)) {
      throw inputError(`the long effects table has no column "${name}"`, {
        file,
        line: 1,
        field: name,
        hint,
      });
    }
  }
  // Column positions by name, looked up once per cell (a plain object: faster than the Map per cell).
  const position: Record<string, number | undefined> = Object.assign(
    Object.create(null),
    Object.fromEntries(col),
  );
  const out: EffectLine[] = [];
  for (let r = 1; r < lines.length; r++) {
    const line = r + 1;
    const cells = splitCsvLine(lines[r]).map((s) => s.trim());
    if (cells.length !== header.length) {
      throw inputError(`row has ${cells.length} cells but the header has ${header.length}`, {
        file,
        line,
        hint,
      });
    }
    const at = (name: string) => {
      const j = position[name];
      return j === undefined ? "" : cells[j];
    };
    const index = (name: string): number => {
      const raw = at(name);
      if (!/^\d+$/.test(raw)) {
        throw inputError(`"${raw}" is not a row index`, {
          file,
          line,
          field: name,
          hint: "a non-negative integer",
        });
      }
      return Number(raw);
    };
    const number = (name: string): number | null => {
      const raw = at(name);
      if (raw === "") return null;
      const value = Number(raw);
      if (!Number.isFinite(value)) {
        throw inputError(`"${raw}" is not a finite number`, {
          file,
          line,
          field: name,
          hint: `leave the cell empty when undefined; ${hint}`,
        });
      }
      return value;
    };
    const metrics: Record<string, number | null> = {};
    for (const m of EFFECT_METRIC_COLUMNS) metrics[m] = number(m);
    out.push({
      pairId: index("pair_id"),
      source: index("source"),
      target: index("target"),
      trueLabel: at("true_label"),
      direction: at("direction"),
      component: at("component"),
      layer: number("layer"),
      head: number("head"),
      position: number("position"),
      detail: at("detail"),
      headMode: at("head_mode"),
      metrics,
      align: at("align"),
      overlap: number("overlap"),
      status: at("status"),
    });
  }
  return out;
}
