import { renameSync, unlinkSync, writeFileSync } from "node:fs";

/**
 * Write `content` to `path` through a temporary file in the same directory and a
 * rename, so a reader (or a resumed run) never sees a half-written file.
 *
 * @example
 * writeFileAtomic("runs/x/config.json", JSON.stringify(config));
 */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, content);
    renameSync(tmp, path);
  } catch (error) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing was written
    }
    throw error;
  }
}
