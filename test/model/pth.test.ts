import { existsSync, readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { unzipSync, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/errors.js";
import { parsePth, readPth } from "../../src/model/pth.js";
import { SHARED } from "../patching/reference-models.js";

// Fixtures written by scripts/fixtures/pth_fixtures.py from torch.load / torch.save.
const fixtures = new URL("../fixtures/pth/", import.meta.url);
const referenceDir = pathToFileURL(`${SHARED}/models/reference/`);
const summary = JSON.parse(readFileSync(new URL("reference_summary.json", fixtures), "utf8")) as Record<
  string,
  Record<string, { shape: number[]; dtype: string; sum: number; sum_sq: number; first: number; last: number }>
>;
const views = JSON.parse(readFileSync(new URL("views.json", fixtures), "utf8")) as Record<
  string,
  { shape: number[]; dtype: string; values: number[] }
>;

function inputErrorOf(f: () => unknown): InputError {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error("expected an InputError");
}

describe.runIf(existsSync(referenceDir))("readPth on the reference checkpoints", () => {
  for (const file of Object.keys(summary)) {
    it(`${file}: keys, shapes, dtypes and values match torch.load`, () => {
      const sd = readPth(new URL(file, referenceDir).pathname);
      const want = summary[file];
      expect([...sd.keys()]).toEqual(Object.keys(want)); // same order as the OrderedDict
      expect(sd.size).toBe(60); // 60 tensors (DESIGN.md says 61; torch.load agrees on 60)
      for (const [name, w] of Object.entries(want)) {
        const t = sd.get(name)!;
        expect(t.shape, name).toEqual(w.shape);
        expect(t.dtype, name).toBe(w.dtype);
        expect(t.data.length, name).toBe(w.shape.reduce((a, b) => a * b, 1));
        let sum = 0;
        let sumSq = 0;
        for (const v of t.data) {
          sum += v;
          sumSq += v * v;
        }
        // float32 values summed in float64 in both languages: only summation order differs
        const scale = Math.sqrt(sumSq * t.data.length);
        expect(Math.abs(sum - w.sum), `${name} sum`).toBeLessThanOrEqual(1e-12 * scale + 1e-12);
        expect(Math.abs(sumSq - w.sum_sq), `${name} sum_sq`).toBeLessThanOrEqual(1e-12 * w.sum_sq + 1e-12);
        expect(t.data[0], `${name} first`).toBe(w.first);
        expect(t.data[t.data.length - 1], `${name} last`).toBe(w.last);
      }
    });
  }
});

describe("readPth on views, dtypes and byte order", () => {
  for (const file of ["views.pth", "views_bigendian.pth"]) {
    it(`${file}: materialises strided, offset, shared and expanded tensors`, () => {
      const sd = readPth(new URL(file, fixtures).pathname);
      expect([...sd.keys()]).toEqual(Object.keys(views));
      for (const [name, w] of Object.entries(views)) {
        const t = sd.get(name)!;
        expect(t.shape, name).toEqual(w.shape);
        expect(t.dtype, name).toBe(w.dtype);
        expect(Array.from(t.data), name).toEqual(Array.from(Float32Array.from(w.values)));
      }
    });
  }
});

describe("readPth refuses what is not a state dict", () => {
  const jv = new URL("TST_japanesevowels.pth", referenceDir);
  const cases: [string, () => Uint8Array, RegExp][] = [
    [
      "a text file",
      () => new TextEncoder().encode("conv1.weight = [1, 2, 3]\n"),
      /not a PyTorch checkpoint \(not a zip/,
    ],
    ["an empty file", () => new Uint8Array(0), /not a zip/],
    [
      "a zip without data.pkl",
      () => zipSync({ "notes/readme.txt": new TextEncoder().encode("hi") }),
      /without data\.pkl/,
    ],
    [
      "a zip with a garbage data.pkl",
      () => zipSync({ "m/data.pkl": Uint8Array.from([0x80, 2, 0xff, 0xfe]) }),
      /not a readable pickle/,
    ],
    [
      "a legacy (pre-1.6) checkpoint",
      () => readFileSync(new URL("legacy.pth", fixtures)),
      /legacy PyTorch format/,
    ],
    [
      "a pickled nn.Module",
      () => readFileSync(new URL("module.pth", fixtures)),
      /torch\.nn\.modules\.linear\.Linear/,
    ],
  ];
  if (existsSync(jv)) {
    cases.push([
      "a truncated checkpoint",
      () => readFileSync(jv).subarray(0, 1_000_000),
      /truncated or corrupt/,
    ]);
    cases.push([
      "a checkpoint with a storage removed",
      () => {
        const files: Record<string, Uint8Array> = {};
        const bytes = readFileSync(new URL("views.pth", fixtures));
        // rebuild the archive without one storage
        for (const [k, v] of Object.entries(unzipSync(bytes))) if (!k.endsWith("/data/3")) files[k] = v;
        return zipSync(files, { level: 0 });
      },
      /storage data\/3 .* is missing/,
    ]);
  }
  for (const [label, bytes, message] of cases) {
    it(label, () => {
      const error = inputErrorOf(() => parsePth(bytes(), "model.pth"));
      expect(error.message).toMatch(message);
      expect(error.message).toMatch(/^model\.pth: /);
      expect(error.message).not.toMatch(/ at .*\.js:\d+/); // no stack trace in the message
    });
  }

  it("names a missing file", () => {
    const error = inputErrorOf(() => readPth("/nonexistent/dir/x.pth"));
    expect(error.message).toMatch(
      /x\.pth: cannot open: no such file or directory \(ENOENT\)\n {2}fix: check the path/,
    );
  });
});
