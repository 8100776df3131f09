import { readFileSync } from "node:fs";
import { unzipSync } from "fflate";
import { Parser } from "pickleparser";
import { type InputError, inputError } from "../errors.js";

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

const STORAGE_DTYPE: Record<string, { dtype: PthDtype; size: number }> = {
  FloatStorage: { dtype: "float32", size: 4 },
  DoubleStorage: { dtype: "float64", size: 8 },
  HalfStorage: { dtype: "float16", size: 2 },
  BFloat16Storage: { dtype: "bfloat16", size: 2 },
  LongStorage: { dtype: "int64", size: 8 },
  IntStorage: { dtype: "int32", size: 4 },
  ShortStorage: { dtype: "int16", size: 2 },
  CharStorage: { dtype: "int8", size: 1 },
  ByteStorage: { dtype: "uint8", size: 1 },
  BoolStorage: { dtype: "bool", size: 1 },
};

// pickleparser's option types are not exported from its entry point
type ParserOptions = NonNullable<ConstructorParameters<typeof Parser>[0]>;
type NameResolver = NonNullable<ParserOptions["nameResolver"]>;
type PersistentResolver = NonNullable<ParserOptions["persistentResolver"]>;

class StorageType {
  constructor(
    readonly dtype: PthDtype,
    readonly size: number,
  ) {}
}

class StorageRef {
  constructor(
    readonly key: string,
    readonly type: StorageType,
    readonly numel: number,
  ) {}
}

class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

/** A Python object the reader does not understand (the message names it). */
class UnsupportedObject extends Error {}

/**
 * Reads a `.pth` state dict: tensor name → {shape, data (float32, contiguous), dtype}, in file order.
 * Anything that is not a zip-format PyTorch state dict is an InputError saying what it is instead.
 *
 * @example
 * const sd = readPth("../shared/models/reference/TST_pendigits.pth");
 * sd.get("conv1.weight")?.shape; // [32, 2, 5]
 */
export function readPth(path: string): Map<string, PthTensor> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw inputError(`cannot read: ${(error as Error).message}`, { file: path });
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
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (error) {
    throw fail(`is not a readable zip archive (truncated or corrupt: ${(error as Error).message})`);
  }
  const pklName = Object.keys(files).find((n) => n === "data.pkl" || /^[^/]+\/data\.pkl$/.test(n));
  if (pklName === undefined) throw fail("is a zip archive without data.pkl, so not a PyTorch checkpoint");
  const prefix = pklName.slice(0, pklName.length - "data.pkl".length);
  const byteorderFile = files[`${prefix}byteorder`];
  const byteorder = byteorderFile === undefined ? "little" : new TextDecoder().decode(byteorderFile).trim();
  if (byteorder !== "little" && byteorder !== "big") throw fail(`unknown byteorder "${byteorder}"`);

  let root: unknown;
  try {
    root = unpickle(files[pklName]);
  } catch (error) {
    if (error instanceof UnsupportedObject) throw fail(`data.pkl ${error.message}`);
    throw fail(`data.pkl is not a readable pickle (${(error as Error).message})`);
  }
  if (!(root instanceof Map)) {
    throw fail(`holds a ${describe(root)}, not a state dict (a dict of tensor name to tensor)`);
  }
  const out = new Map<string, PthTensor>();
  const decoded = new Map<string, Float32Array>();
  for (const [name, value] of root) {
    if (typeof name !== "string" || !(value instanceof TensorRef)) {
      throw fail(
        `entry ${JSON.stringify(String(name))} is a ${describe(value)}, not a tensor; a state dict holds only tensors ` +
          "(for a training checkpoint, save its model state dict on its own)",
      );
    }
    const storage = value.storage;
    let data = decoded.get(storage.key);
    if (data === undefined) {
      const raw = files[`${prefix}data/${storage.key}`];
      if (raw === undefined)
        throw fail(`storage data/${storage.key} of tensor "${name}" is missing from the archive`);
      if (raw.length !== storage.numel * storage.type.size) {
        throw fail(
          `storage data/${storage.key} has ${raw.length} bytes, expected ${storage.numel} × ${storage.type.size}`,
        );
      }
      data = decodeStorage(raw, storage.type.dtype, byteorder === "little");
      decoded.set(storage.key, data);
    }
    out.set(name, {
      shape: value.size,
      data: materialise(value, data, name, fail),
      dtype: storage.type.dtype,
    });
  }
  return out;
}

