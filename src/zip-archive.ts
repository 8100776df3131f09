import * as zlib from "node:zlib";
import { type InputError, inputError } from "./errors.js";

/**
 * A zip archive read defensively (APPNOTE.TXT 6.3, sections 4.3.6–4.3.16, 4.5.3): the central
 * directory is parsed first and every declared size is checked against the bytes present and a cap
 * before anything is inflated; an entry is inflated only when asked for, with an output limit of its
 * declared size, so a file that lies about its sizes (a zip bomb) costs at most the cap in memory.
 * Shared by `.pth` checkpoints (model/) and downloaded dataset archives (data/).
 */

export interface ZipEntry {
  readonly name: string;
  /** 0 = stored, 8 = deflate (the only methods read). */
  readonly method: number;
  readonly compressedSize: number;
  /** As the central directory declares it; {@link ZipArchive.read} checks the inflated length. */
  readonly size: number;
  /** Start of the entry's (compressed) data in the archive. */
  readonly dataOffset: number;
  /** CRC-32 of the uncompressed data, as declared. */
  readonly crc: number;
}

export interface ZipArchive {
  /** Entries in central-directory order (a name listed twice is refused). */
  readonly entries: ReadonlyMap<string, ZipEntry>;
  /** Inflates one entry (never more than its declared size). */
  read(name: string): Uint8Array;
}

export interface ZipLimits {
  /** Cap on the sum of the declared uncompressed sizes of the entries kept by `keep`. */
  maxTotalBytes: number;
  /** Cap on one entry (default maxTotalBytes). */
  maxEntryBytes?: number;
  /** Which entries matter; the others are listed by name only and never inflated or counted. */
  keep?: (name: string) => boolean;
  /** Cap on the number of entries (each is an object in memory; default 10,000). */
  maxEntries?: number;
}

/** Deflate cannot shrink data by more than about 1032:1 (RFC 1951: 258-byte matches of 2 bits). */
const MAX_DEFLATE_RATIO = 1032;
const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/**
 * Opens a zip archive held in memory. Malformed structure, encryption, an unknown compression
 * method or a size over the limits is an InputError naming `source` with `hint` as the fix.
 *
 * @example
 * const zip = openZip(readFileSync("model.pth"), { maxTotalBytes: 64 << 20 }, "model.pth");
 * const pkl = zip.read("archive/data.pkl");
 */
