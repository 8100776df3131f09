import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findDatasetFile, listDatasets, loadDataset, loadDatasetSplits } from "../../src/data/registry.js";
import { bundledDataDir, cacheDirectory, searchPath } from "../../src/data/search-path.js";
import { InputError } from "../../src/errors.js";
import { BUNDLED_JV, tempDir } from "./helpers.js";

const tiny = (label: string) =>
  `@problemName Tiny\n@classLabel true a b\n@data\n1,2:3,4:${label}\n5,6:7,8:b\n`;

/** Options that isolate a test from the machine: empty env, temp cwd and cache. */
function isolated() {
  const root = tempDir();
  const cwd = join(root, "work");
  mkdirSync(cwd);
  return { root, cwd, env: {}, cacheDir: join(root, "cache"), download: false };
}

describe("search path", () => {
  it("orders --data-dir, TSPATCH_DATA (':'-separated), ./data, cache, bundled", () => {
    const dirs = searchPath({ dataDir: "mine", env: { TSPATCH_DATA: "/a:/b" }, cwd: "/w", cacheDir: "/c" });
    expect(dirs).toEqual([
      { dir: "/w/mine", origin: "--data-dir" },
      { dir: "/a", origin: "TSPATCH_DATA" },
      { dir: "/b", origin: "TSPATCH_DATA" },
      { dir: "/w/data", origin: "./data" },
      { dir: "/c", origin: "cache" },
      { dir: bundledDataDir(), origin: "bundled" },
    ]);
    expect(bundledDataDir()).toBe(join(BUNDLED_JV, ".."));
  });

  it("cache dir: option, TSPATCH_CACHE, XDG_CACHE_HOME, ~/.cache/tspatch", () => {
    expect(cacheDirectory({ cacheDir: "/x", env: { TSPATCH_CACHE: "/y" } })).toBe("/x");
    expect(cacheDirectory({ env: { TSPATCH_CACHE: "/y" } })).toBe("/y");
    expect(cacheDirectory({ env: { XDG_CACHE_HOME: "/xdg" } })).toBe("/xdg/tspatch");
    expect(cacheDirectory({ env: {}, homeDir: "/home/u" })).toBe("/home/u/.cache/tspatch");
  });
});

