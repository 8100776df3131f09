import { Buffer, isAscii, isUtf8 } from "node:buffer";
import { type InputError, inputError } from "../errors.js";

/**
 * The longest data file read: a JavaScript string holds at most 2^29 - 24 characters (V8), and a
 * file is decoded into one string (or two, header and body).
 */
export const MAX_DATA_FILE_BYTES = 2 ** 29 - 24;

/**
 * The error for a data file over {@link MAX_DATA_FILE_BYTES}, with the fix.
 *
 * @example
 * if (size > MAX_DATA_FILE_BYTES) throw dataFileTooLarge("big_TRAIN.ts", size);
 */
export function dataFileTooLarge(file: string | undefined, bytes: number): InputError {
  return inputError(
    `the file is ${(bytes / 2 ** 20).toFixed(0)} MiB; tspatch reads data files of up to ${MAX_DATA_FILE_BYTES} bytes (512 MiB, the longest text JavaScript can hold)`,
    {
      file,
      hint: "split the cases over several files, or shorten the series (resample them) before saving",
    },
  );
}

/**
 * Turn file bytes (or a string) into text for a parser, rejecting what is not a
 * text file: empty input, NUL bytes, invalid UTF-8. Strips a byte-order mark.
 *
 * @example
 * const text = decodeDataText(readFileSync(path), path, ".ts");
 */
export function decodeDataText(input: string | Uint8Array, file: string | undefined, kind: string): string {
  let text: string;
  if (typeof input === "string") {
    text = input;
  } else {
    if (input.length === 0) throw emptyError(file, kind);
    if (input.length > MAX_DATA_FILE_BYTES) throw dataFileTooLarge(file, input.length);
    const nul = input.indexOf(0);
    if (nul >= 0) throw binaryError(file, kind, `a NUL byte at offset ${nul}`);
    text = decodeBytes(input, file, kind);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === "") throw emptyError(file, kind);
  if (typeof input === "string") {
    const nul = text.indexOf("\u0000");
    if (nul >= 0) throw binaryError(file, kind, `a NUL character at offset ${nul}`);
  }
  return text;
}

/**
 * Like {@link decodeDataText}, but returns the text up to and including the
 * `@data` line (`head`) and the rest (`body`) separately. The body is decoded
 * on its own, so a non-ASCII comment in the header (LSST has one) does not
 * make the whole data section a slower two-byte string.
 *
 * @example
 * const { head, body } = decodeHeadAndBody(readFileSync(path), path, ".ts");
 */
export function decodeHeadAndBody(
  input: string | Uint8Array,
  file: string | undefined,
  kind: string,
): { head: string; body: string } {
  if (typeof input === "string") {
    const text = decodeDataText(input, file, kind);
    const cut = afterDataLine(text.length, (i) => text.charCodeAt(i));
    return cut < 0 ? { head: text, body: "" } : { head: text.slice(0, cut), body: text.slice(cut) };
  }
  if (input.length === 0) throw emptyError(file, kind);
  if (input.length > MAX_DATA_FILE_BYTES) throw dataFileTooLarge(file, input.length);
  const nul = input.indexOf(0);
  if (nul >= 0) throw binaryError(file, kind, `a NUL byte at offset ${nul}`);
  const cut = afterDataLine(input.length, (i) => input[i]);
  // A cut right after '\n' never splits a multi-byte UTF-8 character.
  let head = decodeBytes(cut < 0 ? input : input.subarray(0, cut), file, kind);
  const body = cut < 0 ? "" : decodeBytes(input.subarray(cut), file, kind);
  if (head.charCodeAt(0) === 0xfeff) head = head.slice(1);
  if (head.trim() === "" && body.trim() === "") throw emptyError(file, kind);
  return { head, body };
}

/** Pure ASCII (the usual case) decodes to a one-byte string, the fastest to scan. */
function decodeBytes(input: Uint8Array, file: string | undefined, kind: string): string {
  const bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (isAscii(bytes)) return bytes.toString("latin1");
  if (isUtf8(bytes)) return bytes.toString("utf8");
  throw binaryError(file, kind, "bytes that are not valid UTF-8");
}

/**
 * Index just after the `@data` line (keyword in any case), or -1 when the
 * header (lines that are blank, `#`/`%` comments or `@` keywords) ends without it.
 */
function afterDataLine(length: number, at: (i: number) => number): number {
  let pos = 0;
  if (length >= 3 && at(0) === 0xef && at(1) === 0xbb && at(2) === 0xbf) pos = 3; // UTF-8 byte-order mark
  while (pos < length) {
    let p = pos;
    while (p < length && (at(p) === 32 || at(p) === 9 || at(p) === 13 || at(p) === 0xfeff)) p++;
    let nl = p;
    while (nl < length && at(nl) !== 10) nl++;
    const first = p < nl ? at(p) : -1;
    if (first === 64 /* @ */) {
      const after = p + 5 < nl ? at(p + 5) : -1;
      const word = [1, 2, 3, 4].map((k) => (p + k < nl ? at(p + k) | 0x20 : -1));
      // "data" = 100 97 116 97; must be followed by whitespace or the line end
      if (word.join() === "100,97,116,97" && (after === -1 || after === 32 || after === 9 || after === 13)) {
        return nl < length ? nl + 1 : length;
      }
    } else if (first !== -1 && first !== 35 /* # */ && first !== 37 /* % */) {
      return -1;
    }
    pos = nl + 1;
  }
  return -1;
}

function emptyError(file: string | undefined, kind: string) {
  return inputError(`the file is empty`, {
    file,
    hint: `a ${kind} file needs a header and a data section; re-download or re-copy it`,
  });
}

function binaryError(file: string | undefined, kind: string, what: string) {
  return inputError(`this is not a text file: it contains ${what}`, {
    file,
    hint: `expected a UEA ${kind} text file; if it is a .zip, unpack it first`,
  });
}
