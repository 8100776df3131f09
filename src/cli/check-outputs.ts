import { closeSync, existsSync, openSync, readdirSync, realpathSync, statSync, unlinkSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { inputError } from "../errors.js";

/** A path a command will write. */
export interface OutputSpec {
  /** Absolute path. */
  path: string;
  /** The flag or argument that named it (printed in the error). */
  flag: string;
  /** A file (written whole) or a directory (created with its parents, files written inside). */
  kind: "file" | "directory";
  /** May an existing file be replaced (default true)? A directory is never replaced, only filled. */
  overwrite?: boolean;
}

/** A path a command reads. */
export interface InputSpec {
  /** Absolute path (a missing one is skipped: the reader reports it). */
  path: string;
  flag: string;
}

/**
 * Refuse, before any work starts, an output the command would lose or could not write:
 * one that is an input or another output (compared by real path, so symlinks count), a
 * directory where a file goes (or the reverse), a missing parent directory for a file, a
 * location the process cannot create files in, and an existing file the command must not
 * replace. Each refusal is an InputError naming the path and the fix.
 *
 * @example
 * checkOutputs({
 *   outputs: [{ path: "/runs/effects.csv", flag: "--out", kind: "file" }],
 *   inputs: [{ path: "/data/JV_TEST.ts", flag: "--data" }],
 * });
 */
export function checkOutputs({ outputs, inputs }: { outputs: OutputSpec[]; inputs: InputSpec[] }): void {
  const seen = new Map<string, string>();
  for (const input of inputs) {
    const real = realPathOf(input.path);
    if (real !== null && existsSync(real)) seen.set(real, `the input ${input.flag}`);
  }
  // Outputs are checked after all inputs, so an output equal to any input is caught.
  for (const output of outputs) {
    const real = realPathOf(output.path) ?? output.path;
    const clash = seen.get(real);
    if (clash !== undefined) {
      throw inputError(`${output.flag} names the same file as ${clash}; writing it would destroy that`, {
        file: output.path,
        field: output.flag,
        hint: `give ${output.flag} another path`,
      });
    }
    seen.set(real, `the output ${output.flag}`);
    checkOne(output, real);
  }
}

function checkOne(output: OutputSpec, real: string): void {
  const where = { file: output.path, field: output.flag };
  const stat = statOrNull(real);
  if (output.kind === "file") {
    if (stat?.isDirectory()) {
      throw inputError(`${output.flag} is a directory, but a file is written there`, {
        ...where,
        hint: `give a file name, e.g. ${join(output.path, basename(output.path) === "" ? "out" : "out.csv")}`,
      });
    }
    if (stat !== null && output.overwrite === false) {
      throw inputError(`${output.flag} already exists and is not replaced`, {
        ...where,
        hint: "remove it first, or choose another path",
      });
    }
    const parent = dirname(real);
    const parentStat = statOrNull(parent);
    if (parentStat === null) {
      throw inputError(`the directory ${parent} does not exist`, {
        ...where,
        hint: `create it first (mkdir -p ${parent}) or choose another path`,
      });
    }
    if (!parentStat.isDirectory()) {
      throw inputError(`${parent} is not a directory`, { ...where, hint: "choose another path" });
    }
    probeWritable(parent, output);
    return;
  }
  if (stat !== null && !stat.isDirectory()) {
    throw inputError(`${output.flag} is a file, but a directory is written there`, {
      ...where,
      hint: "give a directory path (it is created if missing), or remove the file",
    });
  }
  // The nearest existing ancestor must be a directory we can create entries in.
  let existing = real;
  while (statOrNull(existing) === null && dirname(existing) !== existing) existing = dirname(existing);
  if (!statOrNull(existing)?.isDirectory()) {
    throw inputError(`${existing} is not a directory`, { ...where, hint: "choose another path" });
  }
  probeWritable(existing, output);
}

/** Create and remove a file: the only test that also holds for root, read-only mounts and /proc. */
function probeWritable(dir: string, output: OutputSpec): void {
  const probe = join(dir, `.tspatch-write-test-${process.pid}`);
  try {
    closeSync(openSync(probe, "wx"));
    unlinkSync(probe);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    if (code === "EEXIST") return; // a stale probe of this pid: the directory took a file
    throw inputError(`cannot create files in ${dir} (${code})`, {
      file: output.path,
      field: output.flag,
      hint: "choose a writable location, or fix the directory's permissions",
    });
  }
}

/**
 * The files a model path stands for: the file itself, or every file of a model directory (so
 * an output inside it may not replace config.json or the weights).
 */
export function modelFiles(path: string): string[] {
  if (!statOrNull(path)?.isDirectory()) return [path];
  return [path, ...readdirSync(path).map((name) => join(path, name))];
}

/** The real path of `path`, or of its nearest existing ancestor joined with the rest; null if none exists. */
function realPathOf(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    const parent = dirname(path);
    if (parent === path) return null;
    const real = realPathOf(parent);
    return real === null ? null : join(real, basename(path));
  }
}

function statOrNull(path: string) {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}
