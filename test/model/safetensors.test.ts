import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InputError } from "../../src/errors.js";
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  type StoredTensor,
  writeSafetensors,
} from "../../src/model/safetensors.js";

// Written by scripts/fixtures/safetensors_fixtures.py (Python, format written from the spec).
const fixture = new URL("../fixtures/safetensors/", import.meta.url);
const pythonFile = new URL("python.safetensors", fixture).pathname;
const expected = JSON.parse(readFileSync(new URL("python.json", fixture), "utf8")) as {
  metadata: Record<string, string>;
  tensors: Record<string, { dtype: string; shape: number[]; values: (number | boolean)[] }>;
};

function fromDescription(d: { dtype: string; shape: number[]; values: (number | boolean)[] }): StoredTensor {
  const values = d.values;
  switch (d.dtype) {
    case "F32":
      return { dtype: "F32", shape: d.shape, data: Float32Array.from(values as number[]) };
    case "F64":
      return { dtype: "F64", shape: d.shape, data: Float64Array.from(values as number[]) };
    case "I64":
      return {
        dtype: "I64",
        shape: d.shape,
        data: BigInt64Array.from((values as number[]).map((v) => BigInt(v))),
      };
    case "BOOL":
      return { dtype: "BOOL", shape: d.shape, data: Uint8Array.from(values.map((v) => (v ? 1 : 0))) };
    default:
      throw new Error(`fixture dtype ${d.dtype}`);
  }
}

const dir = mkdtempSync(join(tmpdir(), "tspatch-st-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("safetensors", () => {
  it("reads a file written by Python, value for value", () => {
    const { tensors, metadata } = readSafetensors(pythonFile);
    expect(metadata).toEqual(expected.metadata);
    expect([...tensors.keys()].sort()).toEqual(Object.keys(expected.tensors).sort());
    for (const [name, want] of Object.entries(expected.tensors)) {
      const got = tensors.get(name)!;
      expect(got.dtype, name).toBe(want.dtype);
      expect(got.shape, name).toEqual(want.shape);
      const values = Array.from(got.data as ArrayLike<number | bigint>, (v) =>
        typeof v === "bigint" ? Number(v) : v,
      );
      const wantValues = want.values.map((v) => (typeof v === "boolean" ? Number(v) : v));
      if (want.dtype === "F32") {
        expect(values, name).toEqual(Array.from(Float32Array.from(wantValues)));
      } else {
        expect(values, name).toEqual(wantValues);
      }
    }
  });

  it("writes the same bytes as the Python writer for the same tensors", () => {
    const tensors = new Map(Object.entries(expected.tensors).map(([k, d]) => [k, fromDescription(d)]));
    const bytes = encodeSafetensors(tensors, expected.metadata);
    expect(Buffer.from(bytes).equals(readFileSync(pythonFile))).toBe(true);
  });

  it("round-trips through a file and leaves no temporary file", () => {
    const path = join(dir, "w.safetensors");
    const t: Record<string, StoredTensor> = {
      z: { dtype: "F32", shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, -6.5]) },
      a: { dtype: "I32", shape: [1], data: Int32Array.from([-7]) },
      m: { dtype: "U8", shape: [3], data: Uint8Array.from([0, 255, 9]) },
    };
    writeSafetensors(path, t, { b: "2", a: "1" });
    const back = readSafetensors(path);
    expect(back.metadata).toEqual({ a: "1", b: "2" });
    for (const [k, v] of Object.entries(t)) {
      expect(back.tensors.get(k)!.shape).toEqual(v.shape);
      expect(Array.from(back.tensors.get(k)!.data as ArrayLike<number>)).toEqual(
        Array.from(v.data as ArrayLike<number>),
      );
    }
    // deterministic: same input, same bytes, whatever the insertion order
    const reordered = { m: t.m, a: t.a, z: t.z };
    expect(Buffer.from(encodeSafetensors(reordered, { a: "1", b: "2" })).equals(readFileSync(path))).toBe(
      true,
    );
    expect(readdirSync(dir).filter((f) => f.includes(".tmp"))).toEqual([]);
    // header padded so the data starts 8-byte aligned
    const n = Number(readFileSync(path).readBigUInt64LE(0));
    expect(n % 8).toBe(0);
  });

  it("rejects malformed files with an InputError naming the file", () => {
    const good = readFileSync(pythonFile);
    const cases: [string, Uint8Array, RegExp][] = [
      ["short", good.subarray(0, 5), /too short/],
      ["truncated", good.subarray(0, good.length - 3), /past the end|after the last/],
      ["huge header", Uint8Array.from([255, 255, 255, 255, 0, 0, 0, 0, 1, 2]), /exceeds the file size/],
      ["text", new TextEncoder().encode("hello world, this is not a tensor file"), /exceeds|JSON/],
      ["extra bytes", Buffer.concat([good, Buffer.from([1, 2, 3, 4])]), /after the last tensor/],
    ];
    for (const [label, bytes, message] of cases) {
      let error: unknown;
      try {
        decodeSafetensors(bytes, "bad.safetensors");
      } catch (e) {
        error = e;
      }
      expect(error, label).toBeInstanceOf(InputError);
      expect((error as Error).message, label).toMatch(message);
      expect((error as Error).message, label).toMatch(/bad\.safetensors/);
    }
  });

  it("rejects an unsupported dtype and a shape/offset mismatch", () => {
    const make = (entry: object) => {
      const json = new TextEncoder().encode(JSON.stringify({ t: entry }));
      const out = new Uint8Array(8 + json.length + 4);
      new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
      out.set(json, 8);
      return out;
    };
    expect(() => decodeSafetensors(make({ dtype: "F16", shape: [2], data_offsets: [0, 4] }))).toThrow(
      /unsupported dtype "F16"/,
    );
    expect(() => decodeSafetensors(make({ dtype: "F32", shape: [2], data_offsets: [0, 4] }))).toThrow(
      /needs 8/,
    );
  });

  it("refuses to write data that does not match its shape or dtype", () => {
    expect(() => encodeSafetensors({ x: { dtype: "F32", shape: [3], data: new Float32Array(2) } })).toThrow(
      InputError,
    );
    expect(() => encodeSafetensors({ x: { dtype: "F64", shape: [2], data: new Float32Array(2) } })).toThrow(
      /Float64Array/,
    );
  });
});
