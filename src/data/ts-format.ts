/**
 * Parser for the UEA / sktime `.ts` time-series format.
 *
 * Format (sktime `load_from_tsfile`, aeon `load_from_ts_file`): `#` comment
 * lines; a header of `@key value` lines (keys in any case) ending with
 * `@data`; then one case per line: channels separated by `:`, values inside a
 * channel by `,`, `?` for a missing value, the class label (or regression
 * target) as the last field. With `@timeStamps true` values are written as
 * `(timestamp,value)` tuples; tspatch keeps the values in order and drops
 * the timestamps.
 */
import { inputError } from "../errors.js";
import { buildDataset, nameFromFile } from "./build-dataset.js";
import type { Dataset, DatasetHeader } from "./dataset.js";
import type { LabelMapKind } from "./labels.js";
import { type ScanResult, scanNumber } from "./number-scan.js";
import { decodeHeadAndBody } from "./text-input.js";

export interface ParseOptions {
  /** Path used in error messages and recorded in the dataset. */
  file?: string;
  /** Dataset name (default: `@problemName`, else from the file name). */
  name?: string;
  /** Label map kind (default "dense"). */
  labelMap?: LabelMapKind;
}

const HEADER_KEYS = [
  "@problemName",
  "@timeStamps",
  "@missing",
  "@univariate",
  "@dimensions",
  "@equalLength",
  "@seriesLength",
  "@classLabel",
  "@targetLabel",
  "@data",
];

const NUMBER_HINT = "values are decimal numbers separated by ',' and '?' for a missing value";

const CH_COMMA = 44;
const CH_COLON = 58;
const CH_SPACE = 32;
const CH_TAB = 9;
const CH_CR = 13;
const CH_QUESTION = 63;
const CH_LPAREN = 40;
const CH_RPAREN = 41;
const CH_HASH = 35;
const CH_N = 78;
const CH_LOWER_N = 110;

interface HeaderState extends DatasetHeader {
  labels: string[];
}

/**
 * Parse a `.ts` file (bytes or text) into a {@link Dataset}.
 * Throws an InputError naming the file, line and problem on malformed input.
 *
 * @example
 * const train = parseTs(readFileSync("LSST_TRAIN.ts"), { file: "LSST_TRAIN.ts" });
 * train.cases; // 2459
 */