function unpickle(pkl: Uint8Array): unknown {
  const rebuildTensor = (storage: unknown, offset: unknown, size: unknown, stride: unknown): TensorRef => {
    if (!(storage instanceof StorageRef)) throw new UnsupportedObject("has a tensor without a storage");
    const ints = (v: unknown, what: string) => {
      if (!Array.isArray(v)) throw new UnsupportedObject(`has a tensor whose ${what} is not a tuple`);
      return v.map((d) => Number(d));
    };
    const sizes = ints(size, "size");
    const strides = ints(stride, "stride");
    if (sizes.length !== strides.length)
      throw new UnsupportedObject("has a tensor with size and stride of unequal rank");
    return new TensorRef(storage, Number(offset), sizes, strides);
  };
  const globals: Record<string, unknown> = {
    "torch._utils._rebuild_tensor_v2": rebuildTensor,
    // nn.Parameter saved directly: (data, requires_grad, backward_hooks)
    "torch._utils._rebuild_parameter": (data: unknown) => data,
    "collections.OrderedDict": () => new Map(),
  };
  for (const [name, info] of Object.entries(STORAGE_DTYPE)) {
    globals[`torch.${name}`] = new StorageType(info.dtype, info.size);
  }
  const nameResolver: NameResolver = {
    resolve(module: string, name: string) {
      const found = globals[`${module}.${name}`];
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
    resolve(pid: unknown) {
      if (!Array.isArray(pid) || pid[0] !== "storage" || pid.length < 5 || !(pid[1] instanceof StorageType)) {
        throw new UnsupportedObject(`has a persistent id ${describe(pid)} that is not a tensor storage`);
      }
      return new StorageRef(String(pid[2]), pid[1], Number(pid[4]));
    },
  };
  const parser = new Parser({ nameResolver, persistentResolver, unpicklingTypeOfDictionary: "Map" });
  return parser.parse(pkl);
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
function materialise(
  ref: TensorRef,
  storage: Float32Array,
  name: string,
  fail: (message: string) => InputError,
): Float32Array {
  const { size, stride, offset } = ref;
  const count = size.reduce((a, b) => a * b, 1);
  if (!size.every((d) => Number.isInteger(d) && d >= 0) || !Number.isInteger(offset) || offset < 0) {
    throw fail(`tensor "${name}" has an invalid size [${size}] or storage offset ${offset}`);
  }
  if (count === 0) return new Float32Array(0);
  let last = offset;
  for (let d = 0; d < size.length; d++) last += (size[d] - 1) * stride[d];
  if (last >= storage.length || stride.some((s) => s < 0)) {
    throw fail(
      `tensor "${name}" (size [${size}], stride [${stride}], offset ${offset}) reaches past its storage`,
    );
  }
  const out = new Float32Array(count);
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

function describe(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (value instanceof Map) return `dict with keys ${[...value.keys()].slice(0, 5).map(String).join(", ")}`;
  if (value instanceof TensorRef) return "tensor";
  if (Array.isArray(value)) return "tuple/list";
  if (typeof value === "object") {
    const proto = Object.getPrototypeOf(value) as { __module__?: string; __name__?: string } | null;
    if (proto?.__module__ !== undefined) return `${proto.__module__}.${proto.__name__} object`;
    return "object";
  }
  return typeof value;
}
