import { writeFileAtomic } from "../atomic-write.js";
import { FileTooLarge, readFileBounded } from "../bounded-read.js";
import { InputError, inputError } from "../errors.js";
import { asInputError } from "../fs-error.js";

/**
 * safetensors reading and writing (https://huggingface.co/docs/safetensors, "Format"): an 8-byte
 * little-endian header length N, N bytes of UTF-8 JSON
 * `{"__metadata__": {string: string}, name: {"dtype", "shape", "data_offsets": [begin, end]}}`,
 * then the raw little-endian tensor bytes (offsets relative to the end of the header, contiguous,
 * no holes). No npm package for it is maintained for Node (checked); the format is small.
 *
 * Writing is deterministic: tensors ordered by element size (largest first, as the reference Rust
 * writer orders by dtype) then by name, `__metadata__` first, compact JSON padded with spaces to a
 * multiple of 8 (so every tensor starts 8-byte aligned). scripts/fixtures/safetensors_io.py writes
 * the same bytes.
 */

export type SafetensorsDtype = "F64" | "F32" | "I64" | "I32" | "U8" | "BOOL";

export type TensorData = Float64Array | Float32Array | BigInt64Array | Int32Array | Uint8Array;

/** One stored tensor. BOOL data is a Uint8Array of 0/1. */
export interface StoredTensor {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

/** A decoded file: tensors in file-header order, plus the string metadata. */
export interface SafetensorsFile {
  readonly tensors: Map<string, StoredTensor>;
  readonly metadata: Record<string, string>;
}

const ITEM_SIZE: Record<SafetensorsDtype, number> = { F64: 8, F32: 4, I64: 8, I32: 4, U8: 1, BOOL: 1 };

const CONSTRUCTOR = {
  F64: Float64Array,
  F32: Float32Array,
  I64: BigInt64Array,
  I32: Int32Array,
  U8: Uint8Array,
  BOOL: Uint8Array,
} as const;

/** A header is ~100 bytes per tensor; the cap keeps JSON.parse of a corrupt file from taking gigabytes. */
const MAX_HEADER_BYTES = 8 << 20;

/** Tensor bytes a weights file may hold unless the caller knows the exact size. */
const MAX_TENSOR_BYTES = 1 << 30;

/**
 * A Float32 tensor in the form {@link encodeSafetensors} takes.
 *
 * @example
 * const w = f32([2, 2], [1, 2, 3, 4]);
 */
export function f32(shape: readonly number[], values: ArrayLike<number>): StoredTensor {
  return { dtype: "F32", shape: [...shape], data: Float32Array.from(values) };
}

/**
 * Encodes tensors (and string metadata) as safetensors bytes, deterministically.
 *
 * @example
 * const bytes = encodeSafetensors({ "unembed.b_U": f32([2], [0.5, -1]) }, { format: "pt" });
 */
export function encodeSafetensors(
  tensors: Map<string, StoredTensor> | Record<string, StoredTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  for (const [name, t] of entries) checkTensor(name, t);
  entries.sort(([a, ta], [b, tb]) => ITEM_SIZE[tb.dtype] - ITEM_SIZE[ta.dtype] || compareNames(a, b));
  const header: Record<string, unknown> = {};
  const metaKeys = Object.keys(metadata).sort(compareNames);
  if (metaKeys.length > 0) {
    const meta: Record<string, string> = {};
    for (const k of metaKeys) {
      if (typeof metadata[k] !== "string") {
        throw inputError(`safetensors metadata value of "${k}" must be a string`, { field: k });
      }
      meta[k] = metadata[k];
    }
    header.__metadata__ = meta;
  }
  let offset = 0;
  for (const [name, t] of entries) {
    const bytes = t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const jsonBytes = new TextEncoder().encode(json);
  const pad = (8 - (jsonBytes.length % 8)) % 8;
  json += " ".repeat(pad);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const [, t] of entries) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

/**
 * Decodes safetensors bytes. Any malformation is an InputError naming `source` (file name).
 *
 * @example
 * const { tensors, metadata } = decodeSafetensors(readFileSync("weights.safetensors"), "weights.safetensors");
 */
export function decodeSafetensors(bytes: Uint8Array, source = "safetensors data"): SafetensorsFile {
  const fail = (message: string, field?: string) =>
    inputError(message, {
      file: source,
      field,
      hint: "the file is not a valid safetensors file (truncated or not written by a safetensors writer)",
    });
  if (bytes.length < 8) throw fail(`file is ${bytes.length} bytes, too short for a safetensors header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, bytes.length - 8))) {
    throw fail(`header length ${headerLength} exceeds the file size (${bytes.length} bytes)`);
  }
  const n = Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch {
    throw fail("header is not valid UTF-8 JSON");
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    throw fail("header is not a JSON object");
  }
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const spans: { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (info === null) continue;
      if (typeof info !== "object" || Array.isArray(info)) throw fail("__metadata__ is not an object", name);
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== "string") throw fail(`metadata value of "${k}" is not a string`, name);
        metadata[k] = v;
      }
      continue;
    }
    const entry = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (entry === null || typeof entry !== "object" || Array.isArray(entry))
      throw fail("entry is not an object", name);
    const dtype = entry.dtype;
    if (typeof dtype !== "string" || !Object.hasOwn(ITEM_SIZE, dtype)) {
      throw fail(
        `unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(ITEM_SIZE).join(", ")})`,
        name,
      );
    }
    const shape = entry.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw fail(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`, name);
    }
    const offsets = entry.data_offsets;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((d) => Number.isSafeInteger(d) && d >= 0) ||
      offsets[1] < offsets[0]
    ) {
      throw fail(`data_offsets ${JSON.stringify(offsets)} is not [begin, end]`, name);
    }
    const [begin, end] = offsets as [number, number];
    const d = dtype as SafetensorsDtype;
    if (end > dataLength)
      throw fail(`data_offsets end ${end} is past the end of the data (${dataLength} bytes)`, name);
    // the product is compared with a span that fits in the file, so stopping early keeps it exact
    let count = 1;
    for (const dim of shape as number[]) count = count * dim > dataLength ? dataLength + 1 : count * dim;
    if (end - begin !== count * ITEM_SIZE[d]) {
      throw fail(
        `data_offsets span ${end - begin} bytes but shape [${shape}] of ${d} needs ${count > dataLength ? "more than the file holds" : count * ITEM_SIZE[d]}`,
        name,
      );
    }
    spans.push({ name, dtype: d, shape: shape as number[], begin, end });
  }
  // every span is checked (no overlap, no hole) before any tensor is copied, so the copies
  // together never exceed the file's size
  const sorted = [...spans].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const s of sorted) {
    if (s.begin !== expected) {
      throw fail(
        s.begin < expected ? "tensor data overlaps the previous tensor" : "hole before tensor data",
        s.name,
      );
    }
    expected = s.end;
  }
  if (expected !== dataLength) {
    throw fail(`${dataLength - expected} bytes after the last tensor (file is corrupt or truncated)`);
  }
  const tensors = new Map<string, StoredTensor>();
  for (const { name, dtype, shape, begin, end } of spans) {
    // copy into a fresh, aligned buffer: the file's bytes may sit at any offset (and Buffer#slice
    // would share the pooled buffer instead of copying)
    const raw = new Uint8Array(end - begin);
    raw.set(bytes.subarray(dataStart + begin, dataStart + end));
    tensors.set(name, { dtype, shape, data: new CONSTRUCTOR[dtype](raw.buffer) });
  }
  return { tensors, metadata };
}

