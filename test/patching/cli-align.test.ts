import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { memoryIO } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/main.js";
import { makeConfig, type TSTConfigInput } from "../../src/model/config.js";
import { HookedTST } from "../../src/model/hooked-tst.js";
import { saveModel } from "../../src/model/model-dir.js";
import { paramShapes } from "../../src/model/param-names.js";
import { readSafetensors } from "../../src/model/safetensors.js";

// The unequal-length fixture's model (12 channels, seqLen 29, 9 classes) fits the bundled
// JapaneseVowels TEST file, whose series have 7..29 steps (row 0: 19, 1: 17, 4: 24, 5: 17, 7: 29, 15: 13).
const tmp = mkdtempSync(join(tmpdir(), "tspatch-cli-align-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const fixtures = join(import.meta.dirname, "..", "fixtures", "patching");
const DATA = join(import.meta.dirname, "..", "..", "datasets", "JapaneseVowels", "JapaneseVowels_TEST.ts");
const MODEL = join(tmp, "model");
{
  const meta = JSON.parse(readFileSync(join(fixtures, "unequal.json"), "utf8"));
  const tensors = readSafetensors(join(fixtures, "unequal.safetensors")).tensors;
  const config = makeConfig(meta.config as TSTConfigInput);
  const params = new Map(
    paramShapes(config).map((p) => [p.name, tensors.get(`param.${p.name}`)!.data as Float32Array]),
  );
  saveModel(new HookedTST(config, params), MODEL);
}
const PAIRS = join(tmp, "pairs.csv");
writeFileSync(PAIRS, "source,target\n7,0\n0,7\n15,4\n4,15\n1,5\n");

async function sweepJson(extra: string[], out: string) {
  const io = memoryIO({ cwd: tmp });
  const code = await runCli(
    ["sweep", "--model", MODEL, "--data", DATA, "--pairs-file", PAIRS, "--out", out, "--quiet", ...extra],
    io,
  );
  expect(io.err.join("")).not.toMatch(/error/);
  expect(code).toBe(0);
  return JSON.parse(io.out.join(""));
}

describe("sweep and patch on unequal-length JapaneseVowels", () => {
  it("sweep reports the overlap distribution and not-applicable positions; the CSV marks them", async () => {
    const summary = await sweepJson(["--components", "layers,mlp-pos"], "effects.csv");
    expect(summary.align).toBe("overlap");
    // pair overlaps: 1 (29→19), 19/29, 13/24, 1 (24→13), 1 (17→17)
    expect(summary.overlap.min).toBeCloseTo(13 / 24, 12);
    expect(summary.overlap.max).toBe(1);
    expect(summary.overlap.median).toBe(1);
    expect(summary.overlap.partial_pairs).toBe(2);
    expect(summary.overlap.partial_rows).toBe(2 * (3 + 3 * 29));
    // mlp-pos: per layer, the steps past min(source, target) of each pair: 10 + 10 + 16 + 16 + 12 = 64
    expect(summary.rows_by_status).toEqual({
      ok: 5 * (3 + 3 * 29) - 3 * 64,
      not_applicable: 3 * 64,
      no_overlap: 0,
    });
    expect(summary.alignment_note).toMatch(/192 rows are not_applicable/);
    const lines = readFileSync(join(tmp, "effects.csv"), "utf8").trimEnd().split("\n");
    const header = lines[0].split(",");
    expect(header.slice(-5)).toEqual(["align", "source_steps", "target_steps", "overlap", "status"]);
    const na = lines.slice(1).filter((l) => l.endsWith(",not_applicable"));
    expect(na).toHaveLength(192);
    const dp = header.indexOf("dp_true");
    for (const l of na) expect(l.split(",").slice(dp, dp + 5)).toEqual(["", "", "", "", ""]);
    expect(lines[1].split(",").slice(-5)).toEqual(["overlap", "29", "19", "1", "ok"]);
  });

  it("--align resample: every pair fully overlaps, positions past the target's end are not applicable", async () => {
    const summary = await sweepJson(["--components", "layers,mlp-pos", "--align", "resample"], "r.csv");
    expect(summary.align).toBe("resample");
    expect([summary.overlap.min, summary.overlap.max, summary.overlap.partial_pairs]).toEqual([1, 1, 0]);
    // targets 19, 29, 24, 13, 17 steps: 10 + 0 + 5 + 16 + 12 = 43 padding steps per layer
    expect(summary.rows_by_status.not_applicable).toBe(3 * 43);
  });

  it("an unknown --align value exits 2 naming the flag and the choices", async () => {
    for (const command of ["sweep", "patch"]) {
      const io = memoryIO({ cwd: tmp });
      const argv =
        command === "sweep"
          ? ["sweep", "--model", MODEL, "--data", DATA, "--pairs-file", PAIRS, "--align", "phase"]
          : ["patch", "--model", MODEL, "--data", DATA, "--source", "0", "--target", "7", "--align", "phase"];
      expect(await runCli(argv, io)).toBe(2);
      const err = io.err.join("");
      expect(err).toMatch(/unknown alignment "phase"/);
      expect(err).toMatch(/--align/);
      expect(err).toMatch(/overlap .*resample/);
      expect(err).not.toMatch(/\n\s+at /);
    }
  });

  it("patch prints the pair's alignment (text and JSON)", async () => {
    const argv = ["patch", "--model", MODEL, "--data", DATA, "--source", "15", "--target", "4"];
    const io = memoryIO({ cwd: tmp });
    expect(await runCli([...argv, "--json"], io)).toBe(0);
    const out = JSON.parse(io.out.join(""));
    expect(out).toMatchObject({ align: "overlap", source_steps: 13, target_steps: 24, patched_steps: 13 });
    expect(out.overlap).toBeCloseTo(13 / 24, 12);
    const text = memoryIO({ cwd: tmp });
    expect(await runCli(argv, text)).toBe(0);
    expect(text.out.join("")).toMatch(
      /alignment overlap: source 13 steps, target 24, 13 patched \(overlap 0\.542\)/,
    );
  });
});
