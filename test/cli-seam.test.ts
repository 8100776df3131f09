import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { memoryIO } from "../src/cli/io.js";
import { runCli } from "../src/cli/main.js";
import { haveShared, SHARED } from "./patching/reference-models.js";

// The commands at the data–model seam: eval's per-row predictions (whose row ids patch takes),
// and --json on every command that prints a result.
const tmp = mkdtempSync(join(tmpdir(), "tspatch-cli-seam-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const MODEL = join(SHARED, "models", "reference", "TST_japanesevowels.pth");
const DATA = join(SHARED, "datasets", "JapaneseVowels", "JapaneseVowels_eq_TEST.ts");

async function cli(...argv: string[]) {
  const io = memoryIO({ cwd: tmp });
  const code = await runCli(argv, io);
  return { code, out: io.out.join(""), err: io.err.join("") };
}

describe.skipIf(!haveShared)("eval --predictions", () => {
  it("writes one line per row whose ids and P(true) are the ones patch uses", async () => {
    const r = await cli(
      "eval",
      "--model",
      MODEL,
      "--data",
      DATA,
      "--predictions",
      "pred.csv",
      "--json",
      "--quiet",
    );
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    const lines = readFileSync(join(tmp, "pred.csv"), "utf8").trimEnd().split("\n");
    expect(lines[0]).toBe("row,true_label,predicted_label,p_true,p_predicted,correct");
    const rows = lines.slice(1).map((l) => l.split(","));
    expect(rows).toHaveLength(370);
    expect(json.predictions).toHaveLength(370);
    rows.forEach((cells, i) => {
      const [row, yTrue, yPred, pTrue, pPred, correct] = cells;
      expect(Number(row)).toBe(i);
      expect(correct).toBe(yTrue === yPred ? "correct" : "incorrect");
      expect(Number(pPred)).toBeGreaterThanOrEqual(Number(pTrue));
      expect(Number(pPred)).toBeLessThanOrEqual(1);
      if (correct === "correct") expect(Number(pTrue)).toBe(Number(pPred));
      const j = json.predictions[i];
      expect([j.row, j.true_label, j.predicted_label ?? "", j.p_true, j.p_predicted]).toEqual([
        i,
        yTrue,
        yPred,
        Number(pTrue),
        Number(pPred),
      ]);
    });
    const wrong = rows.filter((c) => c[5] === "incorrect").length;
    expect(wrong).toBe(json.n - json.correct);
    expect(wrong).toBe(9); // the study's 9 misclassified JapaneseVowels_eq TEST inputs
    // The study's pair: source 58 (correct) → target 31 (misclassified), both true label 2.
    expect(rows[58].slice(1, 2).concat(rows[58][5])).toEqual(["2", "correct"]);
    expect(rows[31].slice(1, 2).concat(rows[31][5])).toEqual(["2", "incorrect"]);
    const patch = await cli(
      "patch",
      "--model",
      MODEL,
      "--data",
      DATA,
      "--source",
      "58",
      "--target",
      "31",
      "--json",
    );
    expect(patch.code).toBe(0);
    const p = JSON.parse(patch.out);
    expect(p.baseline_probs[p.true_index]).toBeCloseTo(Number(rows[31][3]), 6);
    expect(p.source_probs[p.true_index]).toBeCloseTo(Number(rows[58][3]), 6);
    expect(p.predicted.target).toBe(rows[31][2]);
  });
});

describe.skipIf(!haveShared)("--json on import-pth, export and sweep", () => {
  it("import-pth --json: the saved label map and the note, nothing else on stdout", async () => {
    const r = await cli("import-pth", MODEL, "--out", "jv", "--data", DATA, "--json");
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(json.label_map).toEqual({
      kind: "int",
      classes: ["1", "2", "3", "4", "5", "6", "7", "8", "9"],
      outputs: 10,
    });
    expect(json.note).toMatch(/int\(label\)/);
    expect(json.config.classes).toBe(10);
    const saved = JSON.parse(readFileSync(join(tmp, "jv", "config.json"), "utf8"));
    expect(saved.labelMap).toEqual(json.label_map);
  });

  it("export --json: the file and its inputs and outputs", async () => {
    const r = await cli("export", "--model", MODEL, "--onnx", "jv.onnx", "--json");
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(json.onnx).toBe(join(tmp, "jv.onnx"));
    expect(json.inputs.x.shape).toEqual(["batch", 25, 12]);
    expect(json.inputs.mask.shape).toEqual(["batch", 25]);
    expect(json.outputs.logits.shape).toEqual(["batch", 10]);
    expect(existsSync(join(tmp, "jv.onnx"))).toBe(true);
    const plain = await cli("export", "--model", MODEL, "--onnx", "jv2.onnx", "--no-mask", "--json");
    expect(JSON.parse(plain.out).inputs.mask).toBeUndefined();
  });

  it("sweep --json: the JSON summary", async () => {
    const r = await cli(
      "sweep",
      "--model",
      join(tmp, "jv"),
      "--data",
      DATA,
      "--components",
      "layers",
      "--out",
      "s.csv",
      "--quiet",
      "--json",
    );
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(json.rows).toBe(9 * 3);
    expect(json.pairs_by_direction).toEqual({ denoise: 9, noise: 0 });
  });
});
