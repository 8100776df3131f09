import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { memoryIO } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/main.js";

// A stock nn.TransformerEncoder classifier trained in PyTorch on the bundled JapaneseVowels
// (scripts/fixtures/stock_encoder_japanesevowels.py): its state dict and its test predictions.
const PTH = fileURLToPath(new URL("../fixtures/stock/jv_encoder.pth", import.meta.url));
const META = JSON.parse(
  readFileSync(fileURLToPath(new URL("../fixtures/stock/jv_encoder.json", import.meta.url)), "utf8"),
) as { test_accuracy: number; test_n: number; predictions: number[]; classes: string[]; heads: number };
const DATA = fileURLToPath(new URL("../../datasets/JapaneseVowels/", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "tspatch-stock-jv-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(...argv: string[]) {
  const io = memoryIO();
  const code = await runCli(argv, io);
  return { code, out: io.out.join(""), err: io.err.join("") };
}

describe("a PyTorch-trained nn.TransformerEncoder through import-pth --arch, eval, sweep and stats", () => {
  const model = join(tmp, "jv-encoder");
  const test = `${DATA}JapaneseVowels_TEST.ts`;

  it("imports with the shipped torch-encoder map and evaluates to PyTorch's predictions, row by row", async () => {
    const imported = await cli(
      "import-pth",
      PTH,
      "--arch",
      "torch-encoder",
      "--heads",
      String(META.heads),
      "--data",
      `${DATA}JapaneseVowels_TRAIN.ts`,
      "--out",
      model,
    );
    expect(imported.err).toBe("");
    expect(imported.code).toBe(0);
    expect(imported.out).toMatch(
      /12 channels, 29 steps, 9 outputs, 2 layers × 4 heads, d_model 32 \(map torch-encoder\)/,
    );
    const r = await cli("eval", "--model", model, "--data", test, "--json");
    expect(r.code).toBe(0);
    const result = JSON.parse(r.out) as {
      accuracy: number;
      n: number;
      predictions: { predicted_label?: string; predictedLabel?: string }[];
    };
    expect(result.n).toBe(META.test_n);
    expect(result.accuracy).toBe(META.test_accuracy);
    const predicted = result.predictions.map((p) => p.predictedLabel ?? p.predicted_label);
    expect(predicted).toEqual(META.predictions.map((i) => META.classes[i]));
  });

  it("a head sweep over the misclassified inputs and its statistics", async () => {
    const effects = join(tmp, "effects.csv");
    const sweep = await cli(
      "sweep",
      "--model",
      model,
      "--data",
      test,
      "--components",
      "heads",
      "--max-sources",
      "1",
      "--out",
      effects,
      "--quiet",
    );
    expect(sweep.code).toBe(0);
    const rows = readFileSync(effects, "utf8").trim().split("\n");
    const misclassified = Math.round(META.test_n * (1 - META.test_accuracy));
    expect(rows.length - 1).toBe(misclassified * 2 * 4); // targets (denoise, one source each) × layers × heads
    const stats = await cli("stats", effects, "--direction", "denoise", "--metric", "dp_true", "--json");
    expect(stats.code).toBe(0);
    const tests = JSON.parse(stats.out).tests as { name: string }[];
    expect(tests.map((t) => t.name).sort()).toEqual(
      ["L0H0", "L0H1", "L0H2", "L0H3", "L1H0", "L1H1", "L1H2", "L1H3"].sort(),
    );
  });
});
