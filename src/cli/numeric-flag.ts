import { parseDecimal } from "../data/number-scan.js";
import { inputError } from "../errors.js";

/** What a numeric flag accepts; bounds are inclusive unless `above`/`below` say otherwise. */
export interface NumericFlagRange {
  /** The flag as the user typed it, e.g. "--snr" (named in the error). */
  flag: string;
  /** Whole numbers only (and safe integers: below 2^53). */
  integer?: boolean;
  min?: number;
  max?: number;
  /** Exclusive lower bound. */
  above?: number;
  /** Exclusive upper bound. */
  below?: number;
  /** Why the bounds are what they are, or an example (printed as the fix). */
  hint?: string;
}

/**
 * Parse a numeric command-line value and check its range; an InputError names the flag, the
 * value and the accepted range.
 *
 * @example
 * const threads = parseNumericFlag("4", { flag: "--threads", integer: true, min: 1, max: availableParallelism() });
 */
export function parseNumericFlag(text: string, range: NumericFlagRange): number {
  // Decimal notation only, as the `.ts` reader: Number() would also take "0x1F" and "" (as 0).
  const value = parseDecimal(text.trim());
  const ok =
    Number.isFinite(value) &&
    (!range.integer || Number.isSafeInteger(value)) &&
    (range.min === undefined || value >= range.min) &&
    (range.max === undefined || value <= range.max) &&
    (range.above === undefined || value > range.above) &&
    (range.below === undefined || value < range.below);
  if (!ok) {
    throw inputError(`${range.flag} must be ${describeRange(range)}, got "${text}"`, {
      field: range.flag,
      hint: range.hint,
    });
  }
  return value;
}

/** "an integer in [1, 8]", "a number > 0", …: the accepted values in words. */
export function describeRange(range: Omit<NumericFlagRange, "flag" | "hint">): string {
  const kind = range.integer ? "an integer" : "a number";
  const low = range.min ?? range.above;
  const high = range.max ?? range.below;
  if (low !== undefined && high !== undefined) {
    const open = range.min !== undefined ? "[" : "(";
    const close = range.max !== undefined ? "]" : ")";
    return `${kind} in ${open}${low}, ${high}${close}`;
  }
  if (low !== undefined) return `${kind} ${range.min !== undefined ? "≥" : ">"} ${low}`;
  if (high !== undefined) return `${kind} ${range.max !== undefined ? "≤" : "<"} ${high}`;
  return range.integer ? "a whole number" : "a finite decimal number";
}
