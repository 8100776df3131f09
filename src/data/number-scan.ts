/**
 * A hand-rolled decimal number scanner for the data sections of `.ts` / `.arff`
 * files: no regex, no substring per value on the common path.
 *
 * Fast path (Clinger 1990, "How to read floating point numbers accurately",
 * the exact case): when the decimal mantissa has at most 15 digits and the
 * power of ten is at most 22 in size, both are exact doubles and one IEEE
 * multiply or divide gives the correctly rounded result. Anything else falls
 * back to `Number()` on the token, which is always correctly rounded.
 */

const POW10: number[] = [];
for (let k = 0, p = 1; k <= 22; k++, p *= 10) POW10.push(p);

const CH_0 = 48;
const CH_9 = 57;
const CH_DOT = 46;
const CH_MINUS = 45;
const CH_PLUS = 43;
const CH_E = 101;
const CH_UPPER_E = 69;

/** Result slots of {@link scanNumber}, reused to avoid allocation per value. */
export interface ScanResult {
  /** Parsed value (NaN when the token is not a number). */
  value: number;
  /** Index just after the token. */
  end: number;
}

/**
 * Scan a decimal number starting at `pos` in `text` (no leading spaces), stopping
 * at the first character that cannot continue it, never beyond `limit`.
 * `out.end === pos` means no number starts here.
 *
 * @example
 * const r = { value: 0, end: 0 };
 * scanNumber("x=-1.5e3,", 2, 9, r); // r.value === -1500, r.end === 8
 */
export function scanNumber(text: string, pos: number, limit: number, out: ScanResult): void {
  const start = pos;
  let negative = false;
  let c = pos < limit ? text.charCodeAt(pos) : -1;
  if (c === CH_MINUS || c === CH_PLUS) {
    negative = c === CH_MINUS;
    pos++;
    c = pos < limit ? text.charCodeAt(pos) : -1;
  }
  let mantissa = 0;
  let digits = 0; // significant digits kept in mantissa
  let intDigits = 0;
  let fracDigits = 0;
  let exact = true;
  while (c >= CH_0 && c <= CH_9) {
    if (digits > 0 || c !== CH_0) {
      if (digits < 15) mantissa = mantissa * 10 + (c - CH_0);
      else exact = false;
      digits++;
    }
    intDigits++;
    pos++;
    c = pos < limit ? text.charCodeAt(pos) : -1;
  }
  let scale = 0; // value = mantissa * 10^scale
  if (digits > 15) scale += digits - 15;
  if (c === CH_DOT) {
    pos++;
    c = pos < limit ? text.charCodeAt(pos) : -1;
    while (c >= CH_0 && c <= CH_9) {
      if (digits > 0 || c !== CH_0) {
        if (digits < 15) {
          mantissa = mantissa * 10 + (c - CH_0);
          scale--;
        } else exact = false;
        digits++;
      } else {
        scale--;
      }
      fracDigits++;
      pos++;
      c = pos < limit ? text.charCodeAt(pos) : -1;
    }
  }
  if (intDigits + fracDigits === 0) {
    out.value = Number.NaN;
    out.end = start;
    return;
  }
  if (c === CH_E || c === CH_UPPER_E) {
    let p = pos + 1;
    let e = p < limit ? text.charCodeAt(p) : -1;
    let expNegative = false;
    if (e === CH_MINUS || e === CH_PLUS) {
      expNegative = e === CH_MINUS;
      p++;
      e = p < limit ? text.charCodeAt(p) : -1;
    }
    if (e >= CH_0 && e <= CH_9) {
      let exponent = 0;
      while (e >= CH_0 && e <= CH_9) {
        if (exponent < 100000) exponent = exponent * 10 + (e - CH_0);
        p++;
        e = p < limit ? text.charCodeAt(p) : -1;
      }
      scale += expNegative ? -exponent : exponent;
      pos = p;
    }
    // "1e" or "1e-" without digits: the number ends before the "e"; the caller
    // then sees "e" where a separator should be and reports the token.
  }
  out.end = pos;
  if (exact && scale >= -22 && scale <= 22) {
    const magnitude = scale >= 0 ? mantissa * POW10[scale] : mantissa / POW10[-scale];
    out.value = negative ? -magnitude : magnitude;
    return;
  }
  out.value = Number(text.slice(start, pos));
}

/**
 * A whole string as a decimal number (the `.ts` reader's syntax), or NaN: unlike `Number()` it
 * refuses "0x1F", "0b101", "0o7", "Infinity" and "" (which `Number()` reads as 0).
 *
 * @example
 * parseDecimal("-1.5e3"); // -1500
 * parseDecimal("0x1F");   // NaN
 */
export function parseDecimal(text: string): number {
  const out: ScanResult = { value: Number.NaN, end: 0 };
  scanNumber(text, 0, text.length, out);
  return text.length > 0 && out.end === text.length ? out.value : Number.NaN;
}