describe("loadDataset", () => {
  it("finds the bundled JapaneseVowels, and the _eq_ variant by name or option", async () => {
    const opts = isolated();
    const train = await loadDataset("JapaneseVowels", { ...opts, split: "train" });
    expect(train.file).toBe(join(BUNDLED_JV, "JapaneseVowels_TRAIN.ts"));
    expect(train.name).toBe("JapaneseVowels");
    const eq = await loadDataset("JapaneseVowels_eq", { ...opts, split: "test" });
    expect(eq.file).toBe(join(BUNDLED_JV, "JapaneseVowels_eq_TEST.ts"));
    expect(eq.maxLength).toBe(25);
    const byVariant = await loadDataset("japanesevowels", { ...opts, split: "test", variant: "eq" });
    expect(byVariant.file).toBe(eq.file);
  });

  it("prefers --data-dir over TSPATCH_DATA over ./data over the bundled copy", async () => {
    const opts = isolated();
    const explicit = join(opts.root, "explicit");
    const fromEnv = join(opts.root, "env");
    mkdirSync(explicit);
    mkdirSync(join(fromEnv, "JapaneseVowels"), { recursive: true });
    mkdirSync(join(opts.cwd, "data"));
    writeFileSync(join(fromEnv, "JapaneseVowels", "JapaneseVowels_TRAIN.ts"), tiny("a"));
    writeFileSync(join(opts.cwd, "data", "JapaneseVowels_TRAIN.ts"), tiny("b"));
    writeFileSync(join(explicit, "JapaneseVowels_TRAIN.ts"), tiny("a"));
    const env = { TSPATCH_DATA: fromEnv };
    expect(findDatasetFile("JapaneseVowels", "train", { ...opts, env, dataDir: explicit })).toEqual({
      path: join(explicit, "JapaneseVowels_TRAIN.ts"),
      origin: "--data-dir",
    });
    expect(findDatasetFile("JapaneseVowels", "train", { ...opts, env })?.origin).toBe("TSPATCH_DATA");
    const fromData = await loadDataset("JapaneseVowels", opts);
    expect(fromData.file).toBe(join(opts.cwd, "data", "JapaneseVowels_TRAIN.ts"));
    expect(fromData.cases).toBe(2);
    // TEST is not in ./data, so it comes from the bundled copy
    expect(findDatasetFile("JapaneseVowels", "test", opts)?.origin).toBe("bundled");
  });

  it("finds .arff files and loads a file path relative to cwd", async () => {
    const opts = isolated();
    const arff =
      "@relation Tiny\n@attribute t1 numeric\n@attribute t2 numeric\n@attribute class {a,b}\n@data\n1,2,a\n3,4,b\n";
    mkdirSync(join(opts.cwd, "data"));
    writeFileSync(join(opts.cwd, "data", "Tiny_TRAIN.arff"), arff);
    const ds = await loadDataset("Tiny", opts);
    expect(ds.format).toBe("arff");
    expect(ds.cases).toBe(2);
    writeFileSync(join(opts.cwd, "my.ts"), tiny("a"));
    expect((await loadDataset("my.ts", opts)).cases).toBe(2);
    await expect(loadDataset("nope.ts", opts)).rejects.toThrow(/nope\.ts: no such file/);
  });

  it("loadDatasetSplits gives TEST the TRAIN label map", async () => {
    const { train, test } = await loadDatasetSplits("JapaneseVowels", isolated());
    expect(test.labelMap).toEqual(train.labelMap);
    expect(test.cases).toBe(370);
  });

  it("loadDatasetSplits: a TEST label TRAIN does not know is an InputError naming the TEST file and line", async () => {
    const opts = isolated();
    mkdirSync(join(opts.cwd, "data"));
    writeFileSync(join(opts.cwd, "data", "Odd_TRAIN.ts"), tiny("a"));
    writeFileSync(join(opts.cwd, "data", "Odd_TEST.ts"), "@classLabel true a b c\n@data\n1,2:3,4:c\n");
    await expect(loadDatasetSplits("Odd", opts)).rejects.toThrow(
      /Odd_TEST\.ts, line 3: label "c" is not in the label map \(a, b\)[\s\S]*same classes/,
    );
  });

  it("not found: an InputError listing the searched directories, file names and the fix", async () => {
    const opts = isolated();
    const error = await loadDataset("NoSuchSet", { ...opts, split: "test" }).catch((e) => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toContain("NoSuchSet_TEST.ts");
    expect(error.message).toContain(join(opts.cwd, "data"));
    expect(error.message).toContain(opts.cacheDir);
    expect(error.message).toContain("--data-dir");
    expect(error.message).toContain("TSPATCH_DATA");
    const offline = await loadDataset("BasicMotions", {
      ...opts,
      download: undefined,
      env: { TSPATCH_OFFLINE: "1" },
    }).catch((e) => e);
    expect(offline.message).toMatch(/downloads are off/);
    expect(offline.message).toContain("BasicMotions.zip");
  });
});

describe("listDatasets", () => {
  it("lists local datasets with where they were found, then archive names as downloadable", () => {
    const opts = isolated();
    const dir = join(opts.root, "extra", "Tiny");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "Tiny_TRAIN.ts"), tiny("a"));
    writeFileSync(join(dir, "Tiny_TEST.ts"), tiny("b"));
    const listing = listDatasets({ ...opts, dataDir: join(opts.root, "extra") });
    expect(listing.find((d) => d.name === "Tiny")).toEqual({
      name: "Tiny",
      origin: "--data-dir",
      dir,
      files: ["Tiny_TEST.ts", "Tiny_TRAIN.ts"],
    });
    expect(listing.find((d) => d.name === "JapaneseVowels")?.origin).toBe("bundled");
    expect(listing.find((d) => d.name === "JapaneseVowels_eq")?.origin).toBe("bundled");
    expect(listing.find((d) => d.name === "LSST")?.origin).toBe("downloadable");
    expect(listing.filter((d) => d.origin === "downloadable").length).toBe(29);
  });
});