/**
 * Reads a .safetensors file. `maxTensorBytes` (when the caller knows what the tensors need) refuses
 * a larger file before reading it.
 *
 * @example
 * const { tensors } = readSafetensors("models/jv/weights.safetensors");
 */
export function readSafetensors(path: string, options: { maxTensorBytes?: number } = {}): SafetensorsFile {
  const maxBytes = 8 + MAX_HEADER_BYTES + (options.maxTensorBytes ?? MAX_TENSOR_BYTES);
  let bytes: Uint8Array;
  try {
    bytes = readFileBounded(path, maxBytes);
  } catch (error) {
    if (error instanceof FileTooLarge) {
      throw inputError(`holds more than the ${maxBytes} bytes its tensors can need`, {
        file: path,
        hint:
          options.maxTensorBytes === undefined
            ? "tspatch reads weights files of up to 1 GiB"
            : "the weights do not belong to this config.json (or the file is corrupt)",
      });
    }
    // A file-system error (missing, a directory, no permission) names the file and the fix.
    const input = asInputError(error, path);
    throw input instanceof InputError
      ? input
      : inputError(`cannot read: ${(error as Error).message}`, { file: path });
  }
  return decodeSafetensors(bytes, path);
}

/**
 * Writes a .safetensors file atomically (temporary file + rename).
 *
 * @example
 * writeSafetensors("out/weights.safetensors", { "unembed.b_U": f32([2], [0.5, -1]) });
 */
export function writeSafetensors(
  path: string,
  tensors: Map<string, StoredTensor> | Record<string, StoredTensor>,
  metadata: Record<string, string> = {},
): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

function checkTensor(name: string, t: StoredTensor): void {
  if (name === "__metadata__" || name === "") {
    throw inputError(`"${name}" cannot be a tensor name in a safetensors file`, { field: name });
  }
  if (!(t.dtype in ITEM_SIZE)) throw inputError(`unsupported dtype ${t.dtype}`, { field: name });
  if (!(t.data instanceof CONSTRUCTOR[t.dtype])) {
    throw inputError(`data of dtype ${t.dtype} must be a ${CONSTRUCTOR[t.dtype].name}`, { field: name });
  }
  const count = t.shape.reduce((a, b) => a * b, 1);
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) || count !== t.data.length) {
    throw inputError(`shape [${t.shape}] does not match ${t.data.length} values`, { field: name });
  }
}

/** Code-unit order, the same as Python's for the ASCII names we write. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
