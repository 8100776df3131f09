import { types } from "node:util";
import type { Parser as PickleParser } from "pickleparser";
import { FileTooLarge, readFileBounded } from "../bounded-read.js";
import { requireCommonJs } from "../commonjs.js";
import { InputError, inputError } from "../errors.js";
import { asInputError } from "../fs-error.js";
import { openZip } from "../zip-archive.js";

/**
 * Reader for PyTorch `torch.save` files in the zip format (PyTorch >= 1.6): a zip archive with
 * `<dir>/data.pkl` (the pickled object, protocol 2), `<dir>/byteorder` ("little" or "big") and one
 * raw storage per tensor at `<dir>/data/<key>`. data.pkl refers to storages by persistent ids
 * `('storage', torch.FloatStorage, key, location, numel)` and rebuilds each tensor with
 * `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)`
 * (torch/serialization.py, `_load`). Only those names and `collections.OrderedDict` are understood,
 * so nothing in the file can run code: any other Python global is rejected.
 */

export type PthDtype =
  | "float32"
  | "float64"
  | "float16"
  | "bfloat16"
  | "int64"
  | "int32"
  | "int16"
  | "int8"
  | "uint8"
  | "bool";

/** One tensor of a state dict, materialised contiguous (row-major) and converted to float32. */
export interface PthTensor {
  readonly shape: number[];
  readonly data: Float32Array;
  /** The dtype of the tensor in the file (int64 values above 2^24 lose precision in `data`). */
  readonly dtype: PthDtype;
}

// pickleparser's option types are not exported from its entry point
type ParserOptions = NonNullable<ConstructorParameters<typeof PickleParser>[0]>;
type NameResolver = NonNullable<ParserOptions["nameResolver"]>;
type PersistentResolver = NonNullable<ParserOptions["persistentResolver"]>;

/** The limits a checkpoint must keep before anything is unpacked or allocated. */
export const PTH_LIMITS = {
  /** Bytes of the file itself. */
  maxFileBytes: 96 << 20,
  /** Declared bytes of all storages together (the reference checkpoints need 1.7 MB). */
  maxStorageBytes: 64 << 20,
  /** Elements of all tensors together, after strided views are materialised (float32 each). */
  maxElements: 1 << 24,
  /**
   * Bytes of data.pkl: ~140 per tensor (the reference's is 8.5 kB for 60), so 256 KiB holds ~1,800
   * tensors. Kept small because a pickle amplifies: each 1-byte EMPTY_DICT opcode makes a Map of
   * ~200 bytes, so 1 MiB of them takes 200 MB while unpickling.
   */
  maxPickleBytes: 256 << 10,
} as const;

/** A storage type named by a GLOBAL opcode (`torch.FloatStorage`, …): a frozen tag compared by identity. */
class StorageType {
  constructor(
    readonly dtype: PthDtype,
    readonly size: number,
  ) {
    Object.freeze(this);
  }
}

/** Storage class name → its element type and byte size (torch/storage.py). */
const STORAGE_TYPES = new Map<string, StorageType>(
  Object.entries({
    FloatStorage: ["float32", 4],
    DoubleStorage: ["float64", 8],
    HalfStorage: ["float16", 2],
    BFloat16Storage: ["bfloat16", 2],
    LongStorage: ["int64", 8],
    IntStorage: ["int32", 4],
    ShortStorage: ["int16", 2],
    CharStorage: ["int8", 1],
    ByteStorage: ["uint8", 1],
    BoolStorage: ["bool", 1],
  }).map(([name, [dtype, size]]) => [name, new StorageType(dtype as PthDtype, size as number)]),
);

/** A persistent id `('storage', type, key, location, numel)` as read, still unchecked. */
class StorageRecord {
  constructor(readonly pid: readonly unknown[]) {
    Object.freeze(this);
  }
}

/** The arguments of one `_rebuild_tensor_v2` call as read, still unchecked. */
class TensorRecord {
  constructor(readonly args: readonly unknown[]) {
    Object.freeze(this);
  }
}

interface StorageRef {
  readonly key: string;
  readonly type: StorageType;
  readonly numel: number;
}

interface TensorRef {
  readonly storage: StorageRef;
  readonly offset: number;
  readonly size: number[];
  readonly stride: number[];
  /** Π size, at most PTH_LIMITS.maxElements. */
  readonly count: number;
}

/** A Python object the reader does not understand (the message names it). */
class UnsupportedObject extends Error {}

/**
 * Reads a `.pth` state dict: tensor name → {shape, data (float32, contiguous), dtype}, in file order.
 * Anything that is not a zip-format PyTorch state dict is an InputError saying what it is instead.
 * Every size is checked against the bytes present and {@link PTH_LIMITS} before it is unpacked.
 *
 * @example
 * const sd = readPth("../shared/models/reference/TST_pendigits.pth");
 * sd.get("conv1.weight")?.shape; // [32, 2, 5]
 */
