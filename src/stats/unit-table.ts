/**
 * Read the `unit-table` format, what the statistics take: a header of hypothesis names, then one
 * row per unit (e.g. one target input), one column per hypothesis; an empty cell (or NA / NaN) is
 * a missing value for that column. (A sweep writes the other format, `effects-long`: one line per
 * pair × component; see patching/effects-long.ts.) Every problem is an InputError naming the
 * file, line and column, with the fix.
 */
import { inputError } from "../errors.js";

export interface UnitTableColumn {
  readonly name: string;
  /** The column's values with missing cells removed. */
  readonly values: Float64Array;
}

/** Split one CSV line, honouring double quotes ("" inside quotes is a quote). */
function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      fields.push(field);
      field = "";
    } else field += ch;
  }
  fields.push(field);
  return fields;
}

const MISSING = /^(|na|nan)$/i;

/**
 * Parse `unit-table` CSV text into columns.
 *
 * @example
 * parseUnitTable("L0H0,L0H1\n0.1,0.2\n0.3,\n0.2,0.5\n", "effects.csv");
 * // [{ name: "L0H0", values: [0.1, 0.3, 0.2] }, { name: "L0H1", values: [0.2, 0.5] }]
 */
export function parseUnitTable(text: string, file: string): UnitTableColumn[] {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === "") lines.pop();
  if (lines.length === 0) {
    throw inputError("the file is empty", {
      file,
      hint: "write a header of hypothesis names, then one row per unit",
    });
  }
  const names = splitCsvLine(lines[0]).map((s) => s.trim());
  const seen = new Set<string>();
  names.forEach((name, j) => {
    if (name === "") {
      throw inputError(`column ${j + 1} has an empty name`, {
        file,
        line: 1,
        hint: "give every column a name",
      });
    }
    if (seen.has(name)) {
      throw inputError(`column name "${name}" appears twice`, {
        file,
        line: 1,
        field: name,
        hint: "make column names unique",
      });
    }
    seen.add(name);
  });
  const values: number[][] = names.map(() => []);
  for (let r = 1; r < lines.length; r++) {
    const line = lines[r];
    const lineNumber = r + 1;
    if (line.trim() === "") {
      throw inputError("blank line inside the table", {
        file,
        line: lineNumber,
        hint: "remove it, or write empty cells separated by commas",
      });
    }
    const cells = splitCsvLine(line);
    if (cells.length !== names.length) {
      throw inputError(`row has ${cells.length} cells but the header has ${names.length}`, {
        file,
        line: lineNumber,
        hint: "every row needs one cell per column (leave a cell empty for a missing value)",
      });
    }
    cells.forEach((raw, j) => {
      const cell = raw.trim();
      if (MISSING.test(cell)) return;
      const value = Number(cell);
      if (!Number.isFinite(value)) {
        throw inputError(`"${cell}" is not a finite number`, {
          file,
          line: lineNumber,
          field: `column "${names[j]}"`,
          hint: "use plain decimal numbers; leave the cell empty for a missing value",
        });
      }
      values[j].push(value);
    });
  }
  return names.map((name, j) => {
    if (values[j].length < 2) {
      throw inputError(
        `column "${name}" has ${values[j].length} value${values[j].length === 1 ? "" : "s"}; at least 2 are needed`,
        {
          file,
          field: `column "${name}"`,
          hint: "drop the column or add units",
        },
      );
    }
    return { name, values: Float64Array.from(values[j]) };
  });
}
