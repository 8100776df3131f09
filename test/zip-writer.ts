import * as zlib from "node:zlib";

/**
 * A zip writer for tests that can lie: each entry's declared size and its compressed bytes can be
 * given separately, which is what a zip bomb or a corrupt archive looks like (APPNOTE.TXT 4.3).
 */
export interface CraftedEntry {
  name: string;
  /** The uncompressed content (ignored for the data when `deflated` is given, still used for the CRC). */
  data?: Uint8Array;
  /** Raw deflate bytes stored as the entry's data (method 8). */
  deflated?: Uint8Array;
  /** Compress `data` with deflate instead of storing it. */
  deflate?: boolean;
  /** The uncompressed size written in the headers (default: the real one). */
  declaredSize?: number;
}

export function writeZip(entries: CraftedEntry[]): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const data = e.data ?? new Uint8Array(0);
    const body = e.deflated ?? (e.deflate ? zlib.deflateRawSync(data) : data);
    const method = e.deflated !== undefined || e.deflate ? 8 : 0;
    const size = e.declaredSize ?? data.length;
    const crc = zlib.crc32(data) >>> 0;
    const name = Buffer.from(e.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, Buffer.from(body));
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, directory, end]));
}

/**
 * A raw deflate stream of `bytes` zero bytes (a multiple of 16 MiB), built from one full-flushed
 * block repeated (each block starts afresh), so a 1.5 GiB stream costs 1.5 MB and milliseconds.
 */
export function zerosDeflated(bytes: number): Uint8Array {
  const chunk = 16 << 20;
  const block = zlib.deflateRawSync(Buffer.alloc(chunk), { finishFlush: zlib.constants.Z_FULL_FLUSH });
  const parts: Buffer[] = [];
  for (let done = 0; done < bytes; done += chunk) parts.push(block);
  parts.push(Buffer.from([0x03, 0x00])); // an empty final block
  return new Uint8Array(Buffer.concat(parts));
}
