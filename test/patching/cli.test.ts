import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { memoryIO } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/main.js";
import { haveShared, maxAbsDiff, SHARED } from "./reference-models.js";

const tmp = mkdtempSync(join(tmpdir(), "tspatch-cli-patch-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const MODEL = join(SHARED, "models", "reference", "TST_japanesevowels.pth");
const DATA = join(SHARED, "datasets", "JapaneseVowels", "JapaneseVowels_eq_TEST.ts");

describe.skipIf(!haveShared)("tspatch patch / sweep", () => {
  it("patch --head-mode slice --json prints the study's numbers and says which mode", async () => {
    const io = memoryIO();
    const code = await runCli(
      [
        "patch",
        "--model",
        MODEL,
        "--data",
        DATA,
        "--source",
        "58",
        "--target",
        "31",
        "--head-mode",
        "slice",
        "--json",
      ],
      io,
    );
    expect(code).toBe(0);
    const out = JSON.parse(io.out.join(""));
    const ex = JSON.parse(readFileSync(join(SHARED, "models", "reference", "examples.json"), "utf8"))
      .pairs[0];
    expect(out.head_mode).toBe("slice");
    expect(out.true_label).toBe("2");
    expect(out.baseline_probs).toHaveLength(10);
    expect(maxAbsDiff(out.head_probs, ex.head_patch)).toBeLessThan(1e-5);
    expect(maxAbsDiff(out.layer_probs, ex.layer_patch)).toBeLessThan(1e-5);
    expect(maxAbsDiff(out.mlp_probs, ex.mlp_patch)).toBeLessThan(1e-5);
  });

  it("patch with a row outside the data exits 2 with the valid range", async () => {
    const io = memoryIO();
    const code = await runCli(
      ["patch", "--model", MODEL, "--data", DATA, "--source", "58", "--target", "9999"],
      io,
    );
    expect(code).toBe(2);
    expect(io.err.join("")).toMatch(/target row 9999 does not exist[\s\S]*0\.\.369/);
  });

  it("sweep writes the long-format CSV and a JSON summary, and leaves no checkpoint", async () => {
    const out = join(tmp, "effects.csv");
    const io = memoryIO({ cwd: tmp });
    const code = await runCli(
      [
        "sweep",
        "--model",
        MODEL,
        "--data",
        DATA,
        "--direction",
        "both",
        "--components",
        "heads,mlp",
        "--out",
        out,
        "--quiet",
      ],
      io,
    );
    expect(io.err.join("")).not.toMatch(/error/);
    expect(code).toBe(0);
    const summary = JSON.parse(io.out.join(""));
    expect(summary.pairs_by_direction).toEqual({ denoise: 9, noise: 9 });
    const lines = readFileSync(out, "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(1 + 18 * 27);
    expect(lines[0]).toMatch(/^pair_id,source,target,true_label,direction,component,layer,head,position/);
    expect(summary.rows).toBe(18 * 27);
    expect(existsSync(`${out}.checkpoint`)).toBe(false);
    expect(readFileSync(out, "utf8")).not.toMatch(/NaN/);
    // Pre-flight diagnostics: machine-readable in the JSON, warnings on stderr.
    const codes = summary.diagnostics.map((f: { code: string }) => f.code);
    expect(codes).toEqual(expect.arrayContaining(["saturation", "output-width", "pair-dependence"]));
    expect(codes).not.toContain("patch-no-op");
    expect(io.err.join("")).toMatch(
      /warning \[output-width\] the model has 10 outputs but the data has 9 classes/,
    );
  });

  it("sweep with a pairs file and the noised strategy", async () => {
    const pairsFile = join(tmp, "pairs.csv");
    writeFileSync(pairsFile, "source,target\n58,31\n5,1\n");
    const io = memoryIO({ cwd: tmp });
    expect(
      await runCli(
        [
          "sweep",
          "--model",
          MODEL,
          "--data",
          DATA,
          "--pairs-file",
          pairsFile,
          "--components",
          "layers",
          "--out",
          "f.csv",
          "--quiet",
        ],
        io,
      ),
    ).toBe(0);
    expect(readFileSync(join(tmp, "f.csv"), "utf8").trimEnd().split("\n")).toHaveLength(1 + 2 * 3);
    const io2 = memoryIO({ cwd: tmp });
    const code = await runCli(
      [
        "sweep",
        "--model",
        MODEL,
        "--data",
        DATA,
        "--strategy",
        "noised",
        "--snr",
        "-5",
        "--max-targets-per-class",
        "2",
        "--components",
        "layers",
        "--out",
        "n.csv",
        "--quiet",
      ],
      io2,
    );
    expect(io2.err.join("")).not.toMatch(/error/);
    expect(code).toBe(0);
    expect(JSON.parse(io2.out.join("")).strategy).toBe("noised");
  });

  it("no pairs: exit 2, a hint to use another strategy, and no output file", async () => {
    const io = memoryIO({ cwd: tmp });
    const out = join(tmp, "none.csv");
    const code = await runCli(
      ["sweep", "--model", MODEL, "--data", DATA, "--classes", "9", "--out", out, "--quiet"],
      io,
    );
    expect(code).toBe(2);
    expect(io.err.join("")).toMatch(/found no pairs[\s\S]*--strategy cross-class/);
    expect(existsSync(out)).toBe(false);
  });
});

describe.skipIf(!haveShared)("tspatch sweep interruption", () => {
  it("Ctrl-C exits 130 keeping the checkpoint; the same command then resumes and finishes", async () => {
    const out = join(tmp, "int.csv");
    const argv = [
      "sweep",
      "--model",
      MODEL,
      "--data",
      DATA,
      "--components",
      "layers",
      "--out",
      out,
      "--quiet",
    ];
    const controller = new AbortController();
    controller.abort();
    const io = memoryIO({ cwd: tmp });
    expect(await runCli(argv, io, { signal: controller.signal })).toBe(130);
    expect(io.err.join("")).toMatch(/rerun the same command to resume/);
    expect(existsSync(`${out}.checkpoint`)).toBe(true);
    expect(existsSync(out)).toBe(false);
    const io2 = memoryIO({ cwd: tmp });
    expect(await runCli(argv, io2)).toBe(0);
    expect(io2.err.join("")).toMatch(/resuming from/);
    expect(existsSync(out)).toBe(true);
    expect(existsSync(`${out}.checkpoint`)).toBe(false);
  });
});
