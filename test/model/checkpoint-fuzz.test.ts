import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { InputError } from "../../src/errors.js";
import { importPth } from "../../src/model/import-pth.js";
import { loadModel, saveModel } from "../../src/model/model-dir.js";
import { paramShapes } from "../../src/model/param-names.js";
import { parsePth } from "../../src/model/pth.js";
import { importReferenceStateDict } from "../../src/model/reference-keys.js";
import { Rng } from "../../src/random/rng.js";
import { openZip } from "../../src/zip-archive.js";
import { SHARED } from "../patching/reference-models.js";
import { writeZip } from "../zip-writer.js";

/**
 * Seeded fuzzing of the checkpoint loaders: pickle opcodes of data.pkl, the zip structure of a .pth,
 * and the JSON header of weights.safetensors are mutated from valid seeds (tiny.pth of
 * scripts/fixtures/hostile_pth_fixtures.py, views.pth, and the reference checkpoints when present).
 * Every case must end in a valid model or an InputError (exit 2), never another exception, and the
 * process's memory must stay bounded throughout.
 */

const FIXTURES = fileURLToPath(new URL("../fixtures/pth/", import.meta.url));
const REFERENCE = join(SHARED, "models", "reference", "TST_japanesevowels.pth");
const tmp = mkdtempSync(join(tmpdir(), "tspatch-fuzz-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Values a hostile field may take, from JSON's every type and the edges of integers.
const HOSTILE_VALUES: unknown[] = [
  null,
  true,
  "F32",
  "__proto__",
  "constructor",
  -1,
  0,
  1.5,
  2 ** 31,
  2 ** 53,
  1e308,
  [],
  [2 ** 40],
  [0, 2 ** 53],
  [-4, 4],
  {},
  { __proto__: null },
  [[1]],
  "a",
];

type Outcome = "ok" | "InputError";

/** Runs one load; anything but success or an InputError fails the test with the case named. */
function outcome(label: string, load: () => void): Outcome {
  try {
    load();
    return "ok";
  } catch (error) {
    if (error instanceof InputError) return "InputError";
    throw new Error(`${label}: ${(error as Error).name}: ${(error as Error).message}`);
  }
}

/** A loaded .pth must be a model: every parameter present, of its shape, finite. */
function loadPthModel(bytes: Uint8Array): void {
  const { config, weights } = importReferenceStateDict(parsePth(bytes, "fuzz.pth"), { file: "fuzz.pth" });
  for (const { name, shape } of paramShapes(config)) {
    const w = weights.get(name);
    expect(w?.length, name).toBe(shape.reduce((a, b) => a * b, 1));
    expect(w!.every(Number.isFinite), name).toBe(true);
  }
}

function entriesOf(bytes: Uint8Array): { name: string; data: Uint8Array }[] {
  const zip = openZip(bytes, { maxTotalBytes: 1 << 26 }, "seed");
  return [...zip.entries.keys()].map((name) => ({ name, data: zip.read(name) }));
}

/** Memory growth stays bounded: RSS sampled after every case, relative to the start. */
class MemoryWatch {
  private readonly start = process.memoryUsage().rss;
  peak = 0;
  sample(): void {
    this.peak = Math.max(this.peak, process.memoryUsage().rss - this.start);
  }
}

/** One opcode of a pickle: its byte range [start, end) including arguments. */
interface Op {
  op: number;
  start: number;
  end: number;
}

/** Splits a pickle into opcodes (argument layouts of Lib/pickletools.py); null if it cannot. */
function disassemble(pkl: Uint8Array): Op[] | null {
  const fixed: Record<number, number> = {
    128: 1,
    113: 1,
    114: 4,
    104: 1,
    106: 4,
    75: 1,
    77: 2,
    74: 4,
    71: 8,
    149: 8,
  };
  const prefixed: Record<number, number> = {
    88: 4,
    140: 1,
    141: 8,
    67: 1,
    66: 4,
    142: 8,
    84: 4,
    85: 1,
    138: 1,
    139: 4,
  };
  const lines: Record<number, number> = { 99: 2, 73: 1, 76: 1, 70: 1, 83: 1, 86: 1, 112: 1, 103: 1, 80: 1 };
  const view = new DataView(pkl.buffer, pkl.byteOffset, pkl.byteLength);
  const ops: Op[] = [];
  let at = 0;
  while (at < pkl.length) {
    const op = pkl[at];
    let end = at + 1;
    if (op in fixed) end += fixed[op];
    else if (op in prefixed) {
      const width = prefixed[op];
      if (end + width > pkl.length) return null;
      const n =
        width === 1
          ? pkl[end]
          : width === 4
            ? view.getUint32(end, true)
            : Number(view.getBigUint64(end, true));
      end += width + n;
    } else if (op in lines) {
      for (let k = 0; k < lines[op]; k++) {
        const nl = pkl.indexOf(0x0a, end);
        if (nl < 0) return null;
        end = nl + 1;
      }
    }
    if (end > pkl.length) return null;
    ops.push({ op, start: at, end });
    at = end;
  }
  return ops;
}

const utf8 = (s: string) => Array.from(new TextEncoder().encode(s));
const unicodeOp = (s: string) => [0x58, ...u32(utf8(s).length), ...utf8(s)];
function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}
/** Opcodes that push one hostile value: every type a field can be given instead of an int. */
const HOSTILE_PUSHES: number[][] = [
  unicodeOp("a"),
  unicodeOp("__proto__"),
  [0x4e], // None
  [0x88], // True
  [0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0], // 1.5
  [0x47, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0], // NaN
  [0x4a, ...u32(-1)], // -1
  [0x4a, ...u32(0x7fffffff)],
  [0x8a, 6, 0, 0, 0, 0, 0, 1], // 2^40
  [0x8a, 5, 0, 0, 0, 0x20, 0], // 2^29
  [0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1], // 2^64
  [0x7d], // {}
  [0x5d], // []
  [0x7d, ...unicodeOp("a"), 0x4b, 1, 0x73], // {'a': 1}
  [0x28, 0x4b, 0, 0x4b, 1, 0x74], // (0, 1)
];
/** BUILD states set on whatever object is on the stack. */
const BUILD_KEYS = [
  "dtype",
  "__proto__",
  "size",
  "stride",
  "storage",
  "__dict__",
  "__setstate__",
  "key",
  "numel",
];

function mutatePickle(pkl: Uint8Array, rng: Rng): { bytes: Uint8Array; how: string } {
  const ops = disassemble(pkl);
  const bytes = Array.from(pkl);
  const splice = (start: number, remove: number, insert: number[]) => {
    bytes.splice(start, remove, ...insert);
    return Uint8Array.from(bytes);
  };
  const hostile = () => HOSTILE_PUSHES[rng.int(HOSTILE_PUSHES.length)];
  const kind = ops === null ? 6 : rng.int(7);
  if (ops === null || kind === 6) {
    const at = rng.int(bytes.length);
    const flipped = bytes[at] ^ (1 << rng.int(8));
    return { bytes: splice(at, 1, [flipped]), how: `flip a bit of byte ${at}` };
  }
  const pickOp = (want: (o: Op) => boolean) => {
    const candidates = ops.filter(want);
    return candidates.length === 0 ? ops[rng.int(ops.length)] : candidates[rng.int(candidates.length)];
  };
  switch (kind) {
    case 0: {
      // an integer (offset, size, stride, numel) given a value of another type or out of range
      const o = pickOp((x) => x.op === 0x4b || x.op === 0x4a || x.op === 0x4d);
      const v = hostile();
      return { bytes: splice(o.start, o.end - o.start, v), how: `op at ${o.start} → [${v}]` };
    }
    case 1: {
      // BUILD with a hostile state after an object: a tuple, a reduce result, a global, a persistent id
      const o = pickOp((x) => [0x74, 0x85, 0x86, 0x87, 0x52, 0x63, 0x51, 0x7d, 0x5d, 0x29].includes(x.op));
      const key = BUILD_KEYS[rng.int(BUILD_KEYS.length)];
      const state = [0x7d, ...unicodeOp(key), ...hostile(), 0x73];
      return { bytes: splice(o.end, 0, [...state, 0x62]), how: `BUILD {${key}: …} after op at ${o.start}` };
    }
    case 2: {
      const o = ops[rng.int(ops.length)];
      return { bytes: splice(o.start, o.end - o.start, []), how: `delete op ${o.op} at ${o.start}` };
    }
    case 3: {
      const o = ops[rng.int(ops.length)];
      return { bytes: splice(o.end, 0, bytes.slice(o.start, o.end)), how: `repeat op ${o.op} at ${o.start}` };
    }
    case 4: {
      // a string (key, storage key, dtype name) replaced by a hostile value
      const o = pickOp((x) => x.op === 0x58 || x.op === 0x8c);
      const v = hostile();
      return { bytes: splice(o.start, o.end - o.start, v), how: `string at ${o.start} → [${v}]` };
    }
    default: {
      // an opcode replaced by another one with no argument (stack shapes change)
      const o = ops[rng.int(ops.length)];
      const noArg = [
        0x28, 0x29, 0x2e, 0x30, 0x31, 0x32, 0x4e, 0x51, 0x52, 0x5d, 0x61, 0x62, 0x64, 0x65, 0x6c, 0x73, 0x74,
        0x75, 0x7d, 0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94,
      ];
      const op = noArg[rng.int(noArg.length)];
      return { bytes: splice(o.start, o.end - o.start, [op]), how: `op at ${o.start} → ${op}` };
    }
  }
}

function mutateZip(bytes: Uint8Array, rng: Rng): { bytes: Uint8Array; how: string } {
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  // structure offsets: end of central directory, each central and local header (torch writes zip64
  // records, so the directory is found by its first signature rather than the 32-bit offset)
  const eocd = out.length - 22;
  const centrals: number[] = [];
  const first = Buffer.from(out.buffer).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  for (let at = first; at >= 0 && at + 46 <= out.length && view.getUint32(at, true) === 0x02014b50; ) {
    centrals.push(at);
    at += 46 + view.getUint16(at + 28, true) + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  const central = centrals[rng.int(centrals.length)];
  const local = Math.min(view.getUint32(central + 42, true), out.length - 30);
  const random32 = () => [0, 1, 0xffffffff, 0x7fffffff, rng.uint32(), out.length, 2 ** 30][rng.int(7)];
  switch (rng.int(8)) {
    case 0: {
      const field = [20, 24, 42][rng.int(3)]; // compressed size, size, local header offset
      const v = random32();
      view.setUint32(central + field, v, true);
      return { bytes: out, how: `central ${central} field ${field} = ${v}` };
    }
    case 1: {
      const field = [8, 10][rng.int(2)]; // flags, method
      const v = [1, 8, 12, 99, 0][rng.int(5)];
      view.setUint16(central + field, v, true);
      return { bytes: out, how: `central ${central} u16 field ${field} = ${v}` };
    }
    case 2: {
      const field = [26, 28][rng.int(2)]; // local name / extra length
      const v = [0, 0xffff, rng.int(0x10000)][rng.int(3)];
      view.setUint16(local + field, v, true);
      return { bytes: out, how: `local ${local} length field ${field} = ${v}` };
    }
    case 3: {
      const field = [8, 10, 12, 16][rng.int(4)];
      const v = field >= 12 ? random32() : rng.int(0x10000);
      if (field >= 12) view.setUint32(eocd + field, v, true);
      else view.setUint16(eocd + field, v, true);
      return { bytes: out, how: `end of directory field ${field} = ${v}` };
    }
    case 4: {
      const cut = rng.int(out.length);
      return { bytes: out.subarray(0, cut), how: `truncate at ${cut}` };
    }
    case 5: {
      const at = rng.int(out.length);
      out[at] ^= 1 << rng.int(8);
      return { bytes: out, how: `flip bit of byte ${at}` };
    }
    case 6: {
      // a name in the directory rewritten to another entry's name (duplicates) or a path
      const nameLength = view.getUint16(central + 28, true);
      const other = centrals[rng.int(centrals.length)];
      out.copyWithin(
        central + 46,
        other + 46,
        other + 46 + Math.min(nameLength, view.getUint16(other + 28, true)),
      );
      return { bytes: out, how: `name of ${central} from ${other}` };
    }
    default: {
      const at = central + 46 + rng.int(view.getUint16(central + 28, true));
      out[at] = "./\u0000_"[rng.int(4)].charCodeAt(0);
      return { bytes: out, how: `name byte ${at}` };
    }
  }
}

function mutateHeader(header: Record<string, unknown>, rng: Rng): string {
  const names = Object.keys(header).filter((k) => k !== "__metadata__");
  const name = names[rng.int(names.length)];
  const entry = header[name] as Record<string, unknown>;
  const pick = () => structuredClone(HOSTILE_VALUES[rng.int(HOSTILE_VALUES.length)]);
  switch (rng.int(7)) {
    case 0:
      entry.dtype = ["F64", "I64", "U8", "BOOL", "F16", "x", 4][rng.int(7)];
      return `${name}.dtype = ${JSON.stringify(entry.dtype)}`;
    case 1:
      entry.shape = pick();
      return `${name}.shape = ${JSON.stringify(entry.shape)}`;
    case 2:
      entry.data_offsets = pick();
      return `${name}.data_offsets = ${JSON.stringify(entry.data_offsets)}`;
    case 3: {
      // every entry pointed at the same span (overlap), or one span shifted
      const offsets = entry.data_offsets as [number, number];
      const shift = [-4, 4, 8 * rng.int(1000)][rng.int(3)];
      for (const n of rng.int(2) === 0 ? names : [name]) {
        (header[n] as Record<string, unknown>).data_offsets = [offsets[0] + shift, offsets[1] + shift];
      }
      return `data_offsets shifted by ${shift}`;
    }
    case 4:
      header[name] = pick();
      return `${name} = ${JSON.stringify(header[name])}`;
    case 5:
      delete header[name];
      return `${name} removed`;
    default: {
      const copy = `${name}${["", ".x", "__proto__"][rng.int(3)]}_${rng.int(3)}`;
      header[rng.int(2) === 0 ? "__proto__" : copy] = structuredClone(entry);
      return `entry ${name} copied`;
    }
  }
}

function encodeHeader(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  // JSON.stringify drops a "__proto__" own key set by assignment, so write entries by hand
  const json = `{${Object.entries(header)
    .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
    .join(",")}}`;
  const text = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

describe("checkpoint fuzzing: a valid model or an InputError, with bounded memory", () => {
  const seeds: [string, Uint8Array, number][] = [
    ["tiny.pth", readFileSync(join(FIXTURES, "hostile", "tiny.pth")), 150],
    ["views.pth", readFileSync(join(FIXTURES, "views.pth")), 40],
  ];
  if (existsSync(REFERENCE)) seeds.push(["TST_japanesevowels.pth", readFileSync(REFERENCE), 25]);

  it("pickle opcode mutations of data.pkl", () => {
    const memory = new MemoryWatch();
    const counts = { ok: 0, InputError: 0 };
    for (const [seedName, bytes, cases] of seeds) {
      const entries = entriesOf(bytes);
      const pkl = entries.find((e) => e.name.endsWith("data.pkl"))!;
      const rng = new Rng(20, seedName.length);
      for (let c = 0; c < cases; c++) {
        const { bytes: mutated, how } = mutatePickle(pkl.data, rng);
        const file = writeZip(entries.map((e) => (e === pkl ? { name: e.name, data: mutated } : e)));
        counts[outcome(`${seedName} case ${c}: ${how}`, () => loadPthModel(file))]++;
        memory.sample();
      }
    }
    console.log(
      `pickle mutations: ${JSON.stringify(counts)}, peak RSS growth ${(memory.peak / 2 ** 20).toFixed(0)} MB`,
    );
    expect(counts.InputError).toBeGreaterThan(0);
    expect(memory.peak).toBeLessThan(300 * 2 ** 20);
  });

  it("zip structure mutations of the archive", () => {
    const memory = new MemoryWatch();
    const counts = { ok: 0, InputError: 0 };
    for (const [seedName, bytes, cases] of seeds) {
      const rng = new Rng(20, 100 + seedName.length);
      for (let c = 0; c < cases; c++) {
        const { bytes: mutated, how } = mutateZip(bytes, rng);
        counts[outcome(`${seedName} case ${c}: ${how}`, () => loadPthModel(mutated))]++;
        memory.sample();
      }
    }
    console.log(
      `zip mutations: ${JSON.stringify(counts)}, peak RSS growth ${(memory.peak / 2 ** 20).toFixed(0)} MB`,
    );
    expect(counts.InputError).toBeGreaterThan(0);
    expect(memory.peak).toBeLessThan(300 * 2 ** 20);
  });

  it("safetensors header mutations of a model directory", () => {
    const dir = join(tmp, "model");
    saveModel(importPth(join(FIXTURES, "hostile", "tiny.pth")).model, dir);
    const weights = readFileSync(join(dir, "weights.safetensors"));
    const headerLength = Number(weights.readBigUInt64LE(0));
    const header = JSON.parse(weights.subarray(8, 8 + headerLength).toString()) as Record<string, unknown>;
    const data = weights.subarray(8 + headerLength);
    const memory = new MemoryWatch();
    const counts = { ok: 0, InputError: 0 };
    const rng = new Rng(20, 200);
    for (let c = 0; c < 150; c++) {
      const variant = join(tmp, `case-${c}`);
      mkdirSync(variant);
      writeFileSync(join(variant, "config.json"), readFileSync(join(dir, "config.json")));
      let file: Uint8Array;
      let how: string;
      if (rng.int(5) === 0) {
        // raw bytes of the length field or the header text
        file = new Uint8Array(weights);
        const at = rng.int(8 + headerLength);
        file[at] ^= 1 << rng.int(8);
        how = `flip bit of byte ${at}`;
      } else {
        const mutated = structuredClone(header);
        how = mutateHeader(mutated, rng);
        file = encodeHeader(mutated, data);
      }
      writeFileSync(join(variant, "weights.safetensors"), file);
      counts[
        outcome(`safetensors case ${c}: ${how}`, () => {
          const { model } = loadModel(variant);
          for (const [name, w] of model.params) expect(w.every(Number.isFinite), name).toBe(true);
        })
      ]++;
      memory.sample();
      rmSync(variant, { recursive: true });
    }
    console.log(
      `safetensors mutations: ${JSON.stringify(counts)}, peak RSS growth ${(memory.peak / 2 ** 20).toFixed(0)} MB`,
    );
    expect(counts.InputError).toBeGreaterThan(100);
    expect(memory.peak).toBeLessThan(300 * 2 ** 20);
  });
});
