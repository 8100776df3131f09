import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** Where the cache lives; every field overrides process state, for tests. */
export interface CacheDirOptions {
  /** Environment (default `process.env`): TSPATCH_CACHE, XDG_CACHE_HOME. */
  env?: Record<string, string | undefined>;
  /** Working directory for relative paths (default `process.cwd()`). */
  cwd?: string;
  /** An explicit cache directory, used as given. */
  cacheDir?: string;
  /** Home directory for the default (default `os.homedir()`). */
  homeDir?: string;
}

/**
 * tspatch's cache directory (downloaded datasets, optimised runtime graphs):
 * TSPATCH_CACHE, else $XDG_CACHE_HOME/tspatch, else ~/.cache/tspatch.
 *
 * @example
 * cacheDirectory({ env: { TSPATCH_CACHE: "/tmp/c" } }); // "/tmp/c"
 */
export function cacheDirectory(options: CacheDirOptions = {}): string {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  if (options.cacheDir) return resolve(cwd, options.cacheDir);
  if (env.TSPATCH_CACHE) return resolve(cwd, env.TSPATCH_CACHE);
  if (env.XDG_CACHE_HOME) return resolve(cwd, env.XDG_CACHE_HOME, "tspatch");
  return join(options.homeDir ?? homedir(), ".cache", "tspatch");
}
