import {
  copyFileSync,
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
import { memoryIO } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/main.js";
import { haveShared, SHARED } from "./reference-models.js";

const tmp = mkdtempSync(join(tmpdir(), "tspatch-sweep-outputs-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const MODEL = join(SHARED, "models", "reference", "TST_japanesevowels.pth");
const DATA = join(SHARED, "datasets", "JapaneseVowels", "JapaneseVowels_eq_TEST.ts");

async function sweepCli(args: string[], signal?: AbortSignal) {
  const io = memoryIO({ cwd: tmp });
  const code = await runCli(["sweep", "--components", "layers", "--quiet", ...args], io, { signal });
  return { code, out: io.out.join(""), err: io.err.join("") };
}

describe.skipIf(!haveShared)("sweep refuses outputs it would lose, before any work", () => {
  const model = join(tmp, "model.pth");
  const data = join(tmp, "JV_TEST.ts");
  copyFileSync(MODEL, model);
  copyFileSync(DATA, data);

  it("--out equal to --checkpoint", async () => {
    const r = await sweepCli(["--model", model, "--data", data, "--out", "x.csv", "--checkpoint", "x.csv"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--checkpoint names the same file as the output --out/);
    expect(existsSync(join(tmp, "x.csv"))).toBe(false);
  });

  it.each([
    ["--model", () => model],
    ["--data", () => data],
    ["--pairs-file", () => join(tmp, "pairs.csv")],
  ])("--out equal to %s (also through a symlink) leaves that input alone", async (flag, path) => {
    writeFileSync(join(tmp, "pairs.csv"), "source,target\n58,31\n");
    const before = readFileSync(path());
    const link = join(tmp, `link-${flag.slice(2)}`);
    if (!existsSync(link)) symlinkSync(path(), link);
    for (const out of [path(), link]) {
      const r = await sweepCli([
        "--model",
        model,
        "--data",
        data,
        "--pairs-file",
        join(tmp, "pairs.csv"),
        "--out",
        out,
      ]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`the input ${flag}`);
      expect(r.err).toMatch(/fix: give --out another path/);
    }
    expect(readFileSync(path()).equals(before)).toBe(true);
  });

  it("--out a directory, or in a missing directory: exit 2 before the sweep", async () => {
    mkdirSync(join(tmp, "dir"), { recursive: true });
    const dir = await sweepCli(["--model", model, "--data", data, "--out", "dir"]);
    expect(dir.code).toBe(2);
    expect(dir.err).toMatch(/--out is a directory, but a file is written there/);
    expect(existsSync(join(tmp, "dir.checkpoint"))).toBe(false);
    const missing = await sweepCli(["--model", model, "--data", data, "--out", "no/such/x.csv"]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/does not exist[\s\S]*fix: create it first/);
  });

  it("an unwritable location: exit 2 naming it", async () => {
    // /proc refuses new files even to root, unlike a chmod-ed directory.
    const r = await sweepCli(["--model", model, "--data", data, "--out", "/proc/x.csv"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/cannot create files in \/proc/);
  });

  it("--snr outside ±100 dB, and hexadecimal numbers, are refused with the range", async () => {
    const snr = await sweepCli(["--model", model, "--data", data, "--strategy", "noised", "--snr", "-1000"]);
    expect(snr.code).toBe(2);
    expect(snr.err).toMatch(/--snr must be a number in \[-100, 100\], got "-1000"/);
    const hex = await sweepCli(["--model", model, "--data", data, "--seed", "0x1F"]);
    expect(hex.code).toBe(2);
    expect(hex.err).toMatch(/--seed must be an integer ≥ 0, got "0x1F"/);
  });

  it("a data file changed between interrupt and resume is refused (content, not path)", async () => {
    const copy = join(tmp, "swap_TEST.ts");
    copyFileSync(DATA, copy);
    const args = ["--model", model, "--data", copy, "--out", "swap.csv"];
    const controller = new AbortController();
    controller.abort();
    expect((await sweepCli(args, controller.signal)).code).toBe(130);
    const text = readFileSync(copy, "utf8");
    // Change one value of the last case: same path, same shape, other content.
    const changed = text.replace(
      /(\d)(\.\d+)([,:][^\n]*\n?)$/,
      (_, d, rest, tail) => `${(Number(d) + 1) % 10}${rest}${tail}`,
    );
    expect(changed).not.toBe(text);
    writeFileSync(copy, changed);
    const r = await sweepCli(args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/belongs to a different sweep/);
  });
});
