import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { importPth } from "../../src/model/import-pth.js";

const PTH = fileURLToPath(new URL("../../../shared/models/reference/TST_pendigits.pth", import.meta.url));

/** Config, weight names in order, and every weight's bytes. */
function snapshot(file: string) {
  const { model } = importPth(file);
  const weights = [...model.params].map(([name, w]) => [
    name,
    Buffer.from(w.buffer, w.byteOffset, w.byteLength).toString("base64"),
  ]);
  return { config: model.config, weights };
}

describe("imported .pth cache", () => {
  let cache: string;
  const saved = process.env.TSPATCH_CACHE;
  beforeEach(() => {
    cache = mkdtempSync(join(tmpdir(), "tspatch-pth-"));
    process.env.TSPATCH_CACHE = cache;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.TSPATCH_CACHE;
    else process.env.TSPATCH_CACHE = saved;
    delete process.env.TSPATCH_PARSED_CACHE;
    rmSync(cache, { recursive: true, force: true });
  });

  it("gives the config and weights (names in order, bytes) of a fresh import", () => {
    process.env.TSPATCH_PARSED_CACHE = "0";
    const fresh = snapshot(PTH);
    expect(readdirSync(cache)).toEqual([]);
    delete process.env.TSPATCH_PARSED_CACHE;
    const first = snapshot(PTH);
    expect(readdirSync(join(cache, "parsed"))).toHaveLength(1);
    const cached = snapshot(PTH);
    expect(first).toEqual(fresh);
    expect(cached).toEqual(fresh);
  });

  it("a damaged cache file is imported again", () => {
    const first = snapshot(PTH);
    const [name] = readdirSync(join(cache, "parsed"));
    writeFileSync(join(cache, "parsed", name), "garbage");
    expect(snapshot(PTH)).toEqual(first);
    expect(snapshot(PTH)).toEqual(first);
  });
});
