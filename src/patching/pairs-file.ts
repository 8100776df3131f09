import { inputError } from "../errors.js";

/**
 * Read a pairs file: CSV with a header naming at least the columns `source`
 * and `target` (0-based row indices of the data file); other columns (e.g.
 * `dataset`, `true_label` of the study's study_pairs.csv) are ignored, except
 * that a `dataset` column, when `dataset` is given, keeps only that dataset's rows
 * (compared without case, `_eq`, `_TRAIN`/`_TEST` and extension: "JapaneseVowels"
 * matches "JapaneseVowels_eq_TEST.ts").
 *
 * @param rows number of rows of the data file (indices must be below it)
 * @example
 * parsePairsFile("source,target\n58,31\n", "pairs.csv", 370); // [{ source: 58, target: 31, line: 2 }]
 */
export function parsePairsFile(
  text: string,
  file: string,
  rows: number,
  options: { dataset?: string } = {},
): { source: number; target: number; line: number }[] {
  const lines = text.split(/\r?\n/);
  const header = lines[0].split(",").map((h) => h.trim().toLowerCase());
  const si = header.indexOf("source");
  const ti = header.indexOf("target");
  const di = header.indexOf("dataset");
  if (si < 0 || ti < 0) {
    throw inputError(`the header has no "source" and "target" columns (found: ${lines[0]})`, {
      file,
      line: 1,
      hint: "the first line must name the columns, e.g. source,target",
    });
  }
  const out: { source: number; target: number; line: number }[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i].trim() === "") continue;
    const cells = lines[i].split(",").map((c) => c.trim());
    const needed = Math.max(si, ti, di) + 1;
    if (cells.length < needed) {
      throw inputError(
        `the row has ${cells.length} cell${cells.length === 1 ? "" : "s"}, the header names ${header.length} columns`,
        {
          file,
          line: i + 1,
          field: header[cells.length],
          hint: `give every row the header's columns (${header.join(",")})`,
        },
      );
    }
    if (di >= 0 && options.dataset !== undefined && datasetKey(cells[di]) !== datasetKey(options.dataset))
      continue;
    const read = (index: number, name: string): number => {
      const text = cells[index] ?? "";
      const value = Number(text);
      if (!/^\d+$/.test(text) || value >= rows) {
        throw inputError(`${name} "${text}" is not a row of the data file`, {
          file,
          line: i + 1,
          field: name,
          hint: `use 0-based row indices 0..${rows - 1}`,
        });
      }
      return value;
    };
    out.push({ source: read(si, "source"), target: read(ti, "target"), line: i + 1 });
  }
  if (out.length === 0) {
    if (options.dataset !== undefined && di >= 0) {
      const names = [
        ...new Set(
          lines
            .slice(1)
            .map((l) => l.split(",")[di]?.trim())
            .filter((n) => n),
        ),
      ];
      throw inputError(`no pairs for dataset "${options.dataset}"`, {
        file,
        hint: `the file lists ${names.join(", ")}; choose one with --pairs-dataset`,
      });
    }
    throw inputError("the pairs file lists no pairs", {
      file,
      hint: "add lines of source,target row indices",
    });
  }
  return out;
}

function datasetKey(name: string): string {
  return name
    .trim()
    .replace(/^.*[\\/]/, "")
    .replace(/\.(ts|arff)$/i, "")
    .replace(/_(TRAIN|TEST)/gi, "")
    .replace(/_eq/gi, "")
    .toLowerCase();
}
