import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkOutputs } from "../../src/cli/check-outputs.js";
import { memoryIO } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/main.js";
import { parseNumericFlag } from "../../src/cli/numeric-flag.js";
import { InputError } from "../../src/errors.js";
import { asInputError } from "../../src/fs-error.js";
import { haveShared, SHARED } from "../patching/reference-models.js";

const dir = mkdtempSync(join(tmpdir(), "tspatch-output-checks-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const PTH = join(SHARED, "models", "reference", "TST_japanesevowels.pth");

async function cli(argv: string[]) {
  const io = memoryIO({ cwd: dir });
  const code = await runCli(argv, io);
  return { code, out: io.out.join(""), err: io.err.join("") };
}

describe("checkOutputs", () => {
  const input = join(dir, "in.csv");
  writeFileSync(input, "x");
  const link = join(dir, "link.csv");
  symlinkSync(input, link);
  mkdirSync(join(dir, "sub"));
  const existing = join(dir, "existing.txt");
  writeFileSync(existing, "y");
  const file = (path: string, overwrite?: boolean) => ({
    path,
    flag: "--out",
    kind: "file" as const,
    overwrite,
  });

  it.each([
    ["an input", [file(input)], /names the same file as the input --data/],
    ["an input through a symlink", [file(link)], /names the same file as the input --data/],
    ["a directory", [file(join(dir, "sub"))], /is a directory, but a file is written there/],
    ["in a missing directory", [file(join(dir, "none", "x.csv"))], /does not exist/],
    ["an existing file it must not replace", [file(existing, false)], /already exists/],
    ["under /proc (unwritable even for root)", [file("/proc/x.csv")], /cannot create files in \/proc/],
    [
      "two outputs at one path",
      [file(join(dir, "a.csv")), { ...file(join(dir, "a.csv")), flag: "--checkpoint" }],
      /--checkpoint names the same file as the output --out/,
    ],
    [
      "a file where a directory goes",
      [{ path: existing, flag: "--out", kind: "directory" as const }],
      /is a file, but a directory/,
    ],
  ])("refuses %s", (_what, outputs, message) => {
    let error: unknown;
    try {
      checkOutputs({ outputs, inputs: [{ path: input, flag: "--data" }] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toMatch(/\n {2}fix: /);
    expect(readFileSync(input, "utf8")).toBe("x");
  });

  it("accepts new files and new nested directories, and leaves nothing behind", () => {
    checkOutputs({
      outputs: [
        file(join(dir, "new.csv")),
        { path: join(dir, "a", "b", "c"), flag: "--out", kind: "directory" },
      ],
      inputs: [{ path: input, flag: "--data" }],
    });
    expect(existsSync(join(dir, "a"))).toBe(false);
    expect(existsSync(join(dir, "new.csv"))).toBe(false);
  });
});

describe("parseNumericFlag", () => {
  it.each([
    ["4", { integer: true, min: 1, max: 8 }, 4],
    ["1e3", { integer: true, min: 1 }, 1000],
    ["-2.5", {}, -2.5],
  ])("%s → %s", (text, range, value) => {
    expect(parseNumericFlag(text, { flag: "--x", ...range })).toBe(value);
  });
  it.each([
    ["0x1F", {}, /--x must be a finite decimal number, got "0x1F"/],
    ["", {}, /got ""/],
    ["Infinity", {}, /got "Infinity"/],
    ["1e30", { integer: true, min: 0 }, /an integer ≥ 0/],
    ["1.5", { integer: true }, /a whole number/],
    ["9", { integer: true, min: 1, max: 8 }, /an integer in \[1, 8\]/],
    ["0", { above: 0, below: 1 }, /a number in \(0, 1\)/],
  ])("refuses %j", (text, range, message) => {
    expect(() => parseNumericFlag(text, { flag: "--x", ...range })).toThrow(message);
  });
});

describe("file-system errors are input errors (exit 2) with the path and a fix", () => {
  it("maps ENOENT / EISDIR / EACCES, keeps other errors", () => {
    const enoent = Object.assign(new Error("x"), { code: "ENOENT", syscall: "open", path: "/a/b" });
    const mapped = asInputError(enoent) as InputError;
    expect(mapped).toBeInstanceOf(InputError);
    expect(mapped.message).toMatch(/^\/a\/b: cannot open: no such file or directory \(ENOENT\)\n {2}fix: /);
    const bug = new TypeError("x is not a function");
    expect(asInputError(bug)).toBe(bug);
  });

  it.each([
    ["datasets", "list"],
    ["eval", "--model", "m", "--data", "d"],
    ["train", "--dataset", "d"],
  ])("a --data-dir that does not exist is an error, not skipped (%s)", async (...argv) => {
    const r = await cli([...argv, "--data-dir", "no-such-dir"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no-such-dir: --data-dir does not exist/);
  });

  it("stats on a directory: exit 2 naming it", async () => {
    const r = await cli(["stats", dir]);
    expect(r.code).toBe(2);
    expect(r.err).not.toMatch(/internal error/);
  });

  it("import-pth on a directory: exit 2 with the fix; eval treats it as a model directory", async () => {
    mkdirSync(join(dir, "ckpt.pth"), { recursive: true });
    const r = await cli(["import-pth", "ckpt.pth", "--out", "imported"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /ckpt\.pth: cannot read: is a directory, but a file was expected \(EISDIR\)\n {2}fix: /,
    );
    const e = await cli(["eval", "--model", "ckpt.pth", "--data", "JapaneseVowels"]);
    expect(e.code).toBe(2);
    expect(e.err).toMatch(/the model directory has no config\.json\n {2}fix: /);
  });
});

describe.skipIf(!haveShared)("import-pth and export check their outputs first", () => {
  it("import-pth --out an existing file: exit 2, the file kept", async () => {
    writeFileSync(join(dir, "taken"), "keep");
    const r = await cli(["import-pth", PTH, "--out", "taken"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--out is a file, but a directory is written there/);
    expect(readFileSync(join(dir, "taken"), "utf8")).toBe("keep");
  });

  it("export --onnx onto the model, into a directory, or in a missing directory: exit 2", async () => {
    mkdirSync(join(dir, "onnxdir"), { recursive: true });
    for (const [onnx, message] of [
      [PTH, /the input --model/],
      ["onnxdir", /is a directory/],
      ["missing/x.onnx", /does not exist/],
    ] as const) {
      const r = await cli(["export", "--model", PTH, "--onnx", onnx]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
    }
  });

  it("eval stops on Ctrl-C (exit 130)", async () => {
    const data = join(SHARED, "datasets", "JapaneseVowels", "JapaneseVowels_eq_TEST.ts");
    const controller = new AbortController();
    controller.abort();
    const io = memoryIO({ cwd: dir });
    expect(
      await runCli(["eval", "--model", PTH, "--data", data, "--quiet"], io, { signal: controller.signal }),
    ).toBe(130);
    expect(io.err.join("")).toMatch(/eval interrupted/);
  });

  it("eval --resample beyond the model's length: exit 2 with the limit", async () => {
    const data = join(SHARED, "datasets", "JapaneseVowels", "JapaneseVowels_eq_TEST.ts");
    const r = await cli(["eval", "--model", PTH, "--data", data, "--resample", "1000000000"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--resample must be an integer in \[1, \d+\]/);
  });
});
