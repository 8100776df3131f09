import { readFileSync } from "node:fs";
import { InputError, inputError } from "./errors.js";

/** What to do about each file-system error a user (not tspatch) can cause. */
const FIXES: Record<string, { what: string; hint: string }> = {
  ENOENT: { what: "no such file or directory", hint: "check the path (and that its directory exists)" },
  ENOTDIR: { what: "a part of the path is a file, not a directory", hint: "check the path" },
  EISDIR: { what: "is a directory, but a file was expected", hint: "give a file path" },
  EEXIST: { what: "already exists", hint: "remove it first, or choose another path" },
  EACCES: { what: "permission denied", hint: "choose a location you may write, or fix its permissions" },
  EPERM: { what: "operation not permitted", hint: "choose a location you may write, or fix its permissions" },
  EROFS: { what: "the file system is read-only", hint: "choose a writable location" },
  ENOSPC: { what: "no space left on the device", hint: "free some space or write elsewhere" },
  EDQUOT: { what: "disk quota exceeded", hint: "free some space or write elsewhere" },
  EMFILE: { what: "too many open files", hint: "raise the open-file limit (ulimit -n)" },
  ENAMETOOLONG: { what: "the file name is too long", hint: "choose a shorter path" },
  ELOOP: { what: "too many symbolic links", hint: "check the path for a symlink loop" },
};

/**
 * A Node file-system error (it carries `code`, `syscall` and `path`) as the InputError the CLI
 * prints with exit 2: it is about the user's files, not a bug. Anything else is returned as is.
 *
 * @example
 * try { writeFileSync("/no/such/dir/x.csv", "") } catch (e) { throw asInputError(e) }
 */
export function asInputError(error: unknown, file?: string): unknown {
  if (error instanceof InputError || !(error instanceof Error)) return error;
  const { code, syscall, path } = error as NodeJS.ErrnoException;
  if (code === undefined || syscall === undefined) return error;
  const fix = FIXES[code];
  if (fix === undefined) return error;
  // Errors of read/write on an open descriptor carry no path: the caller names the file.
  return inputError(`cannot ${syscall}: ${fix.what} (${code})`, { file: path ?? file, hint: fix.hint });
}

/**
 * Read a whole text file, any file-system error as an InputError naming `shown` (the path as
 * the user typed it).
 *
 * @example
 * const text = readTextFile(resolve(cwd, flags.pairsFile), flags.pairsFile);
 */
export function readTextFile(path: string, shown: string = path): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw asInputError(error, shown);
  }
}
