/**
 * One CSV cell: a finite number in shortest round-trip form (anything else numeric is an empty
 * cell, never NaN), text quoted when it holds a comma, quote or line break (RFC 4180).
 *
 * @example
 * csvCell('a,"b"'); // "\"a,\"\"b\"\"\""
 */
export function csvCell(value: unknown): string {
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * One CSV line (no line end).
 *
 * @example
 * csvLine([3, "a", 0.5]); // "3,a,0.5"
 */
export function csvLine(values: readonly unknown[]): string {
  return values.map(csvCell).join(",");
}
