import { closeSync, fstatSync, openSync, readSync } from "node:fs";

/** Thrown by {@link readFileBounded} when a file holds more than the limit. */
export class FileTooLarge extends Error {
  constructor(
    /** The file's size, or (for a pipe or device) the bytes read before stopping. */
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`more than ${limit} bytes`);
  }
}

/**
 * Reads a whole file, but never more than `maxBytes`: a regular file is checked by its size before
 * reading, and a pipe or device (which has no size; /dev/zero never ends) is read in chunks and
 * refused as soon as it passes the limit. Other errors (ENOENT, EISDIR, …) are thrown as they are.
 *
 * @example
 * const bytes = readFileBounded("model.pth", 256 << 20);
 */
export function readFileBounded(path: string, maxBytes: number): Uint8Array {
  const fd = openSync(path, "r");
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) {
      throw Object.assign(new Error(`EISDIR: illegal operation on a directory, read '${path}'`), {
        code: "EISDIR",
        syscall: "read",
        path,
      });
    }
    if (stat.isFile() && stat.size > maxBytes) throw new FileTooLarge(stat.size, maxBytes);
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const chunk = new Uint8Array(stat.isFile() ? Math.max(stat.size - total, 1) : 1 << 20);
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) throw new FileTooLarge(total, maxBytes);
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    }
    return chunks.length === 1 ? chunks[0] : concatBytes(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/**
 * The chunks of a stream as one array (`length` = their total length).
 *
 * @example
 * concatBytes([Uint8Array.of(1), Uint8Array.of(2, 3)], 3); // Uint8Array [1, 2, 3]
 */
export function concatBytes(chunks: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
