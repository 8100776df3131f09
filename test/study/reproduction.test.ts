import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { memoryIO } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/main.js";
import { parseEffectsLong } from "../../src/patching/effects-long.js";
import { publishedFamily } from "../../src/study/reproduction.js";
import { parseResults } from "../../src/study/results-schema.js";

const shared = "/work/shared";
const reference = join(shared, "models", "reference");
const tmp = mkdtempSync(join(tmpdir(), "tspatch-repro-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CASES = [
  { dataset: "JapaneseVowels_eq", checkpoint: "TST_japanesevowels.pth" },
  { dataset: "PenDigits", checkpoint: "TST_pendigits.pth" },
  { dataset: "LSST", checkpoint: "TST_lsst.pth" },
];

describe.skipIf(!existsSync(reference))(
  "reproducing the published study with the compatibility switches",
  () => {
    it("gives its counts (21/24, 24/24, 0/24 under BH over all 72 heads) and its Cohen's d (3.35, 1.22)", async () => {
      for (const c of CASES) {
        const io = memoryIO({ cwd: tmp });
        const code = await runCli(
          [
            "study",
            "--model",
            join(reference, c.checkpoint),
            "--dataset",
            c.dataset,
            "--data-dir",
            join(shared, "datasets"),
            "--offline",
            "--pairs-file",
            join(reference, "study_pairs.csv"),
            "--head-mode",
            "slice",
            "--pool-directions",
            "--family",
            "pooled",
            "--kinds",
            "heads",
            "--resamples",
            "100",
            "--quiet",
            "--out",
            c.dataset,
          ],
          io,
        );
        // --quiet leaves only the pre-flight warnings (the reference models have spare outputs).
        const err = io.err.join("");
        for (const line of err.trimEnd().split("\n")) expect(line).toMatch(/^tspatch: warning \[[a-z-]+\] /);
        expect(code).toBe(0);
      }
      const results = CASES.map((c) =>
        parseResults(readFileSync(join(tmp, c.dataset, "results.json"), "utf8"), c.dataset),
      );
      // The reference checkpoints' int(label) class maps: 10 outputs for 9 classes, 96 for 14 (PenDigits fits).
      const width = results.map(
        (r) => r.diagnostics?.findings.find((f) => f.code === "output-width")?.detail,
      );
      expect(width.map((w) => [w?.outputs, w?.classes])).toEqual([
        [10, 9],
        [undefined, undefined],
        [96, 14],
      ]);
      // The published study's pairs: the noise side patches confident, correctly classified inputs.
      const saturated = results.map((r) =>
        r.diagnostics?.findings.some((f) => f.code === "saturation" && f.detail.direction === "noise"),
      );
      expect(saturated[0]).toBe(true);
      // The published table pooled 9/35/37 pairs with their reversals (18/70/74 units).
      expect(results.map((r) => r.directions[0].n_units)).toEqual([18, 70, 74]);
      expect(results.map((r) => r.plan.compatibility)).toEqual(
        CASES.map(() => ({
          pairs_file: "study_pairs.csv",
          head_slice: true,
          pool_directions: true,
          family_pooled: true,
        })),
      );
      const d = results.map((r) => r.reproduction?.cohen_d_denoise_vs_noise ?? Number.NaN);
      expect(d[0]).toBeCloseTo(3.35, 2);
      expect(d[1]).toBeCloseTo(1.22, 2);
      const family = publishedFamily(
        CASES.map((c) => {
          const file = join(tmp, c.dataset, "effects", "heads.csv");
          return { dataset: c.dataset, lines: parseEffectsLong(readFileSync(file, "utf8"), file) };
        }),
      );
      expect(family.map((f) => `${f.significant}/${f.total}`)).toEqual(["21/24", "24/24", "0/24"]);
      // Within one dataset (the study's own family of 24) JapaneseVowels has all 24.
      expect(results[0].reproduction?.counts).toEqual({ total: 24, raw: 24, corrected: 24 });
    }, 180_000);
  },
);
