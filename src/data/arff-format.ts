/**
 * Parser for Weka `.arff` files as the UEA archive writes them.
 *
 * Multivariate (relational) form: one relational attribute whose nested
 * `@attribute` lines are the time points, then a nominal class attribute. Each
 * case is `'<channel 1>\n<channel 2>\n...',label`: a quoted string in which
 * channels are separated by `\n` (the two characters, or a real newline) and
 * time points by `,`. Unequal-length cases are padded with trailing `?`; the
 * parser trims the `?` that every channel has at the end, so `lengths` are
 * the real lengths.
 *
 * Univariate (flat) form: numeric attributes (the time points) then the
 * nominal class attribute; each case is `v,v,...,label`.
 *
 * Keywords are case-insensitive; `%` starts a comment line. Sparse `{...}`
 * rows are not part of the UEA format and are rejected.
 */
import { inputError } from "../errors.js";
import { buildDataset, nameFromFile } from "./build-dataset.js";
import type { Dataset } from "./dataset.js";
import { type ScanResult, scanNumber } from "./number-scan.js";
import { decodeDataText } from "./text-input.js";
import { clip, type ParseOptions } from "./ts-format.js";

interface Attribute {
  name: string;
  kind: "numeric" | "nominal" | "relational" | "string" | "date";
  values?: string[];
  nested?: Attribute[];
  line: number;
}

/**
 * Parse a UEA `.arff` file (relational multivariate or flat univariate).
 *
 * @example
 * const ds = parseArff(readFileSync("BasicMotions_TRAIN.arff"), { file: "BasicMotions_TRAIN.arff" });
 */