export function parseTs(input: string | Uint8Array, options: ParseOptions = {}): Dataset {
  const file = options.file;
  const { head, body } = decodeHeadAndBody(input, file, ".ts");
  let text = head;
  let end = text.length;
  const header: HeaderState = { labels: [] };
  let pos = 0;
  let line = 0;
  let sawData = false;

  // Header: everything up to @data.
  while (pos < end) {
    let next = text.indexOf("\n", pos);
    if (next < 0) next = end;
    line++;
    const raw = text.slice(pos, next);
    pos = next + 1;
    const content = raw.trim();
    if (content === "" || content.charCodeAt(0) === CH_HASH) continue;
    if (content[0] !== "@") {
      throw inputError(`found "${clip(content)}" before the @data line`, {
        file,
        line,
        hint: "a .ts header has only @key lines and # comments and must end with a line @data",
      });
    }
    const space = content.search(/\s/);
    const keyword = (space < 0 ? content : content.slice(0, space)).toLowerCase();
    const value = space < 0 ? "" : content.slice(space).trim();
    if (keyword === "@data") {
      sawData = true;
      break;
    }
    readHeaderLine(header, keyword, value, { file, line });
  }
  if (!sawData) {
    throw inputError("no @data line: the header never ends", {
      file,
      hint: "a .ts file needs a header ending with a line @data, followed by one case per line",
    });
  }
  const hasClassLabels = header.classLabel === true;
  const hasTarget = header.targetLabel === true;
  if (header.classLabel === undefined && header.targetLabel === undefined) {
    throw inputError("the header has no @classLabel line", {
      file,
      hint: "add `@classLabel true <label> <label> ...` (or `@classLabel false` if the cases have no label) before @data",
    });
  }
  if (hasClassLabels && hasTarget) {
    throw inputError("the header sets both @classLabel true and @targetLabel true", {
      file,
      hint: "a case ends with either a class label or a regression target, not both",
    });
  }
  if (header.univariate === true && header.dimensions !== undefined && header.dimensions !== 1) {
    throw inputError(`@univariate true contradicts @dimensions ${header.dimensions}`, { file });
  }
  const declaredLabelSet = new Set(header.labels);
  let channels = header.dimensions ?? (header.univariate ? 1 : 0);
  const channelsDeclared = channels > 0;
  const fixedLength =
    header.equalLength === true && header.seriesLength !== undefined ? header.seriesLength : 0;

  // The data section is scanned as its own string; line numbers continue.
  // (If the quick byte-level split missed @data, the rest of `head` is data too.)
  text = pos < head.length ? head.slice(pos) + body : body;
  end = text.length;
  pos = 0;
  const endsWithNewline = end === 0 || text.charCodeAt(end - 1) === 10;

  // Data: every value lands in `raw` channel-major per case. A value takes at
  // least two characters ("1,"), so half the remaining text bounds the count.
  const raw = new Float32Array(Math.ceil((end - pos) / 2) + 1);
  let count = 0;
  const starts: number[] = [];
  const lengths: number[] = [];
  const lines: number[] = [];
  const labels: string[] = [];
  const targets: number[] = [];
  let missing = 0;
  const scan: ScanResult = { value: 0, end: 0 };

  while (pos < end) {
    let lineEnd = text.indexOf("\n", pos);
    const isLast = lineEnd < 0 || lineEnd === end - 1;
    if (lineEnd < 0) lineEnd = end;
    line++;
    const lineStart = pos;
    pos = lineEnd + 1;
    let stop = lineEnd;
    if (stop > lineStart && text.charCodeAt(stop - 1) === CH_CR) stop--;
    let first = lineStart;
    while (first < stop && isSpace(text.charCodeAt(first))) first++;
    while (stop > first && isSpace(text.charCodeAt(stop - 1))) stop--;
    if (first === stop || text.charCodeAt(first) === CH_HASH) continue;
    const truncatedHint =
      isLast && !endsWithNewline
        ? "the last line has no line ending: the file looks truncated; re-download or re-copy it"
        : undefined;
    const fail = (message: string, hint?: string): never => {
      throw inputError(message, { file, line, hint: truncatedHint ?? hint });
    };

    // The label or target is the text after the last ':' (timestamps may hold
    // ':' but only inside the tuples, which come before it).
    let dataEnd = stop;
    if (hasClassLabels || hasTarget) {
      const colon = text.lastIndexOf(":", stop - 1);
      if (colon < first) {
        fail(
          `expected channel values and a ${hasTarget ? "target" : "label"} separated by ':', found no ':'`,
          "each case is `v,v,...:v,v,...:label`",
        );
      }
      dataEnd = colon;
      const label = text.slice(colon + 1, stop).trim();
      if (hasTarget) {
        const target = Number(label);
        if (label === "" || !Number.isFinite(target)) fail(`the target "${clip(label)}" is not a number`);
        targets.push(target);
        labels.push(label);
      } else {
        if (label === "") fail("the class label is empty", "each case ends with `:label`");
        if (declaredLabelSet.size > 0 && !declaredLabelSet.has(label)) {
          fail(
            `label "${clip(label)}" is not one of the @classLabel labels (${header.labels.join(" ")})`,
            "add it to the @classLabel line or fix the case",
          );
        }
        labels.push(label);
      }
    } else {
      labels.push("");
    }

    // Channels.
    const caseStart = count;
    let channel = 0;
    let length = -1;
    let p = first;
    while (true) {
      const fieldStart = count;
      // One channel: values separated by ',' up to ':' or the end of the data part.
      while (true) {
        while (p < dataEnd && isSpace(text.charCodeAt(p))) p++;
        if (p >= dataEnd || text.charCodeAt(p) === CH_COLON) {
          if (count === fieldStart) fail(`channel ${channel + 1} has no values`, "remove the extra ':'");
          fail(`channel ${channel + 1} ends with ',' and no value after it`, "remove the trailing ','");
        }
        let c = text.charCodeAt(p);
        if (c === CH_LPAREN) {
          // (timestamp,value): skip the timestamp, read the value.
          const close = text.indexOf(")", p);
          const comma = text.lastIndexOf(",", close);
          if (close < 0 || close > dataEnd || comma <= p) {
            fail(`channel ${channel + 1}: a "(timestamp,value)" tuple is not closed`);
          }
          p = comma + 1;
          while (p < close && isSpace(text.charCodeAt(p))) p++;
          const value = readValue(text, p, close, scan);
          let after = scan.end;
          while (after < close && isSpace(text.charCodeAt(after))) after++;
          if (scan.end === p || after !== close) {
            fail(`"${clip(text.slice(p, close))}" in a (timestamp,value) tuple is not a number`, NUMBER_HINT);
          }
          raw[count++] = value;
          if (Number.isNaN(value)) missing++;
          p = close + 1;
        } else {
          const value = readValue(text, p, dataEnd, scan);
          if (scan.end === p) fail(`"${clip(token(text, p, dataEnd))}" is not a number`, NUMBER_HINT);
          raw[count++] = value;
          if (Number.isNaN(value)) missing++;
          p = scan.end;
        }
        while (p < dataEnd && isSpace(text.charCodeAt(p))) p++;
        if (p >= dataEnd) break;
        c = text.charCodeAt(p);
        if (c === CH_COMMA) {
          p++;
          continue;
        }
        if (c === CH_COLON) break;
        fail(
          `channel ${channel + 1}, value ${count - fieldStart}: "${clip(token(text, scanTokenStart(text, p, first), dataEnd))}" is not a number`,
          "values are decimal numbers separated by ',' and '?' for a missing value",
        );
      }
      const n = count - fieldStart;
      if (length < 0) length = n;
      else if (n !== length) {
        fail(
          `channel ${channel + 1} has ${n} values but channel 1 has ${length}`,
          "every channel of a case must have the same length",
        );
      }
      channel++;
      if (p >= dataEnd) break;
      p++; // the ':'
      if (channelsDeclared && channel >= channels) {
        fail(
          `the case has more than ${channels} channels`,
          `the header declares @dimensions ${channels}; check the ':' separators`,
        );
      }
    }
    if (channels === 0) channels = channel;
    if (channel !== channels) {
      fail(
        `the case has ${channel} channel${channel === 1 ? "" : "s"}, expected ${channels}${
          channelsDeclared ? " (@dimensions)" : " (as the first case)"
        }`,
        "every case needs the same number of ':'-separated channels followed by the label",
      );
    }
    if (fixedLength > 0 && length !== fixedLength) {
      fail(
        `the case has length ${length}, but the header says @equalLength true and @seriesLength ${fixedLength}`,
      );
    }
    if (header.equalLength === true && lengths.length > 0 && length !== lengths[0]) {
      fail(
        `the case has length ${length}, the first case ${lengths[0]}, but the header says @equalLength true`,
      );
    }
    starts.push(caseStart);
    lengths.push(length);
    lines.push(line);
  }

  if (lengths.length === 0) {
    throw inputError("no cases after @data", { file, line, hint: "add one case per line after @data" });
  }
  return buildDataset({
    name: options.name ?? header.problemName ?? nameFromFile(file),
    file,
    format: "ts",
    channels,
    raw,
    starts,
    lengths,
    lines,
    labels,
    hasClassLabels,
    declaredLabels: header.classLabel === true ? header.labels : null,
    targets: hasTarget ? targets : undefined,
    missing,
    header: headerOnly(header),
    labelMap: options.labelMap,
  });
}