export function readPth(path: string): Map<string, PthTensor> {
  let bytes: Uint8Array;
  try {
    bytes = readFileBounded(path, PTH_LIMITS.maxFileBytes);
  } catch (error) {
    if (error instanceof FileTooLarge) {
      throw inputError(`holds more than the ${error.limit} bytes a model checkpoint may have`, {
        file: path,
        hint: "pass the state dict of a model of the size tspatch works with (the reference checkpoints are 1.8 MB)",
      });
    }
    // A file-system error (missing, a directory, no permission) names the file and the fix.
    const input = asInputError(error, path);
    throw input instanceof InputError
      ? input
      : inputError(`cannot read: ${(error as Error).message}`, { file: path });
  }
  return parsePth(bytes, path);
}

/**
 * {@link readPth} on bytes already in memory; `source` names the file in error messages.
 *
 * @example
 * const sd = parsePth(readFileSync("model.pth"), "model.pth");
 */
export function parsePth(bytes: Uint8Array, source = "checkpoint"): Map<string, PthTensor> {
  const hint = "pass a file written by torch.save(model.state_dict(), path) (PyTorch >= 1.6 zip format)";
  const fail = (message: string) => inputError(message, { file: source, hint });
  if (bytes.length >= 4 && bytes[0] === 0x80 && bytes[1] <= 5) {
    throw inputError(
      "is a bare pickle (legacy PyTorch format before 1.6, or not PyTorch), not a zip checkpoint",
      {
        file: source,
        hint: "re-save it in PyTorch >= 1.6: torch.save(torch.load(path), new_path)",
      },
    );
  }
  if (
    !(bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04)
  ) {
    throw fail("is not a PyTorch checkpoint (not a zip archive)");
  }
  const zip = openZip(
    bytes,
    {
      maxTotalBytes: PTH_LIMITS.maxStorageBytes + PTH_LIMITS.maxPickleBytes,
      maxEntryBytes: PTH_LIMITS.maxStorageBytes,
      // one storage per tensor, and data.pkl's cap allows ~1,800 tensors
      maxEntries: 4096,
    },
    source,
    hint,
  );
  const pklName = [...zip.entries.keys()].find((n) => n === "data.pkl" || /^[^/]+\/data\.pkl$/.test(n));
  if (pklName === undefined) throw fail("is a zip archive without data.pkl, so not a PyTorch checkpoint");
  const prefix = pklName.slice(0, pklName.length - "data.pkl".length);
  const byteorderName = `${prefix}byteorder`;
  const byteorderEntry = zip.entries.get(byteorderName);
  if (byteorderEntry !== undefined && byteorderEntry.size > 16)
    throw fail('has a byteorder entry that is not "little" or "big"');
  const byteorder =
    byteorderEntry === undefined ? "little" : new TextDecoder().decode(zip.read(byteorderName)).trim();
  if (byteorder !== "little" && byteorder !== "big") throw fail(`unknown byteorder "${byteorder}"`);
  if ((zip.entries.get(pklName)?.size ?? 0) > PTH_LIMITS.maxPickleBytes) {
    throw fail(`has a data.pkl larger than ${PTH_LIMITS.maxPickleBytes} bytes, more than a state dict needs`);
  }

  let root: unknown;
  try {
    root = unpickle(zip.read(pklName));
  } catch (error) {
    if (error instanceof InputError) throw error;
    if (error instanceof UnsupportedObject) throw fail(`data.pkl ${error.message}`);
    throw fail(`data.pkl is not a readable pickle (${(error as Error).message})`);
  }
  const refs = stateDictOf(root, fail);

  // Every declared size is checked against the archive before a storage is unpacked.
  const storages = new Map<string, StorageRef>();
  let storageBytes = 0;
  let elements = 0;
  for (const [name, ref] of refs) {
    const { key, type, numel } = ref.storage;
    const entry = zip.entries.get(`${prefix}data/${key}`);
    if (entry === undefined)
      throw fail(`storage data/${key} of tensor "${name}" is missing from the archive`);
    const seen = storages.get(key);
    if (seen === undefined) {
      if (entry.size !== numel * type.size) {
        throw fail(`storage data/${key} has ${entry.size} bytes, expected ${numel} × ${type.size}`);
      }
      storages.set(key, ref.storage);
      storageBytes += entry.size;
    } else if (seen.type !== type || seen.numel !== numel) {
      throw fail(`storage data/${key} is declared with two different types or sizes (tensor "${name}")`);
    }
    elements += ref.count;
    if (elements > PTH_LIMITS.maxElements || storageBytes > PTH_LIMITS.maxStorageBytes) {
      throw fail(
        `tensor "${name}" brings the checkpoint past ${PTH_LIMITS.maxElements} values ` +
          `(or ${PTH_LIMITS.maxStorageBytes} bytes of storage), more than a model tspatch works with`,
      );
    }
  }

  const out = new Map<string, PthTensor>();
  const decoded = new Map<string, Float32Array>();
  for (const [name, ref] of refs) {
    const storage = ref.storage;
    let data = decoded.get(storage.key);
    if (data === undefined) {
      data = decodeStorage(
        zip.read(`${prefix}data/${storage.key}`),
        storage.type.dtype,
        byteorder === "little",
      );
      decoded.set(storage.key, data);
    }
    out.set(name, { shape: ref.size, data: materialise(ref, data), dtype: storage.type.dtype });
  }
  return out;
}

