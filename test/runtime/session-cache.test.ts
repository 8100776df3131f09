import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Graph } from "../../src/graph/ir.js";
import { toOnnx } from "../../src/graph/onnx.js";
import { matmul, relu, softmax } from "../../src/graph/ops/index.js";
import { Runtime } from "../../src/runtime/session.js";

function testGraph(): Graph {
  const g = new Graph();
  const x = g.input("x", ["batch", 3]);
  const w = g.input("w", [3, 4]);
  g.output("y", softmax(relu(matmul(x, w)), -1));
  return g;
}

const feeds = {
  x: { data: Float32Array.from([1, 2, 3, -1, 0.5, 2]), dims: [2, 3] },
  w: { data: Float32Array.from({ length: 12 }, (_, i) => Math.sin(i + 1)), dims: [3, 4] },
};

async function runOnce(cacheDir: string | null): Promise<Float32Array> {
  const rt = new Runtime({ threads: 1, optimizedCacheDir: cacheDir });
  try {
    const session = await rt.compile(testGraph(), ["y"]);
    return (await session.run(feeds)).y.data as Float32Array;
  } finally {
    await rt.release();
  }
}

describe("optimised-graph disk cache", () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "tspatch-ort-cache-"));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("writes the optimised graph once and a later runtime loads it with the same results", async () => {
    const dir = join(tempDir(), "ort");
    const uncached = await runOnce(null);
    const first = await runOnce(dir);
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^[0-9a-f]{64}\.onnx$/);
    const written = readFileSync(join(dir, files[0]));
    const second = await runOnce(dir);
    expect(readdirSync(dir)).toEqual(files);
    // The second run read the file (unchanged) and computed the same values bit for bit.
    expect(readFileSync(join(dir, files[0]))).toEqual(written);
    expect(Array.from(first)).toEqual(Array.from(uncached));
    expect(Array.from(second)).toEqual(Array.from(uncached));
  });

  it("replaces a damaged cache file instead of failing", async () => {
    const dir = join(tempDir(), "ort");
    await runOnce(dir);
    const [file] = readdirSync(dir);
    writeFileSync(join(dir, file), "not an onnx model");
    const values = await runOnce(dir);
    expect(Array.from(values)).toEqual(Array.from(await runOnce(null)));
    expect(readFileSync(join(dir, file)).length).toBeGreaterThan(100);
  });

  it("keys graphs apart and leaves no temporary files", async () => {
    const dir = join(tempDir(), "ort");
    await runOnce(dir);
    const rt = new Runtime({ threads: 1, optimizedCacheDir: dir });
    const g = new Graph();
    const x = g.input("x", ["batch", 3]);
    g.output("y", relu(x));
    await rt.compile(g, ["y"]);
    await rt.release();
    const files = readdirSync(dir);
    expect(files).toHaveLength(2);
    expect(files.every((f) => f.endsWith(".onnx"))).toBe(true);
  });

  it("works without a writable cache", async () => {
    const parent = tempDir();
    const blocker = join(parent, "file");
    writeFileSync(blocker, "x");
    // A cache path below a regular file cannot be created: the runtime still runs.
    const values = await runOnce(join(blocker, "ort"));
    expect(Array.from(values)).toEqual(Array.from(await runOnce(null)));
    expect(existsSync(join(blocker, "ort"))).toBe(false);
  });

  it("finds a recorded graph by its signature and loads it without serialising it", async () => {
    const dir = join(tempDir(), "ort");
    const bytes = toOnnx(testGraph(), { outputs: ["y"] });
    const first = new Runtime({ threads: 1, optimizedCacheDir: dir });
    expect(first.knownGraph("test graph")).toBeNull();
    first.recordGraph("test graph", bytes, ["y"]);
    // Recorded, but not yet optimised on disk: nothing to load without the bytes.
    expect(first.knownGraph("test graph")).toBeNull();
    const expected = (await (await first.compileBytes(bytes)).run(feeds)).y.data as Float32Array;
    await first.release();

    const later = new Runtime({ threads: 1, optimizedCacheDir: dir });
    const known = later.knownGraph("test graph");
    expect(known?.outputs).toEqual(["y"]);
    expect(later.knownGraph("another graph")).toBeNull();
    const session = await later.compileKey(known!.graphKey, () => {
      throw new Error("serialised although the optimised file exists");
    });
    expect(Array.from((await session.run(feeds)).y.data as Float32Array)).toEqual(Array.from(expected));
    await later.release();

    // A damaged record reads as none (the caller then serialises the graph).
    const records = join(dir, "graphs");
    for (const name of readdirSync(records)) writeFileSync(join(records, name), "{not json");
    expect(new Runtime({ threads: 1, optimizedCacheDir: dir }).knownGraph("test graph")).toBeNull();
  });
});