export function parseArff(input: string | Uint8Array, options: ParseOptions = {}): Dataset {
  const file = options.file;
  const text = decodeDataText(input, file, ".arff");
  const end = text.length;
  let pos = 0;
  let line = 0;
  let relation: string | undefined;
  const attributes: Attribute[] = [];
  let open: Attribute | undefined; // relational attribute being declared
  let sawData = false;

  while (pos < end) {
    let next = text.indexOf("\n", pos);
    if (next < 0) next = end;
    line++;
    const content = text.slice(pos, next).trim();
    pos = next + 1;
    if (content === "" || content[0] === "%") continue;
    const where = { file, line };
    if (content[0] !== "@") {
      throw inputError(`found "${clip(content)}" before the @data line`, {
        ...where,
        hint: "an .arff header has @relation, @attribute and @end lines and ends with @data",
      });
    }
    const [keyword, rest] = splitFirst(content);
    switch (keyword.toLowerCase()) {
      case "@relation":
        relation = unquote(rest);
        break;
      case "@attribute": {
        const attribute = parseAttribute(rest, where);
        if (open) {
          if (attribute.kind !== "numeric") {
            throw inputError(
              `attribute "${attribute.name}" inside a relational attribute must be numeric`,
              where,
            );
          }
          open.nested!.push(attribute);
        } else {
          attributes.push(attribute);
          if (attribute.kind === "relational") open = attribute;
        }
        break;
      }
      case "@end":
        if (!open) throw inputError("@end without a relational @attribute", where);
        open = undefined;
        break;
      case "@data":
        sawData = true;
        break;
      default:
        throw inputError(`unknown header keyword "${clip(keyword)}"`, {
          ...where,
          hint: "known keywords: @relation @attribute @end @data",
        });
    }
    if (sawData) break;
  }
  if (!sawData) {
    throw inputError("no @data line: the header never ends", {
      file,
      hint: "an .arff file needs @relation, @attribute lines and then @data",
    });
  }
  if (open) throw inputError(`relational attribute "${open.name}" has no @end line`, { file });
  const classAttribute = attributes[attributes.length - 1];
  if (classAttribute?.kind !== "nominal") {
    throw inputError("the last attribute must be the nominal class attribute, e.g. @attribute class {a,b}", {
      file,
    });
  }
  const inputs = attributes.slice(0, -1);
  const relational = inputs.length === 1 && inputs[0].kind === "relational";
  if (!relational && (inputs.length === 0 || inputs.some((a) => a.kind !== "numeric"))) {
    const bad = inputs.find((a) => a.kind !== "numeric");
    throw inputError(
      bad
        ? `attribute "${bad.name}" (line ${bad.line}) is ${bad.kind}; expected numeric time points or one relational attribute`
        : "no input attributes before the class attribute",
      { file },
    );
  }
  const declared = classAttribute.values!;
  const declaredSet = new Set(declared);

  const values: number[] = [];
  const starts: number[] = [];
  const lengths: number[] = [];
  const lines: number[] = [];
  const labels: string[] = [];
  let channels = relational ? 0 : 1;
  let missing = 0;
  const scan: ScanResult = { value: 0, end: 0 };

  // Records: fields separated by ',', ending at a newline outside quotes.
  while (pos < end) {
    const recordLine = line + 1;
    const { fields, next, lineCount } = readRecord(text, pos, { file, line: recordLine });
    pos = next;
    line += lineCount;
    if (fields.length === 0) continue;
    const fail = (message: string, hint?: string): never => {
      throw inputError(message, { file, line: recordLine, hint });
    };
    const label = fields[fields.length - 1];
    if (!declaredSet.has(label)) {
      fail(`label "${clip(label)}" is not one of the class values {${declared.join(",")}}`);
    }
    let rows: string[];
    if (relational) {
      if (fields.length !== 2) {
        fail(
          `expected a quoted relational value and a label, found ${fields.length} fields`,
          "write 'v,v\\nv,v',label",
        );
      }
      rows = fields[0].split(/\\n|\n/);
    } else {
      if (fields.length !== inputs.length + 1) {
        fail(`expected ${inputs.length} values and a label, found ${fields.length} fields`);
      }
      rows = [fields.slice(0, -1).join(",")];
    }
    if (channels === 0) channels = rows.length;
    if (rows.length !== channels)
      fail(`the case has ${rows.length} channels, expected ${channels} (as the first case)`);
    const steps = relational ? inputs[0].nested!.length : inputs.length;
    const caseValues: number[][] = [];
    for (let c = 0; c < rows.length; c++) {
      const row = rows[c];
      const series: number[] = [];
      let p = 0;
      while (true) {
        while (p < row.length && row.charCodeAt(p) === 32) p++;
        if (row[p] === "?") {
          series.push(Number.NaN);
          p++;
        } else {
          scanNumber(row, p, row.length, scan);
          if (scan.end === p || !Number.isFinite(scan.value)) {
            fail(
              `channel ${c + 1}, value ${series.length + 1}: "${clip(row.slice(p).split(",")[0])}" is not a number`,
            );
          }
          series.push(scan.value);
          p = scan.end;
        }
        while (p < row.length && row.charCodeAt(p) === 32) p++;
        if (p >= row.length) break;
        if (row[p] !== ",") fail(`channel ${c + 1}: "${clip(row.slice(p).split(",")[0])}" is not a number`);
        p++;
      }
      if (series.length !== steps) {
        fail(`channel ${c + 1} has ${series.length} values, the header declares ${steps} time points`);
      }
      caseValues.push(series);
    }
    // Real length: up to the last step where any channel has a value.
    let length = steps;
    while (length > 0 && caseValues.every((s) => Number.isNaN(s[length - 1]))) length--;
    if (length === 0) fail("every value of the case is missing ('?')");
    starts.push(values.length);
    for (const series of caseValues) {
      for (let t = 0; t < length; t++) {
        if (Number.isNaN(series[t])) missing++;
        values.push(series[t]);
      }
    }
    lengths.push(length);
    lines.push(recordLine);
    labels.push(label);
  }
  if (lengths.length === 0) throw inputError("no cases after @data", { file, line });
  return buildDataset({
    name: options.name ?? relation ?? nameFromFile(file),
    file,
    format: "arff",
    channels,
    raw: Float32Array.from(values),
    starts,
    lengths,
    lines,
    labels,
    hasClassLabels: true,
    declaredLabels: declared,
    missing,
    header: {
      problemName: relation,
      univariate: channels === 1,
      dimensions: channels,
      classLabel: true,
      missing: missing > 0,
    },
    labelMap: options.labelMap,
  });
}

function splitFirst(s: string): [string, string] {
  const m = /\s/.exec(s);
  return m ? [s.slice(0, m.index), s.slice(m.index).trim()] : [s, ""];
}

