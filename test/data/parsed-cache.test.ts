import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Dataset } from "../../src/data/dataset.js";
import { readDatasetFile } from "../../src/data/registry.js";
import { parseTs } from "../../src/data/ts-format.js";

/** Deep equality, the typed arrays compared as bytes (vitest's element-wise diff of 100k floats takes seconds). */
function expectSame(a: Dataset, b: Dataset): void {
  const { values, lengths, labelIndex, caseLines, ...rest } = a;
  const { values: v, lengths: l, labelIndex: li, caseLines: cl, ...other } = b;
  expect(other).toEqual(rest);
  for (const [x, y] of [
    [values, v],
    [lengths, l],
    [labelIndex, li],
    [caseLines, cl],
  ] as const) {
    expect(y.constructor).toBe(x.constructor);
    expect(
      Buffer.compare(
        Buffer.from(x.buffer, x.byteOffset, x.byteLength),
        Buffer.from(y.buffer, y.byteOffset, y.byteLength),
      ),
    ).toBe(0);
  }
}

const FILE = "datasets/JapaneseVowels/JapaneseVowels_TEST.ts";

describe("parsed-dataset cache", () => {
  let cache: string;
  const saved = process.env.TSPATCH_CACHE;
  beforeEach(() => {
    cache = mkdtempSync(join(tmpdir(), "tspatch-parsed-"));
    process.env.TSPATCH_CACHE = cache;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.TSPATCH_CACHE;
    else process.env.TSPATCH_CACHE = saved;
    rmSync(cache, { recursive: true, force: true });
  });

  it("gives back exactly what the parser gave, typed arrays included", async () => {
    const first = await readDatasetFile(FILE);
    const files = readdirSync(join(cache, "parsed"));
    expect(files).toHaveLength(1);
    const second = await readDatasetFile(FILE);
    expectSame(second, first);
    expectSame(second, parseTs(readFileSync(FILE), { file: FILE }));
  });

  it("keys on the parse options: another label map is parsed afresh", async () => {
    const dense = await readDatasetFile(FILE);
    const int = await readDatasetFile(FILE, { labelMap: "int" });
    expect(readdirSync(join(cache, "parsed"))).toHaveLength(2);
    expect(int.labelMap.kind).toBe("int");
    expect(dense.labelMap.kind).toBe("dense");
  });

  it("a damaged cache file is parsed again and replaced", async () => {
    const first = await readDatasetFile(FILE);
    const [name] = readdirSync(join(cache, "parsed"));
    writeFileSync(join(cache, "parsed", name), "garbage");
    expectSame(await readDatasetFile(FILE), first);
    expectSame(await readDatasetFile(FILE), first);
  });

  it("small files and TSPATCH_PARSED_CACHE=0 are not cached", async () => {
    const small = join(cache, "small.ts");
    writeFileSync(
      small,
      "@problemName s\n@univariate true\n@equalLength true\n@seriesLength 2\n@classLabel true a b\n@data\n1,2:a\n3,4:b\n",
    );
    await readDatasetFile(small);
    process.env.TSPATCH_PARSED_CACHE = "0";
    try {
      await readDatasetFile(FILE);
    } finally {
      delete process.env.TSPATCH_PARSED_CACHE;
    }
    expect(readdirSync(cache).includes("parsed")).toBe(false);
  });
});