export function openZip(bytes: Uint8Array, limits: ZipLimits, source: string, hint?: string): ZipArchive {
  const fail = (message: string): InputError => inputError(message, { file: source, hint });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);
  const u64 = (at: number) => {
    const value = view.getBigUint64(at, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER))
      throw fail(`is not a readable zip archive (a size of ${value})`);
    return Number(value);
  };
  const inFile = (at: number, length: number) => at >= 0 && length >= 0 && at + length <= bytes.length;

  let eocd = -1;
  for (let at = bytes.length - 22; at >= 0 && at >= bytes.length - 22 - 0xffff; at--) {
    if (u32(at) === EOCD) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0)
    throw fail("is not a readable zip archive (no end of central directory: truncated or corrupt)");
  let count = u16(eocd + 10);
  let directorySize = u32(eocd + 12);
  let directoryOffset = u32(eocd + 16);
  if (eocd >= 20 && u32(eocd - 20) === ZIP64_LOCATOR) {
    const at = u64(eocd - 12);
    if (!inFile(at, 56) || u32(at) !== ZIP64_EOCD)
      throw fail("is not a readable zip archive (bad zip64 record)");
    count = u64(at + 32);
    directorySize = u64(at + 40);
    directoryOffset = u64(at + 48);
  }
  if (!inFile(directoryOffset, directorySize) || count * 46 > directorySize) {
    throw fail(
      `is not a readable zip archive (its directory of ${count} entries at ${directoryOffset} ` +
        `does not fit in ${bytes.length} bytes: truncated or corrupt)`,
    );
  }

  const maxEntries = limits.maxEntries ?? 10_000;
  if (count > maxEntries) {
    throw fail(`lists ${count} entries, more than the ${maxEntries} a file of this kind can need`);
  }
  const entries = new Map<string, ZipEntry>();
  const decoder = new TextDecoder();
  const maxEntry = limits.maxEntryBytes ?? limits.maxTotalBytes;
  let total = 0;
  let at = directoryOffset;
  for (let i = 0; i < count; i++) {
    if (!inFile(at, 46) || u32(at) !== CENTRAL)
      throw fail(`is not a readable zip archive (entry ${i} of its directory is corrupt)`);
    const flags = u16(at + 8);
    const crc = u32(at + 16);
    const method = u16(at + 10);
    let compressedSize = u32(at + 20);
    let size = u32(at + 24);
    const nameLength = u16(at + 28);
    const extraLength = u16(at + 30);
    const commentLength = u16(at + 32);
    let localOffset = u32(at + 42);
    const next = at + 46 + nameLength + extraLength + commentLength;
    if (!inFile(at, next - at))
      throw fail(`is not a readable zip archive (entry ${i} of its directory is cut off)`);
    const name = decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    // zip64 extended information (APPNOTE 4.5.3): only the fields whose 32-bit value is saturated
    for (let e = at + 46 + nameLength; e + 4 <= at + 46 + nameLength + extraLength; ) {
      const id = u16(e);
      const length = u16(e + 2);
      if (id === 0x0001) {
        let field = e + 4;
        const take = () => {
          if (field + 8 > e + 4 + length)
            throw fail(`is not a readable zip archive (bad zip64 sizes of "${name}")`);
          const value = u64(field);
          field += 8;
          return value;
        };
        if (size === 0xffffffff) size = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localOffset === 0xffffffff) localOffset = take();
      }
      e += 4 + length;
    }
    at = next;
    if (entries.has(name)) throw fail(`is not a valid zip archive (it lists "${name}" twice)`);
    if (!inFile(localOffset, 30) || u32(localOffset) !== LOCAL) {
      throw fail(`is not a readable zip archive (the data of "${name}" is missing: truncated or corrupt)`);
    }
    const dataOffset = localOffset + 30 + u16(localOffset + 26) + u16(localOffset + 28);
    if (!inFile(dataOffset, compressedSize)) {
      throw fail(`is not a readable zip archive ("${name}" reaches past the end of the file: truncated)`);
    }
    const entry: ZipEntry = { name, method, compressedSize, size, dataOffset, crc };
    entries.set(name, entry);
    if (name.endsWith("/") || (limits.keep !== undefined && !limits.keep(name))) continue;
    if (flags & 1) throw fail(`"${name}" is encrypted`);
    if (method !== 0 && method !== 8)
      throw fail(`"${name}" uses compression method ${method} (only stored and deflate are read)`);
    if (method === 0 ? size !== compressedSize : size > compressedSize * MAX_DEFLATE_RATIO + 1024) {
      throw fail(
        `"${name}" declares ${size} bytes from ${compressedSize} compressed bytes, which is impossible`,
      );
    }
    total += size;
    if (size > maxEntry || total > limits.maxTotalBytes) {
      throw fail(
        `unpacks to more than ${mib(size > maxEntry ? maxEntry : limits.maxTotalBytes)} ` +
          `("${name}" declares ${mib(size)}), more than a file of this kind can need`,
      );
    }
  }

  const read = (name: string): Uint8Array => {
    const entry = entries.get(name);
    if (entry === undefined) throw fail(`has no entry "${name}"`);
    const data = bytes.subarray(entry.dataOffset, entry.dataOffset + entry.compressedSize);
    let out: Uint8Array = data;
    if (entry.method === 8) {
      try {
        // maxOutputLength makes zlib stop as soon as the output would pass the declared size
        out = zlib.inflateRawSync(data, { maxOutputLength: Math.max(entry.size, 1) });
      } catch (error) {
        const tooLarge = (error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE";
        throw fail(
          tooLarge
            ? `"${name}" unpacks to more than the ${entry.size} bytes it declares (corrupt, or a zip bomb)`
            : `"${name}" cannot be unpacked (${(error as Error).message}: truncated or corrupt)`,
        );
      }
    }
    if (out.length !== entry.size) {
      throw fail(
        `"${name}" unpacks to ${out.length} bytes, not the ${entry.size} it declares (truncated or corrupt)`,
      );
    }
    // zlib.crc32 is Node >= 20.15; older releases skip the check
    if (typeof zlib.crc32 === "function" && zlib.crc32(out) >>> 0 !== entry.crc) {
      throw fail(`"${name}" fails its CRC-32 check (the archive is corrupt)`);
    }
    return out;
  };
  return { entries, read };
}

function mib(bytes: number): string {
  if (bytes < 1 << 20) return `${bytes} bytes`;
  return `${(bytes / (1 << 20)).toFixed(bytes < 16 << 20 ? 1 : 0)} MiB`;
}
