import { delimiter, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { cacheDirectory } from "../cache-dir.js";

export { cacheDirectory };

/** Where to look for datasets; every field overrides process state, for tests. */
export interface DataLocationOptions {
  /** Explicit data directories (`--data-dir`), searched first. */
  dataDir?: string | string[];
  /** Environment (default `process.env`): TSPATCH_DATA, TSPATCH_CACHE, XDG_CACHE_HOME. */
  env?: Record<string, string | undefined>;
  /** Working directory for relative paths and `./data` (default `process.cwd()`). */
  cwd?: string;
  /** Download cache (default TSPATCH_CACHE, else $XDG_CACHE_HOME/tspatch, else ~/.cache/tspatch). */
  cacheDir?: string;
  /** Data shipped with the package (default `<package root>/datasets`). */
  bundledDir?: string;
  /** Home directory for the default cache (default `os.homedir()`). */
  homeDir?: string;
}

export type DataOrigin = "--data-dir" | "TSPATCH_DATA" | "./data" | "cache" | "bundled";

export interface SearchDir {
  dir: string;
  origin: DataOrigin;
}

/**
 * `<package root>/datasets`, found from this module's URL so it works from
 * `src/data/` (tsx, tests) and from `dist/data/` (installed package) alike.
 */
export function bundledDataDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "datasets");
}

/**
 * The directories searched for `<Name>_TRAIN.ts` etc., in order: `--data-dir`,
 * TSPATCH_DATA (path-list, ':'-separated on POSIX), `./data`, the cache, the
 * bundled data.
 *
 * @example
 * searchPath({ dataDir: "/data/uea", env: {} }).map((d) => d.origin);
 * // ["--data-dir", "./data", "cache", "bundled"]
 */
export function searchPath(options: DataLocationOptions = {}): SearchDir[] {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const dirs: SearchDir[] = [];
  const explicit = options.dataDir === undefined ? [] : [options.dataDir].flat();
  for (const dir of explicit) dirs.push({ dir: resolve(cwd, dir), origin: "--data-dir" });
  for (const dir of (env.TSPATCH_DATA ?? "").split(delimiter)) {
    if (dir.trim() !== "") dirs.push({ dir: resolve(cwd, dir.trim()), origin: "TSPATCH_DATA" });
  }
  dirs.push({ dir: resolve(cwd, "data"), origin: "./data" });
  dirs.push({ dir: cacheDirectory(options), origin: "cache" });
  dirs.push({ dir: options.bundledDir ?? bundledDataDir(), origin: "bundled" });
  return dirs;
}
