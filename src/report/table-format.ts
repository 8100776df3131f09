import { html, type SafeHtml } from "./html.js";

/**
 * Tables as data, rendered three ways: CSV (full precision, for analysis), Markdown (for READMEs
 * and notes) and HTML (the report). A cell that is undefined is `null` and shows as "n/a" (empty in
 * CSV), never as NaN; the table's notes say why.
 */

export type Cell = string | number | boolean | null;

/** How a column's numbers are shown: `p` switches to scientific notation below 0.001. */
export type ColumnKind = "text" | "int" | "num" | "p" | "bool";

export interface Column {
  readonly label: string;
  readonly kind: ColumnKind;
}

export interface Table {
  /** File-safe identifier, e.g. "denoise-heads". */
  readonly id: string;
  readonly title: string;
  readonly columns: readonly Column[];
  readonly rows: readonly (readonly Cell[])[];
  /** Footnotes shown under the table. */
  readonly notes?: readonly string[];
}

/**
 * A cell as display text: 4 significant digits, p-values below 0.001 in scientific notation,
 * booleans as yes/no, null as "n/a".
 *
 * @example
 * formatCell(0.000012, "p"); // "1.2e-5"
 */
export function formatCell(value: Cell, kind: ColumnKind): string {
  if (value === null) return "n/a";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "string") return value;
  if (!Number.isFinite(value)) return "n/a";
  if (kind === "int" || Number.isInteger(value)) return String(value);
  if (kind === "p" && value < 0.001) return value.toExponential(1).replace("e-0", "e-");
  const text =
    Math.abs(value) >= 1e5 || (value !== 0 && Math.abs(value) < 1e-4)
      ? value.toExponential(3)
      : value.toPrecision(4);
  return text.includes("e") || !text.includes(".") ? text : text.replace(/\.?0+$/, "");
}

/**
 * RFC 4180 CSV: a header row, numbers at full precision, null as an empty field.
 *
 * @example
 * writeFileAtomic("tables/denoise-heads.csv", tableToCsv(table));
 */
export function tableToCsv(table: Table): string {
  const lines = [table.columns.map((c) => csvField(c.label))];
  for (const row of table.rows) {
    lines.push(
      row.map((v) => csvField(v === null || (typeof v === "number" && !Number.isFinite(v)) ? "" : String(v))),
    );
  }
  return `${lines.map((l) => l.join(",")).join("\r\n")}\r\n`;
}

/**
 * A GitHub-flavoured Markdown table with its title as a heading and its notes below.
 *
 * @example
 * writeFileAtomic("tables/denoise-heads.md", tableToMarkdown(table));
 */
export function tableToMarkdown(table: Table): string {
  const cell = (text: string) => text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
  const header = `| ${table.columns.map((c) => cell(c.label)).join(" | ")} |`;
  const rule = `| ${table.columns.map((c) => (c.kind === "text" || c.kind === "bool" ? "---" : "---:")).join(" | ")} |`;
  const body = table.rows.map(
    (row) => `| ${row.map((v, j) => cell(formatCell(v, table.columns[j].kind))).join(" | ")} |`,
  );
  const notes = (table.notes ?? []).map((n) => `\n${cell(n)}`);
  return `### ${cell(table.title)}\n\n${[header, rule, ...body].join("\n")}\n${notes.join("\n")}${notes.length ? "\n" : ""}`;
}

/**
 * The table as an HTML `<table>` with a caption and footnotes; numbers right-aligned.
 *
 * @example
 * html`<section>${tableToHtml(table)}</section>`;
 */
export function tableToHtml(table: Table): SafeHtml {
  const numeric = table.columns.map((c) => c.kind !== "text" && c.kind !== "bool");
  return html`<figure class="table" id="table-${table.id}">
<table>
<caption>${table.title}</caption>
<thead><tr>${table.columns.map((c, j) => html`<th${numeric[j] ? html` class="num"` : ""} scope="col">${c.label}</th>`)}</tr></thead>
<tbody>
${table.rows.map((row) => html`<tr>${row.map((v, j) => html`<td${numeric[j] ? html` class="num"` : ""}>${formatCell(v, table.columns[j].kind)}</td>`)}</tr>\n`)}</tbody>
</table>
${(table.notes ?? []).length > 0 ? html`<figcaption>${(table.notes ?? []).map((n) => html`<p>${n}</p>`)}</figcaption>` : ""}
</figure>
`;
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