/**
 * Read one value at p: a number, or NaN for '?' / "NaN" (missing). Leaves
 * `scan.end` after it; `scan.end === p` means there is no valid value here.
 */
function readValue(text: string, p: number, limit: number, scan: ScanResult): number {
  const c = text.charCodeAt(p);
  if (c === CH_QUESTION) {
    scan.end = p + 1;
    return Number.NaN;
  }
  if ((c === CH_N || c === CH_LOWER_N) && text.slice(p, p + 3).toLowerCase() === "nan") {
    scan.end = p + 3;
    return Number.NaN;
  }
  scanNumber(text, p, limit, scan);
  if (scan.end === p || !Number.isFinite(scan.value)) {
    scan.end = p;
    return Number.NaN;
  }
  return scan.value;
}

function readHeaderLine(
  header: HeaderState,
  keyword: string,
  value: string,
  at: { file?: string; line: number },
) {
  const where = { file: at.file, line: at.line };
  const bool = (key: string): boolean => {
    const first = value.split(/\s+/)[0].toLowerCase();
    if (first === "true") return true;
    if (first === "false") return false;
    throw inputError(`${key} must be true or false, found "${clip(value)}"`, where);
  };
  const positiveInt = (key: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1) {
      throw inputError(`${key} must be a positive integer, found "${clip(value)}"`, where);
    }
    return n;
  };
  switch (keyword) {
    case "@problemname":
      header.problemName = value;
      return;
    case "@timestamps":
      header.timeStamps = bool("@timeStamps");
      return;
    case "@missing":
      header.missing = bool("@missing");
      return;
    case "@univariate":
      header.univariate = bool("@univariate");
      return;
    case "@dimension":
    case "@dimensions":
      header.dimensions = positiveInt("@dimensions");
      return;
    case "@equallength":
      header.equalLength = bool("@equalLength");
      return;
    case "@serieslength":
      header.seriesLength = positiveInt("@seriesLength");
      return;
    case "@classlabel": {
      header.classLabel = bool("@classLabel");
      const labels = value.split(/\s+/).slice(1);
      if (header.classLabel && labels.length === 0) {
        throw inputError("@classLabel true lists no labels", {
          ...where,
          hint: "write the class labels after it: `@classLabel true 1 2 3`",
        });
      }
      if (new Set(labels).size !== labels.length) {
        throw inputError("@classLabel lists a label twice", where);
      }
      header.labels = header.classLabel ? labels : [];
      return;
    }
    case "@targetlabel":
      header.targetLabel = bool("@targetLabel");
      return;
    default:
      throw inputError(`unknown header keyword "${clip(keyword)}"`, {
        ...where,
        hint: `known keywords: ${HEADER_KEYS.join(" ")}`,
      });
  }
}

function headerOnly(header: HeaderState): DatasetHeader {
  const { labels: _labels, ...rest } = header;
  return rest;
}

function isSpace(c: number): boolean {
  return c === CH_SPACE || c === CH_TAB || c === CH_CR;
}

/** Start of the token containing p (back to the previous separator). */
function scanTokenStart(text: string, p: number, lineStart: number): number {
  let s = p;
  while (s > lineStart) {
    const c = text.charCodeAt(s - 1);
    if (c === CH_COMMA || c === CH_COLON || c === CH_RPAREN) break;
    s--;
  }
  return s;
}

/** The token at p, up to the next separator. */
function token(text: string, p: number, limit: number): string {
  let e = p;
  while (e < limit) {
    const c = text.charCodeAt(e);
    if (c === CH_COMMA || c === CH_COLON) break;
    e++;
  }
  return text.slice(p, e).trim();
}

/** Shorten user text quoted in an error message, and make control bytes visible. */
export function clip(s: string, max = 40): string {
  const visible = s.replace(
    /[\u0000-\u001f\u007f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
  return visible.length > max ? `${visible.slice(0, max)}…` : visible;
}
