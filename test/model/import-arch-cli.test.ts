import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { memoryIO } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/main.js";

const JV = fileURLToPath(new URL("../fixtures/stock/jv_encoder.pth", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "tspatch-arch-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(...argv: string[]) {
  const io = memoryIO();
  const code = await runCli(argv, io);
  return { code, out: io.out.join(""), err: io.err.join("") };
}

describe("import-pth --inspect", () => {
  it("prints keys by module (identical layers folded), the recognised pattern and a suggested map", async () => {
    const r = await cli("import-pth", JV, "--inspect");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/29 tensors, 18729 values/);
    expect(r.out).toMatch(/ {4}encoder\.layers\.0\.self_attn\.in_proj_weight \[96,32\]/);
    expect(r.out).toMatch(/ {2}encoder\.layers\.1: same keys and shapes as encoder\.layers\.0/);
    expect(r.out).toMatch(/recognised: nn\.TransformerEncoder layers at encoder\.layers\.\{l\}/);
    const json = r.out.slice(r.out.indexOf("\n{") + 1, r.out.indexOf("\n}\n") + 2);
    const { description: _, ...shipped } = JSON.parse(
      readFileSync(fileURLToPath(new URL("../../maps/torch-encoder.json", import.meta.url)), "utf8"),
    );
    expect(JSON.parse(json)).toEqual(shipped);
    expect(r.out).toMatch(/- heads: not in the weights; pass --heads N/);
  });

  it("--json: groups, suggestion and notes as one object", async () => {
    const r = await cli("import-pth", JV, "--inspect", "--json");
    const info = JSON.parse(r.out);
    expect(info.tensors).toBe(29);
    expect(info.groups.map((g: { prefix: string }) => g.prefix)).toContain("encoder.layers.1");
    expect(info.suggestedMap.layers).toBe("encoder.layers.{l}");
  });
});

describe("import-pth --arch: bad input exits 2 with the field and the fix", () => {
  it("no --heads", async () => {
    const r = await cli("import-pth", JV, "--arch", "torch-encoder", "--out", join(tmp, "a"));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /the number of attention heads is not given \(map torch-encoder\) \(heads\)\n {2}fix: pass --heads N/,
    );
  });

  it("a map file with an unknown value; a map file that is not JSON; an unknown map name", async () => {
    const map = join(tmp, "bad.json");
    writeFileSync(
      map,
      JSON.stringify({
        stem: { kind: "linear", key: "input_proj" },
        pos: { kind: "rotary" },
        layers: "encoder.layers.{l}",
        pool: "mean",
        head: "classifier",
      }),
    );
    let r = await cli("import-pth", JV, "--arch", map, "--heads", "4", "--out", join(tmp, "b"));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /bad\.json: arch map: pos\.kind must be one of "learned", "sinusoidal", "none", got "rotary" \(pos\.kind\)/,
    );
    writeFileSync(map, "{ stem: linear }");
    r = await cli("import-pth", JV, "--arch", map, "--heads", "4", "--out", join(tmp, "b"));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/arch map is not JSON/);
    r = await cli("import-pth", JV, "--arch", "torch-encodr", "--heads", "4", "--out", join(tmp, "b"));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /no arch map "torch-encodr" \(--arch\)\n {2}fix: give a map file, or a shipped map: mvts-transformer, study-tst/,
    );
  });

  it("a map for another model: the layers template matches nothing; the keys found and --inspect", async () => {
    const r = await cli(
      "import-pth",
      JV,
      "--arch",
      "mvts-transformer",
      "--heads",
      "4",
      "--out",
      join(tmp, "c"),
    );
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /no key of the checkpoint matches the map's layers "transformer_encoder\.layers\.\{l\}\.\*"/,
    );
    expect(r.err).toMatch(/keys found: pos_embedding, input_proj\.weight, .*--inspect/);
  });

  it("--heads without --arch; --heads out of range; no --out", async () => {
    let r = await cli("import-pth", JV, "--heads", "4", "--out", join(tmp, "d"));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--heads applies only with --arch/);
    r = await cli("import-pth", JV, "--arch", "torch-encoder", "--heads", "0", "--out", join(tmp, "d"));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--heads must be/);
    r = await cli("import-pth", JV, "--arch", "torch-encoder", "--heads", "4");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--out <dir> is required/);
  });
});
