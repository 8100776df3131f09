import { inputError } from "../errors.js";

/**
 * A flag value that must be one of `choices`; otherwise an InputError naming the flag and the choices.
 *
 * @example
 * parseChoice("both", ["denoise", "noise", "both"], "--direction"); // "both"
 */
export function parseChoice(value: string, choices: readonly string[], field: string): string {
  if (!choices.includes(value)) {
    throw inputError(`unknown value "${value}"`, { field, hint: `use one of: ${choices.join(", ")}` });
  }
  return value;
}

/**
 * A whole-number flag value ≥ `min`; otherwise an InputError naming the flag.
 *
 * @example
 * parseInteger("64", "--ig-steps", 32); // 64
 */
export function parseInteger(value: string, field: string, min: number): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || n < min) {
    throw inputError(`${field} must be an integer ≥ ${min}, got "${value}"`, { field });
  }
  return n;
}
