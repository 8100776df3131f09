import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { concatBytes } from "../bounded-read.js";
import { InputError, inputError } from "../errors.js";
import { openZip } from "../zip-archive.js";
import { cacheDirectory, type DataLocationOptions } from "./search-path.js";
import { MAX_DATA_FILE_BYTES } from "./text-input.js";
import { DEFAULT_ARCHIVE_URL } from "./uea-archive.js";

/** A dataset's files together (TRAIN and TEST, .ts and .arff) may unpack to at most this. */
const MAX_UNPACKED_BYTES = 4 * 2 ** 30;
/** The largest archive downloaded (held in memory while it is unpacked). */
const MAX_DOWNLOAD_BYTES = 2 ** 30;

export interface DownloadOptions extends DataLocationOptions {
  /** Base URL of `<Name>.zip` files (default TSPATCH_ARCHIVE_URL, else the UEA archive). */
  archiveUrl?: string;
  /** Bytes received so far and the expected total (0 when the server does not say). */
  onProgress?: (done: number, total: number, detail?: string) => void;
  /** For tests or proxies; defaults to the global fetch. */
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

export interface DownloadResult {
  url: string;
  /** Folder the dataset files were extracted to: `<cache>/<Name>/`. */
  dir: string;
  /** Base names of the extracted `.ts` / `.arff` files. */
  files: string[];
  bytes: number;
}

/** The archive base URL in effect. */
export function archiveBaseUrl(options: DownloadOptions = {}): string {
  const env = options.env ?? process.env;
  const base = options.archiveUrl ?? env.TSPATCH_ARCHIVE_URL ?? DEFAULT_ARCHIVE_URL;
  return base.endsWith("/") ? base : `${base}/`;
}

/**
 * Download `<base><Name>.zip` and extract its `.ts` / `.arff` files into
 * `<cache>/<Name>/`. The folder appears atomically (extracted into a temporary
 * folder, then renamed), so an interrupted download leaves nothing half-written.
 *
 * @example
 * const { dir } = await downloadDataset("BasicMotions", { onProgress: (done, total) => {} });
 */
export async function downloadDataset(name: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
    throw inputError(`"${name}" is not a dataset name that can be downloaded`, { field: "name" });
  }
  const url = `${archiveBaseUrl(options)}${encodeURIComponent(name)}.zip`;
  const fetchFn = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await fetchFn(url, { signal: options.signal });
  } catch (error) {
    const cause =
      error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : "";
    throw inputError(`could not download ${url}: ${cause || String(error)}`, { field: "download" });
  }
  if (!response.ok) {
    throw inputError(`could not download ${url}: HTTP ${response.status} ${response.statusText}`.trim(), {
      field: "download",
    });
  }
  const total = Number(response.headers.get("content-length") ?? 0) || 0;
  const tooLarge = () =>
    inputError(
      `${url} is larger than ${MAX_DOWNLOAD_BYTES} bytes, more than a dataset archive tspatch reads`,
      {
        field: "download",
        hint: "download and unpack the files by hand, then give the .ts file paths",
      },
    );
  if (total > MAX_DOWNLOAD_BYTES) throw tooLarge();
  const chunks: Uint8Array[] = [];
  let received = 0;
  try {
    if (response.body) {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        chunks.push(chunk);
        received += chunk.length;
        if (received > MAX_DOWNLOAD_BYTES) throw tooLarge();
        options.onProgress?.(received, total, name);
      }
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw inputError(
      `the download of ${url} broke off after ${received} bytes: ${(error as Error).message}`,
      {
        field: "download",
      },
    );
  }
  if (total > 0 && received !== total) {
    throw inputError(`the download of ${url} is incomplete: ${received} of ${total} bytes`, {
      field: "download",
    });
  }
  const zip = concatBytes(chunks, received);
  chunks.length = 0;

  const dataFile = (entry: string) => /\.(ts|arff)$/i.test(entry) && !entry.endsWith("/");
  // Sizes are checked from the zip's directory before anything is unpacked, and each file is
  // unpacked (never past its declared size) and written before the next, so a zip bomb costs at
  // most one data file's worth of memory and leaves nothing in the cache.
  const archive = openZip(
    zip,
    { maxTotalBytes: MAX_UNPACKED_BYTES, maxEntryBytes: MAX_DATA_FILE_BYTES, keep: dataFile },
    url,
    "the archive may be unavailable or corrupt; download and unpack the files by hand (see below)",
  );
  // Keep only base names: a zip entry like "../x" must not escape the folder.
  const files = new Map<string, string>();
  for (const entry of archive.entries.keys()) {
    if (!dataFile(entry)) continue;
    const base = basename(entry);
    if (base.startsWith(".") || base.startsWith("__MACOSX")) continue;
    files.set(base, entry);
  }
  const splitPattern = new RegExp(`^${escapeRegExp(name)}_(TRAIN|TEST)\\.(ts|arff)$`, "i");
  if (![...files.keys()].some((f) => splitPattern.test(f))) {
    throw inputError(
      `${url} has no ${name}_TRAIN.ts / ${name}_TEST.ts (found: ${[...files.keys()].join(", ") || "no .ts or .arff files"})`,
      { field: "download" },
    );
  }

  const cache = cacheDirectory(options);
  const dir = join(cache, name);
  const tmp = join(cache, `.${name}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  await mkdir(tmp, { recursive: true });
  try {
    for (const [file, entry] of files) await writeFile(join(tmp, file), archive.read(entry));
    if (existsSync(dir)) await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    if (error instanceof InputError) throw error;
    throw inputError(`could not write the dataset into ${dir}: ${(error as Error).message}`, {
      hint: "set TSPATCH_CACHE to a writable folder",
    });
  }
  return { url, dir, files: [...files.keys()].sort(), bytes: received };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
