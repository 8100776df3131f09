import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { memoryIO } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/main.js";
import { hasShared, sharedFile, tempDir } from "./helpers.js";

/** An IO isolated from the machine: empty env, a temp cwd, a temp cache. */
function io() {
  const cwd = tempDir();
  return memoryIO({ cwd, env: { TSPATCH_CACHE: join(cwd, "cache"), TSPATCH_OFFLINE: "1" } });
}

async function run(argv: string[], target = io()) {
  const code = await runCli(argv, target);
  return { code, out: target.out.join(""), err: target.err.join("") };
}

describe("tspatch datasets info", () => {
  it("JapaneseVowels --json: the per-split shape, lengths 7..26 and 7..29", async () => {
    const { code, out, err } = await run(["datasets", "info", "JapaneseVowels", "--json"]);
    expect(err).toBe("");
    expect(code).toBe(0);
    const info = JSON.parse(out);
    expect(Object.keys(info)).toEqual(["name", "train", "test"]);
    expect(info.name).toBe("JapaneseVowels");
    expect(info.train).toMatchObject({ cases: 270, channels: 12, length: { min: 7, max: 26 }, missing: 0 });
    expect(info.test).toMatchObject({ cases: 370, channels: 12, length: { min: 7, max: 29 }, missing: 0 });
    expect(info.test.classes).toEqual(
      [31, 35, 88, 44, 29, 24, 40, 50, 29].map((count, k) => ({ label: String(k + 1), count })),
    );
    expect(info.train.valueRange).toHaveLength(12);
    expect(info.train.valueRange[0]).toEqual({ min: -0.783783, max: 2.203141 });
    expect(info.train.file).toMatch(/datasets[\\/]JapaneseVowels[\\/]JapaneseVowels_TRAIN\.ts$/);
  });

  it("a human-readable table by default", async () => {
    const { code, out } = await run(["datasets", "info", "JapaneseVowels_eq"]);
    expect(code).toBe(0);
    expect(out).toMatch(/^JapaneseVowels_eq\n/);
    expect(out).toMatch(/train\s+270\s+12\s+25\s+9\s+0/);
    expect(out).toMatch(/test\s+370\s+12\s+25\s+9\s+0/);
    expect(out).toMatch(/\n\s+3\s+30\s+88\n/);
    expect(out).not.toMatch(/NaN|undefined/);
  });

  it("a file path: one summary with the file's JSON shape", async () => {
    const target = io();
    mkdirSync(join(target.cwd, "d"));
    writeFileSync(join(target.cwd, "d", "x.ts"), "@classLabel true 2 10\n@data\n1,?,3:10\n4,5:2\n");
    const { code, out } = await run(["datasets", "info", "d/x.ts", "--json"], target);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({
      name: "x",
      file: "d/x.ts",
      format: "ts",
      cases: 2,
      channels: 1,
      length: { min: 2, max: 3 },
      classes: [
        { label: "2", count: 1 },
        { label: "10", count: 1 },
      ],
      missing: 1,
      valueRange: [{ min: 1, max: 5 }],
    });
  });

  it.skipIf(!hasShared("LSST"))(
    "LSST TRAIN by path: 2459 cases, 6 channels, length 36, the 14 class counts",
    async () => {
      const { code, out } = await run(["datasets", "info", sharedFile("LSST", "TRAIN"), "--json"]);
      expect(code).toBe(0);
      const info = JSON.parse(out);
      expect(info).toMatchObject({ cases: 2459, channels: 6, length: { min: 36, max: 36 }, missing: 0 });
      expect(
        info.classes.map((c: { label: string; count: number }) => `${c.label}:${c.count}`).join(" "),
      ).toBe("6:34 15:123 16:270 42:381 52:62 53:7 62:153 64:23 65:313 67:68 88:120 90:777 92:77 95:51");
    },
  );

  it("--data-dir is searched first", async () => {
    const target = io();
    const dir = join(target.cwd, "mine");
    mkdirSync(dir);
    writeFileSync(join(dir, "JapaneseVowels_TRAIN.ts"), "@classLabel true 1\n@data\n1,2:1\n");
    writeFileSync(join(dir, "JapaneseVowels_TEST.ts"), "@classLabel true 1\n@data\n1,2:1\n3,4:1\n");
    const { code, out } = await run(
      ["datasets", "info", "JapaneseVowels", "--data-dir", dir, "--json"],
      target,
    );
    expect(code).toBe(0);
    expect(JSON.parse(out).test.cases).toBe(2);
  });

  it("an unknown dataset exits 2 with where to put the files", async () => {
    const { code, out, err } = await run(["datasets", "info", "NoSuchSet"]);
    expect(code).toBe(2);
    expect(out).toBe("");
    expect(err).toMatch(/^tspatch: error: dataset "NoSuchSet" \(train\) not found/);
    expect(err).toContain("NoSuchSet_TRAIN.ts");
    expect(err).toContain("--data-dir DIR or TSPATCH_DATA=DIR");
  });
});

describe("tspatch datasets list", () => {
  it("lists the bundled datasets and the downloadable archive names", async () => {
    const { code, out } = await run(["datasets", "list", "--json"]);
    expect(code).toBe(0);
    const listing = JSON.parse(out) as { name: string; origin: string }[];
    expect(listing.find((d) => d.name === "JapaneseVowels")?.origin).toBe("bundled");
    expect(listing.find((d) => d.name === "PenDigits")?.origin).toBe("downloadable");
    const table = await run(["datasets", "list"]);
    expect(table.out).toMatch(/JapaneseVowels\s+bundled/);
    expect(table.out).toMatch(/UWaveGestureLibrary\s+downloadable/);
  });
});