function unpickle(pkl: Uint8Array): unknown {
  const globals = new Map<string, unknown>([
    ["torch._utils._rebuild_tensor_v2", (...args: unknown[]) => new TensorRecord(args)],
    // nn.Parameter saved directly: (data, requires_grad, backward_hooks)
    ["torch._utils._rebuild_parameter", (data: unknown) => data],
    ["collections.OrderedDict", () => new Map()],
  ]);
  for (const [name, type] of STORAGE_TYPES) globals.set(`torch.${name}`, type);
  const nameResolver: NameResolver = {
    resolve(module: string, name: string) {
      const found = globals.get(`${module}.${name}`);
      if (found === undefined) {
        throw new UnsupportedObject(
          `refers to the Python object ${module}.${name}, which a state dict does not contain`,
        );
      }
      // pickleparser types globals as constructors/functions; storage types are tags we check later
      return found as (...args: unknown[]) => unknown;
    },
  };
  const persistentResolver: PersistentResolver = {
    resolve: (pid: unknown) => new StorageRecord(Array.isArray(pid) ? [...pid] : [pid]),
  };
  const { Parser } = requireCommonJs("pickleparser") as { Parser: typeof PickleParser };
  const parser = new Parser({ nameResolver, persistentResolver, unpicklingTypeOfDictionary: "Map" });
  return parser.parse(pkl);
}

/**
 * The unpickled object graph is untrusted (BUILD can set any attribute, DICT can set a `__proto__`):
 * this walk reads it only through intrinsics and accepts only what a state dict is, a dict of
 * name → `_rebuild_tensor_v2(storage, offset, size, stride, …)` with integer tuples.
 */
function stateDictOf(root: unknown, fail: (message: string) => InputError): Map<string, TensorRef> {
  if (!isPlainMap(root)) {
    throw fail(
      types.isMap(root)
        ? "holds a dict with attributes or a prototype set on it (by a DICT or BUILD opcode), which a state dict never has"
        : `holds ${describe(root)}, not a state dict (a dict of tensor name to tensor)`,
    );
  }
  const out = new Map<string, TensorRef>();
  for (const [name, value] of mapEntries(root)) {
    if (typeof name !== "string")
      throw fail(`has a key ${describe(name)}; a state dict's keys are tensor names`);
    if (out.has(name)) throw fail(`lists tensor "${name}" twice`);
    if (!(value instanceof TensorRecord)) {
      throw fail(
        `entry ${JSON.stringify(name)} is ${describe(value)}, not a tensor; a state dict holds only tensors ` +
          "(for a training checkpoint, save its model state dict on its own)",
      );
    }
    out.set(
      name,
      tensorOf(value.args, (message) => fail(`tensor "${name}": ${message}`)),
    );
  }
  return out;
}

function tensorOf(args: readonly unknown[], fail: (message: string) => InputError): TensorRef {
  if (args.length < 4 || args.length > 7)
    throw fail(`_rebuild_tensor_v2 has ${args.length} arguments, not 6`);
  const storageRecord = args[0];
  if (!(storageRecord instanceof StorageRecord)) throw fail(`its storage is ${describe(storageRecord)}`);
  const storage = storageOf(storageRecord.pid, fail);
  const offset = count(args[1], "storage offset", fail);
  const size = countTuple(args[2], "size", fail);
  const stride = countTuple(args[3], "stride", fail);
  if (size.length !== stride.length) throw fail(`size [${size}] and stride [${stride}] have unequal rank`);
  let elements = 1;
  for (const d of size) {
    elements *= d;
    if (elements > PTH_LIMITS.maxElements) {
      throw fail(
        `size [${size}] declares more than ${PTH_LIMITS.maxElements} values, more than a model tspatch works with`,
      );
    }
  }
  if (elements > 0) {
    let last = offset;
    for (let d = 0; d < size.length; d++) last += (size[d] - 1) * stride[d];
    if (!(last < storage.numel)) {
      throw fail(
        `size [${size}], stride [${stride}] and offset ${offset} reach past its storage of ${storage.numel} values`,
      );
    }
  }
  return { storage, offset, size, stride, count: elements };
}

