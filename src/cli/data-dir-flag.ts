import { statSync } from "node:fs";
import { resolve } from "node:path";
import { inputError } from "../errors.js";

/**
 * `--data-dir` must name an existing directory: a mistyped one would otherwise be skipped in
 * silence, and the data found (or downloaded) elsewhere.
 *
 * @example
 * checkDataDir(flags.dataDir, ctx.io.cwd);
 */
export function checkDataDir(dataDir: string | undefined, cwd: string): void {
  if (dataDir === undefined) return;
  const path = resolve(cwd, dataDir);
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    throw inputError("--data-dir does not exist", {
      file: path,
      field: "--data-dir",
      hint: "check the path, or leave out --data-dir to search the default places",
    });
  }
  if (!isDirectory) {
    throw inputError("--data-dir is not a directory", {
      file: path,
      field: "--data-dir",
      hint: "give the directory that holds the dataset's folder or files",
    });
  }
}