function unquote(s: string): string {
  const t = s.trim();
  if (t.length >= 2 && (t[0] === "'" || t[0] === '"') && t[t.length - 1] === t[0]) return t.slice(1, -1);
  return t;
}

function parseAttribute(rest: string, where: { file?: string; line: number }): Attribute {
  let name: string;
  let type: string;
  const q = rest[0];
  if (q === "'" || q === '"') {
    const close = rest.indexOf(q, 1);
    if (close < 0) throw inputError("unterminated quoted attribute name", where);
    name = rest.slice(1, close);
    type = rest.slice(close + 1).trim();
  } else {
    [name, type] = splitFirst(rest);
  }
  if (name === "" || type === "") throw inputError("@attribute needs a name and a type", where);
  const lower = type.toLowerCase();
  if (type[0] === "{") {
    if (type[type.length - 1] !== "}")
      throw inputError(`nominal values "${clip(type)}" are not closed by '}'`, where);
    const values = type
      .slice(1, -1)
      .split(",")
      .map((v) => unquote(v))
      .filter((v) => v !== "");
    if (values.length === 0) throw inputError(`nominal attribute "${name}" lists no values`, where);
    return { name, kind: "nominal", values, line: where.line };
  }
  if (lower === "numeric" || lower === "real" || lower === "integer")
    return { name, kind: "numeric", line: where.line };
  if (lower === "relational") return { name, kind: "relational", nested: [], line: where.line };
  if (lower === "string") return { name, kind: "string", line: where.line };
  if (lower.startsWith("date")) return { name, kind: "date", line: where.line };
  throw inputError(`unknown attribute type "${clip(type)}"`, {
    ...where,
    hint: "use numeric, relational or a nominal list {a,b,c}",
  });
}

/**
 * Read one data record starting at pos: comma-separated fields, quoted with
 * ' or " (backslash escapes the quote), ending at a newline outside quotes.
 * Blank and `%` lines give no fields.
 */
function readRecord(
  text: string,
  pos: number,
  where: { file?: string; line: number },
): { fields: string[]; next: number; lineCount: number } {
  const fields: string[] = [];
  let lineCount = 1;
  let p = pos;
  const end = text.length;
  while (p < end && (text[p] === " " || text[p] === "\t")) p++;
  if (p >= end || text[p] === "\n" || text[p] === "\r" || text[p] === "%") {
    const nl = text.indexOf("\n", p);
    return { fields, next: nl < 0 ? end : nl + 1, lineCount };
  }
  if (text[p] === "{") throw inputError("sparse rows ({index value, ...}) are not supported", where);
  while (true) {
    while (p < end && (text[p] === " " || text[p] === "\t")) p++;
    const q = text[p];
    let field: string;
    if (q === "'" || q === '"') {
      // Copy the quoted text segment by segment (not char by char): large UEA
      // files hold megabytes inside quotes.
      let s = "";
      p++;
      let segment = p;
      while (true) {
        if (p >= end) {
          throw inputError(`a quoted value is not closed (missing ${q})`, {
            ...where,
            hint: "the file looks truncated",
          });
        }
        const ch = text[p];
        if (ch === "\\" && p + 1 < end && (text[p + 1] === q || text[p + 1] === "\\")) {
          s += text.slice(segment, p) + text[p + 1];
          p += 2;
          segment = p;
          continue;
        }
        if (ch === q) break;
        if (ch === "\n") lineCount++;
        p++;
      }
      s += text.slice(segment, p);
      p++; // closing quote
      field = s.replace(/\r/g, "");
      while (p < end && (text[p] === " " || text[p] === "\t" || text[p] === "\r")) p++;
    } else {
      const start = p;
      while (p < end && text[p] !== "," && text[p] !== "\n") p++;
      field = text.slice(start, p).trim();
    }
    fields.push(field);
    if (p >= end) return { fields, next: end, lineCount };
    if (text[p] === "\n") return { fields, next: p + 1, lineCount };
    if (text[p] !== ",")
      throw inputError(`unexpected "${clip(text.slice(p, p + 10))}" after a quoted value`, where);
    p++;
  }
}
