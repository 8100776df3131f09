/**
 * A plain text table for terminals: a header, a rule of dashes, then the rows;
 * columns two spaces apart. By default numeric columns are right-aligned and
 * text columns left-aligned.
 *
 * @example
 * textTable(["split", "cases"], [["train", "270"], ["test", "370"]]);
 * // split  cases
 * // -----  -----
 * // train    270
 * // test     370
 */
export function textTable(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly ("left" | "right")[] = head.map((_, k) =>
    rows.length > 0 && rows.every((r) => /^-?[\d.e+-]+$|^\d+\.\.\d+$/.test(r[k] ?? "")) ? "right" : "left",
  ),
): string {
  const widths = head.map((h, k) => Math.max(h.length, ...rows.map((r) => (r[k] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, k) => (align[k] === "right" ? cell.padStart(widths[k]) : cell.padEnd(widths[k])))
      .join("  ")
      .trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