function storageOf(pid: readonly unknown[], fail: (message: string) => InputError): StorageRef {
  const [tag, type, key, location, numel] = pid;
  if (pid.length !== 5 || tag !== "storage" || !(type instanceof StorageType)) {
    throw fail(`has a persistent id that is not ('storage', torch.<Type>Storage, key, location, numel)`);
  }
  if (typeof key !== "string" || !/^[A-Za-z0-9_.-]{1,64}$/.test(key) || typeof location !== "string") {
    throw fail(`has a storage key ${describe(key)} that is not the name of an archive entry`);
  }
  return { key, type, numel: count(numel, "storage size", fail) };
}

function count(value: unknown, what: string, fail: (message: string) => InputError): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw fail(`its ${what} is ${describe(value)}, not a non-negative integer`);
  }
  return value;
}

function countTuple(value: unknown, what: string, fail: (message: string) => InputError): number[] {
  if (!Array.isArray(value) || Object.getPrototypeOf(value) !== Array.prototype) {
    throw fail(`its ${what} is ${describe(value)}, not a tuple of integers`);
  }
  const length = value.length;
  if (length > 64) throw fail(`its ${what} has ${length} dimensions (PyTorch allows 64)`);
  const out: number[] = [];
  for (let i = 0; i < length; i++) out.push(count(value[i], `${what}[${i}]`, fail));
  return out;
}

/** A genuine Map (internal slot, not a prototype that says so) with no properties set by DICT or BUILD. */
function isPlainMap(value: unknown): value is Map<unknown, unknown> {
  return (
    types.isMap(value) &&
    Object.getPrototypeOf(value) === Map.prototype &&
    Reflect.ownKeys(value as object).length === 0
  );
}

const intrinsicEntries = Map.prototype.entries;
function mapEntries(map: Map<unknown, unknown>): [unknown, unknown][] {
  return [...(intrinsicEntries.call(map) as IterableIterator<[unknown, unknown]>)];
}

function decodeStorage(raw: Uint8Array, dtype: PthDtype, little: boolean): Float32Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const read: Record<PthDtype, [number, (i: number) => number]> = {
    float32: [4, (i) => view.getFloat32(i, little)],
    float64: [8, (i) => view.getFloat64(i, little)],
    float16: [2, (i) => halfToFloat(view.getUint16(i, little))],
    bfloat16: [2, (i) => bfloat16ToFloat(view.getUint16(i, little))],
    int64: [8, (i) => Number(view.getBigInt64(i, little))],
    int32: [4, (i) => view.getInt32(i, little)],
    int16: [2, (i) => view.getInt16(i, little)],
    int8: [1, (i) => view.getInt8(i)],
    uint8: [1, (i) => view.getUint8(i)],
    bool: [1, (i) => (view.getUint8(i) === 0 ? 0 : 1)],
  };
  const [size, get] = read[dtype];
  const out = new Float32Array(raw.length / size);
  for (let k = 0; k < out.length; k++) out[k] = get(k * size);
  return out;
}

/** Copies a (possibly strided, offset) view of a storage into a contiguous row-major array. */
function materialise(ref: TensorRef, storage: Float32Array): Float32Array {
  const { size, stride, offset, count } = ref;
  const out = new Float32Array(count);
  if (count === 0) return out;
  const rank = size.length;
  const index = new Array<number>(rank).fill(0);
  let at = offset;
  for (let k = 0; k < count; k++) {
    out[k] = storage[at];
    // odometer increment of the multi-index, keeping `at` = offset + Σ index·stride
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      at += stride[d];
      if (index[d] < size[d]) break;
      at -= stride[d] * size[d];
      index[d] = 0;
    }
  }
  return out;
}

/** IEEE 754 binary16 → number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** bfloat16 = the top 16 bits of a float32. */
function bfloat16ToFloat(b: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, b << 16);
  return view.getFloat32(0);
}

/** Names an unpickled value for a message, reading it only through intrinsics (it may be hostile). */
function describe(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (typeof value === "string") return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return `the ${typeof value === "boolean" ? "bool" : "number"} ${String(value)}`;
  }
  if (types.isMap(value)) {
    const keys = mapEntries(value).map(([k]) => (typeof k === "string" ? k : "…"));
    return `a dict with keys ${keys.slice(0, 5).join(", ")}${keys.length > 5 ? ", …" : ""}`;
  }
  if (value instanceof TensorRecord) return "a tensor";
  if (value instanceof StorageType) return "a storage type";
  if (Array.isArray(value)) {
    return Object.getPrototypeOf(value) === Array.prototype
      ? "a tuple/list"
      : "a list with a prototype set on it by BUILD";
  }
  if (types.isTypedArray(value)) return "a bytes object";
  if (typeof value === "function") return "a Python callable";
  return "an object";
}
