import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { loadDataset } from "../../src/data/registry.js";
import { hookNames } from "../../src/model/hooks.js";
import { importPth } from "../../src/model/import-pth.js";
import { Runtime } from "../../src/runtime/session.js";
import { evaluate } from "../../src/train/evaluate.js";
import { activationClose, f32, modelFixture } from "./fixture-helpers.js";

const SHARED = fileURLToPath(new URL("../../../shared/", import.meta.url));
const runtime = new Runtime({ threads: 2 });
afterAll(() => runtime.release());

// The published checkpoints, their TEST files, and the accuracy of the PyTorch forward
// (../shared/models/reference/README.md; recomputed by scripts/fixtures/model_fixtures.py).
const CASES = [
  {
    stem: "japanesevowels",
    data: "datasets/JapaneseVowels/JapaneseVowels_eq_TEST.ts",
    accuracy: 0.9757,
    k: 10,
  },
  { stem: "pendigits", data: "datasets/PenDigits/PenDigits_TEST.ts", accuracy: 0.9808, k: 10 },
  { stem: "lsst", data: "datasets/LSST/LSST_TEST.ts", accuracy: 0.616, k: 96 },
];

describe.each(CASES)("reference checkpoint $stem", ({ stem, data, accuracy, k }) => {
  const { meta, tensors } = modelFixture(stem);

  it("imports with the int(label) map when K differs from the class count, and matches PyTorch on every hook", async () => {
    const test = await loadDataset(`${SHARED}${data}`);
    const { model, note } = importPth(`${SHARED}models/reference/TST_${stem}.pth`, { data: test, runtime });
    expect(model.config.classes).toBe(k);
    expect(note !== null).toBe(stem !== "pendigits");
    const x = f32(tensors, "input.x");
    const hooks = hookNames(model.config);
    const { logits, cache } = await model.run(x, { cache: hooks });
    expect(activationClose(logits, f32(tensors, "logits")).ok).toBe(true);
    for (const h of hooks) {
      const c = activationClose(cache[h]?.data ?? [], f32(tensors, h));
      expect({ hook: h, ...c }).toMatchObject({ hook: h, ok: true });
    }

    const result = await evaluate(model, test);
    expect(result.n).toBe(meta.test_n);
    expect(result.correct).toBe(meta.test_correct);
    expect(result.accuracy).toBeCloseTo(accuracy, 4);
    const total =
      result.confusion.flat().reduce((a, b) => a + b, 0) +
      result.unlabeledPredictions.reduce((a, b) => a + b, 0);
    expect(total).toBe(result.n);
    const diagonal = result.confusion.reduce((s, row, i) => s + row[i], 0);
    expect(diagonal).toBe(result.correct);
  });
});
