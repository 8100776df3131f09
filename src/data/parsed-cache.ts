import { createHash } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../atomic-write.js";
import { cacheDirectory } from "../cache-dir.js";
import { sourceDigest } from "../source-digest.js";
import type { Dataset } from "./dataset.js";

/**
 * A disk cache of parsed data files. Parsing text is most of what a small command spends on its
 * data (the 4 MB LSST test file: about 0.3 s of a cold process, the JIT not yet warm), while
 * reading the parsed arrays back is a copy. The key is the file's bytes, the parse options and
 * the source of the data layer itself (every module in this folder), so a changed parser or
 * label rule never reads an old result. Files under {@link MIN_CACHED_BYTES} are parsed each time.
 *
 * Environment: TSPATCH_PARSED_CACHE=0 turns it off; the cache lives in `<cache>/parsed`.
 *
 * @example
 * const ds = cachedParse(bytes, { file, name }, () => parseTs(bytes, { file, name }));
 */
export function cachedParse(bytes: Uint8Array, options: object, parse: () => Dataset): Dataset {
  const dir = parsedCacheDir();
  if (dir === null || bytes.length < MIN_CACHED_BYTES) return parse();
  const key = createHash("sha256")
    .update(sourceDigest(import.meta.url))
    .update(JSON.stringify(options))
    .update(bytes)
    .digest("hex");
  const file = join(dir, `${key}.bin`);
  try {
    return decode(readFileSync(file));
  } catch {
    // Missing or unreadable: parse and (re)write it.
  }
  const dataset = parse();
  try {
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(file, encode(dataset));
  } catch {
    // An unwritable cache costs only the speed-up.
  }
  return dataset;
}

/** Smaller files parse in a few milliseconds; caching them would only fill the cache. */
export const MIN_CACHED_BYTES = 64 * 1024;

/** `<cache>/parsed`, or null when TSPATCH_PARSED_CACHE=0. */
export function parsedCacheDir(): string | null {
  return process.env.TSPATCH_PARSED_CACHE === "0" ? null : join(cacheDirectory(), "parsed");
}

const MAGIC = "tspatch-parsed-1";

type ArrayField = "lengths" | "values" | "labelIndex" | "caseLines" | "targets";
const ARRAYS: readonly ArrayField[] = ["lengths", "values", "labelIndex", "caseLines", "targets"];

/** Layout: 4-byte little-endian header length, JSON header, then each typed array 8-byte aligned. */
function encode(dataset: Dataset): Uint8Array {
  const { lengths, values, labelIndex, caseLines, targets, ...rest } = dataset;
  const arrays = { lengths, values, labelIndex, caseLines, targets };
  const parts: { field: ArrayField; offset: number; length: number }[] = [];
  const present = ARRAYS.filter((f) => arrays[f] !== undefined);
  // Offsets are relative to the first array, which starts 8-byte aligned after the header.
  let offset = 0;
  for (const field of present) {
    const a = arrays[field]!;
    parts.push({ field, offset, length: a.length });
    offset += Math.ceil(a.byteLength / 8) * 8;
  }
  const header = new TextEncoder().encode(JSON.stringify({ magic: MAGIC, rest, parts }));
  const start = Math.ceil((4 + header.length) / 8) * 8;
  const out = new Uint8Array(start + offset);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  for (const p of parts) {
    const a = arrays[p.field]!;
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), start + p.offset);
  }
  return out;
}

function decode(file: Uint8Array): Dataset {
  const length = new DataView(file.buffer, file.byteOffset).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(file.subarray(4, 4 + length))) as {
    magic: string;
    rest: Omit<Dataset, ArrayField>;
    parts: { field: ArrayField; offset: number; length: number }[];
  };
  if (header.magic !== MAGIC) throw new Error("not a parsed-dataset file");
  const start = Math.ceil((4 + length) / 8) * 8;
  // One copy into an aligned buffer of its own: typed arrays need aligned offsets (and a Node
  // Buffer's own .slice is a view into a shared pool).
  const body = new Uint8Array(file.subarray(start)).buffer;
  const arrays: Partial<Pick<Dataset, ArrayField>> = {};
  for (const p of header.parts) {
    if (p.field === "values") arrays.values = new Float32Array(body, p.offset, p.length);
    else if (p.field === "targets") arrays.targets = new Float64Array(body, p.offset, p.length);
    else arrays[p.field] = new Int32Array(body, p.offset, p.length);
  }
  return { ...header.rest, ...arrays } as Dataset;
}
