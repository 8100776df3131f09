import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { inputError } from "../errors.js";

/**
 * A lock file in a study's output directory, so two studies never write the same directory at
 * once. A lock left by a killed process (its pid no longer runs) is taken over.
 *
 * @example
 * const release = acquireRunLock("runs/jv");
 * try { ... } finally { release(); }
 */
export function acquireRunLock(dir: string): () => void {
  const path = join(dir, ".lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        rmSync(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const pid = Number(readFileSync(path, "utf8").trim());
      if (Number.isInteger(pid) && pid > 0 && isRunning(pid)) {
        throw inputError(`another study (process ${pid}) is writing this directory`, {
          file: dir,
          hint: "wait for it to finish, or choose another --out",
        });
      }
      rmSync(path, { force: true });
    }
  }
  throw inputError("could not take the lock file", { file: path, hint: "remove it if no study is running" });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
