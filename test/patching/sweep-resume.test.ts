import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildPairs } from "../../src/patching/build-pairs.js";
import { datasetDigest, modelDigest } from "../../src/patching/content-digest.js";
import { effectsLongCsv } from "../../src/patching/effects-long.js";
import { presetComponents } from "../../src/patching/presets.js";
import { type SweepOptions, sweep } from "../../src/patching/sweep.js";
import { haveShared, referenceModel } from "./reference-models.js";

const tmp = mkdtempSync(join(tmpdir(), "tspatch-sweep-resume-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!haveShared)("sweep resume is independent of where the run stopped", () => {
  it("a checkpoint cut between per-pair appends, resumed with another --pairs-per-batch, gives the same CSV bytes", async () => {
    const { model, inputs } = await referenceModel("JapaneseVowels");
    const built = await buildPairs(model, inputs, { strategy: "misclassified", direction: "both", seed: 0 });
    const pairs = built.pairs.pairs;
    expect(pairs.length).toBeGreaterThan(8);
    const options: SweepOptions = { components: presetComponents(model.config, "layers"), pairsPerBatch: 4 };
    const csv = async (extra: Partial<SweepOptions>) =>
      effectsLongCsv(
        (await sweep(model, built.inputs, pairs, { ...options, ...extra })).rows,
        inputs.labelMap,
      );
    const whole = await csv({});

    // Stop after two chunks (8 pairs), then cut the file after pair 6 and tear pair 7's line,
    // as SIGKILL between (or during) appends leaves it.
    const checkpoint = join(tmp, "cut.checkpoint");
    const controller = new AbortController();
    await expect(
      csv({
        checkpoint,
        signal: controller.signal,
        onProgress: (done) => {
          if (done >= 8) controller.abort();
        },
      }),
    ).rejects.toThrow(/interrupt/i);
    const lines = readFileSync(checkpoint, "utf8").split("\n");
    expect(lines.length).toBeGreaterThanOrEqual(1 + 8);
    writeFileSync(checkpoint, `${lines.slice(0, 1 + 6).join("\n")}\n${lines[7].slice(0, 40)}`);

    // Resumed with another grouping asked for (batch 1 alone changes the 7th digit on this
    // model): the checkpoint's grouping is restored.
    const resumed = await sweep(model, built.inputs, pairs, {
      ...options,
      checkpoint,
      pairsPerBatch: 3,
      batchRows: 1,
    });
    expect(resumed.resumedPairs).toBe(6);
    expect(resumed.grouping).toEqual({ pairsPerBatch: 4, batchRows: 256 });
    expect(effectsLongCsv(resumed.rows, inputs.labelMap)).toBe(whole);
  });

  it("the grouping matters: one row per runtime call gives other last digits", async () => {
    const { model, inputs } = await referenceModel("JapaneseVowels");
    const built = await buildPairs(model, inputs, { strategy: "misclassified", direction: "both", seed: 0 });
    const components = presetComponents(model.config, "layers");
    const csv = async (batchRows: number) =>
      effectsLongCsv(
        (await sweep(model, built.inputs, built.pairs.pairs, { components, batchRows })).rows,
        inputs.labelMap,
      );
    expect(await csv(1)).not.toBe(await csv(256));
  });

  it("the summary counts what the rows show: non-finite logits are counted, not hidden", async () => {
    const { model, inputs } = await referenceModel("JapaneseVowels");
    const built = await buildPairs(model, inputs, {
      strategy: "misclassified",
      direction: "denoise",
      seed: 0,
    });
    const pairs = built.pairs.pairs.slice(0, 2);
    const components = presetComponents(model.config, "layers");
    const w = model.params.values().next().value as Float32Array;
    const saved = Float32Array.from(w);
    try {
      w.fill(Number.NaN);
      const result = await sweep(model, built.inputs, pairs, { components });
      expect(result.nonFiniteRows).toBe(result.rows.length);
      expect(result.undefinedRecovery).toBe(result.rows.length);
    } finally {
      w.set(saved);
    }
  });

  it("model and data digests change with one weight or one value", async () => {
    const { model, inputs } = await referenceModel("JapaneseVowels");
    const before = [modelDigest(model), datasetDigest(inputs.dataset)];
    expect(before[0]).toMatch(/^[0-9a-f]{64}$/);
    const w = model.params.values().next().value as Float32Array;
    const v = inputs.dataset.values;
    const [w0, v0] = [w[0], v[0]];
    try {
      w[0] += 1e-3;
      v[0] += 1e-3;
      expect(modelDigest(model)).not.toBe(before[0]);
      expect(datasetDigest(inputs.dataset)).not.toBe(before[1]);
    } finally {
      w[0] = w0;
      v[0] = v0;
    }
    expect([modelDigest(model), datasetDigest(inputs.dataset)]).toEqual(before);
  });
});
