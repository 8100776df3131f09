/**
 * Errors a user can fix. The CLI prints `message` (never a stack) and exits 2.
 *
 * The message always says where (file, line, field) and what to do about it, so
 * each thrower builds it with {@link inputError} instead of formatting by hand.
 */
export class InputError extends Error {
  override readonly name = "InputError";
  readonly file?: string;
  readonly line?: number;
  readonly field?: string;
  readonly hint?: string;

  constructor(message: string, where: { file?: string; line?: number; field?: string; hint?: string } = {}) {
    super(formatInputError(message, where));
    this.file = where.file;
    this.line = where.line;
    this.field = where.field;
    this.hint = where.hint;
  }
}

function formatInputError(
  message: string,
  where: { file?: string; line?: number; field?: string; hint?: string },
): string {
  const location = [where.file, where.line === undefined ? undefined : `line ${where.line}`]
    .filter((part) => part !== undefined)
    .join(", ");
  const field = where.field === undefined ? "" : ` (${where.field})`;
  const head = location === "" ? `${message}${field}` : `${location}: ${message}${field}`;
  return where.hint === undefined ? head : `${head}\n  fix: ${where.hint}`;
}

/**
 * @example
 * throw inputError("expected 12 channels, found 11", { file: "x.ts", line: 40, hint: "check the case's ':' separators" });
 */
export function inputError(
  message: string,
  where: { file?: string; line?: number; field?: string; hint?: string } = {},
): InputError {
  return new InputError(message, where);
}

/** Thrown when a long operation was cancelled (Ctrl-C); the CLI exits 130. */
export class InterruptedError extends Error {
  override readonly name = "InterruptedError";
}
