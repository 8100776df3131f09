import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InputError, InterruptedError } from "../../src/errors.js";
import { HookedTST } from "../../src/model/hooked-tst.js";
import { streams } from "../../src/random/streams.js";
import { Runtime } from "../../src/runtime/session.js";
import { gatherBatch } from "../../src/train/batches.js";
import { readCheckpoint } from "../../src/train/checkpoint.js";
import { evaluateBatch, trainLoop } from "../../src/train/loop.js";
import { stratifiedSplit } from "../../src/train/stratified-split.js";
import { checkpointPathOf, type TrainModelOptions, trainModel } from "../../src/train/train-model.js";

// A tiny TST on the bundled JapaneseVowels (270 TRAIN cases, unequal lengths → padding masks):
// 8 steps per epoch (243 cases after the validation split), fast enough for a unit test, and every part of the real pipeline runs.
const tiny = {
  dModel: 16,
  heads: 2,
  layers: 1,
  ff: 32,
  convChannels: [8, 8, 16] as [number, number, number],
};
const root = mkdtempSync(join(tmpdir(), "tspatch-train-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function options(out: string, extra: Partial<TrainModelOptions> = {}): TrainModelOptions {
  return {
    dataset: "JapaneseVowels",
    out: join(root, out),
    architecture: tiny,
    epochs: 2,
    seed: 3,
    data: { env: { TSPATCH_OFFLINE: "1" } },
    exportOnnx: false,
    runtime: new Runtime({ threads: 2 }),
    ...extra,
  };
}

const weightsOf = (dir: string) => readFileSync(join(root, dir, "weights.safetensors"));
const lossesOf = (dir: string) =>
  JSON.parse(readFileSync(join(root, dir, "metrics.json"), "utf8")).epochs.map(
    (e: { trainLoss: number; valLoss: number }) => [e.trainLoss, e.valLoss],
  );

describe("training loop", () => {
  it("is deterministic: same seed and threads give byte-identical weights.safetensors", async () => {
    const a = await trainModel(options("a"));
    await trainModel(options("b"));
    expect(weightsOf("a").equals(weightsOf("b"))).toBe(true);
    expect(lossesOf("a")).toEqual(lossesOf("b"));
    await trainModel(options("other-seed", { seed: 4 }));
    expect(weightsOf("a").equals(weightsOf("other-seed"))).toBe(false);
    // The run wrote a complete model directory and removed its checkpoint.
    expect(a.files).toEqual(["config.json", "weights.safetensors", "metrics.json"]);
    expect(existsSync(checkpointPathOf(a.dir))).toBe(false);
    expect(a.metrics.epochs).toHaveLength(2);
    expect(a.metrics.steps).toBe(2 * Math.ceil(a.metrics.split.train / 32));
    expect(a.metrics.split).toEqual({ train: 243, validation: 27, test: 370 });
    expect(a.metrics.test?.confusion.flat().reduce((s, v) => s + v, 0)).toBe(370);
  });

  it("resumes after an interrupt to the same final weights as an uninterrupted run", async () => {
    const controller = new AbortController();
    let steps = 0;
    const interrupted = trainModel(
      options("resumed", {
        signal: controller.signal,
        onProgress: () => {
          steps += 1;
          if (steps === 12) controller.abort(); // epoch 2, step 4 of 8 (243 training cases)
        },
      }),
    );
    await expect(interrupted).rejects.toThrow(InterruptedError);
    await expect(interrupted).rejects.toThrow(/epoch 2, step 4 of 8; checkpoint written to .*--resume/);
    expect(steps).toBe(12);
    expect(existsSync(join(root, "resumed", "config.json"))).toBe(false);
    const ckpt = readCheckpoint(checkpointPathOf(join(root, "resumed")));
    expect([ckpt.position.epoch, ckpt.position.stepInEpoch, ckpt.optimizer.step]).toEqual([1, 4, 12]);

    const resumed = await trainModel(options("resumed", { resume: true }));
    expect(resumed.metrics.resumedFrom).toEqual({ epoch: 2, step: 4 });
    if (!existsSync(join(root, "a"))) await trainModel(options("a"));
    expect(weightsOf("resumed").equals(weightsOf("a"))).toBe(true);
    expect(lossesOf("resumed")).toEqual(lossesOf("a"));
  });

  it("refuses to resume with other settings", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(trainModel(options("mismatch", { signal: controller.signal }))).rejects.toThrow(
      InterruptedError,
    );
    await expect(trainModel(options("mismatch", { resume: true, lr: 1e-2 }))).rejects.toThrow(
      /other settings:\n {2}lr: 0\.001 → 0\.01/,
    );
  });

  it("stops on a non-finite loss, names epoch and step, and keeps the last good checkpoint", async () => {
    const model = await tinyModel();
    const data = await jvData(model);
    const path = join(root, "nan-checkpoint.safetensors");
    let good: Float32Array | undefined;
    const run = trainLoop(model, data, {
      epochs: 3,
      seed: 1,
      checkpointPath: path,
      onEpoch: (record) => {
        if (record.epoch !== 1) return;
        good = model.params.get("unembed.W_U")!.slice();
        model.params.get("unembed.W_U")![0] = Number.NaN; // the next forward pass gives a NaN loss
      },
    });
    await expect(run).rejects.toThrow(InputError);
    await expect(run).rejects.toThrow(
      /training diverged: the loss is NaN at epoch 2, step 1 of 8; the last good checkpoint \(end of epoch 1\) is kept at/,
    );
    await expect(run).rejects.toThrow(/fix: lower the learning rate/);
    const kept = readCheckpoint(path);
    expect(kept.position.history).toHaveLength(1);
    expect(Array.from(kept.params.get("unembed.W_U")!)).toEqual(Array.from(good!));
  });

  it("early stopping restores the best epoch's weights", async () => {
    const model = await tinyModel();
    const data = await jvData(model);
    const result = await trainLoop(model, data, { epochs: 40, patience: 2, lr: 3e-2, seed: 2 });
    expect(result.stoppedEarly).toBe(true);
    expect(result.history).toHaveLength(result.bestEpoch + 2);
    const valLosses = result.history.map((r) => r.valLoss!);
    expect(Math.min(...valLosses)).toBe(valLosses[result.bestEpoch - 1]);
    // The model now computes exactly the best epoch's validation loss.
    const split = stratifiedSplit(data.labels, 0.1, streams.split(2));
    const v = await evaluateBatch(model, gatherBatch(data, split.validation), true);
    expect(v.loss).toBeCloseTo(valLosses[result.bestEpoch - 1], 10);
    expect(result.numBatchesTracked).toBe(result.bestEpoch * 8);
  });

  it("--val-fraction 0 trains on all cases for exactly the given epochs", async () => {
    const model = await tinyModel();
    const data = await jvData(model);
    const result = await trainLoop(model, data, { epochs: 2, valFraction: 0 });
    expect(result.split).toEqual({ train: 270, validation: 0 });
    expect(result.history.map((r) => r.valLoss)).toEqual([null, null]);
    expect([result.bestEpoch, result.stoppedEarly, result.steps]).toEqual([2, false, 18]);
  });
});

async function tinyModel(): Promise<HookedTST> {
  const { makeConfig } = await import("../../src/model/config.js");
  return HookedTST.fromConfig(
    makeConfig({ channels: 12, seqLen: 29, classes: 9, ...tiny }),
    0,
    {},
    new Runtime({ threads: 2 }),
  );
}

async function jvData(model: HookedTST) {
  const { loadDataset } = await import("../../src/data/registry.js");
  const { trainData } = await import("../../src/train/train-model.js");
  const train = await loadDataset("JapaneseVowels", { split: "train", env: { TSPATCH_OFFLINE: "1" } });
  return trainData(model, train);
}
