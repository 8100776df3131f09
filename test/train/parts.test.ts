import { describe, expect, it } from "vitest";
import { Rng } from "../../src/random/rng.js";
import { epochBatches } from "../../src/train/batches.js";
import { updateRunningStats } from "../../src/train/batchnorm-stats.js";
import { logitMetrics } from "../../src/train/classification-metrics.js";
import { fillKeepMask } from "../../src/train/dropout-masks.js";
import { stratifiedSplit } from "../../src/train/stratified-split.js";

describe("stratified split", () => {
  const labels = Int32Array.from([...Array(50).fill(0), ...Array(30).fill(1), ...Array(19).fill(2), 3]);

  it("holds out round(fraction · n) of each class, keeps singletons in train, and is seeded", () => {
    const { train, validation } = stratifiedSplit(labels, 0.1, new Rng(7));
    const count = (idx: Int32Array, c: number) => Array.from(idx).filter((i) => labels[i] === c).length;
    expect([0, 1, 2, 3].map((c) => count(validation, c))).toEqual([5, 3, 2, 0]);
    expect(train.length + validation.length).toBe(labels.length);
    expect(new Set([...train, ...validation]).size).toBe(labels.length);
    expect(stratifiedSplit(labels, 0.1, new Rng(7))).toEqual({ train, validation });
    expect(stratifiedSplit(labels, 0.1, new Rng(8)).validation).not.toEqual(validation);
    expect(stratifiedSplit(labels, 0, new Rng(7)).validation).toHaveLength(0);
    expect(() => stratifiedSplit(labels, 1, new Rng(7))).toThrow("`fraction` must be in [0, 1)");
  });
});

describe("dropout masks", () => {
  it("keep about 1 − p, reproducibly, with independent streams", () => {
    const a = fillKeepMask(new Rng(1, 5), new Uint8Array(200_000), 0.1);
    const kept = a.reduce((s, v) => s + v, 0) / a.length;
    // Binomial sd of the share: sqrt(0.09 / 200000) ≈ 6.7e-4; 5 sd.
    expect(Math.abs(kept - 0.9)).toBeLessThan(3.4e-3);
    // Neighbouring elements are independent: both dropped with probability p² = 0.01 (sd ≈ 2.2e-4).
    let pairs = 0;
    for (let i = 1; i < a.length; i++) pairs += a[i] === 0 && a[i - 1] === 0 ? 1 : 0;
    expect(Math.abs(pairs / (a.length - 1) - 0.01)).toBeLessThan(1.2e-3);
    const again = fillKeepMask(new Rng(1, 5), new Uint8Array(200_000), 0.1);
    expect(Buffer.from(again.buffer).equals(Buffer.from(a.buffer))).toBe(true);
    const b = fillKeepMask(new Rng(1, 6), new Uint8Array(200_000), 0.1);
    let same = 0;
    for (let i = 0; i < a.length; i++) same += a[i] === b[i] ? 1 : 0;
    expect(Math.abs(same / a.length - 0.82)).toBeLessThan(5e-3); // 0.9² + 0.1² for independent masks
    expect(fillKeepMask(new Rng(0), new Uint8Array(100), 0).every((v) => v === 1)).toBe(true);
    expect(() => fillKeepMask(new Rng(0), new Uint8Array(1), 1)).toThrow("must be in [0, 1)");
  });
});

describe("BatchNorm running statistics", () => {
  it("use momentum 0.1 and the unbiased batch variance, as PyTorch", () => {
    const bn = {
      runningMean: Float32Array.of(0, 1),
      runningVar: Float32Array.of(1, 2),
      numBatchesTracked: 4,
    };
    updateRunningStats(bn, Float32Array.of(2, -1), Float32Array.of(0.5, 3), 10);
    expect(Array.from(bn.runningMean)).toEqual([Math.fround(0.2), Math.fround(0.8)]);
    expect(bn.runningVar[0]).toBeCloseTo(0.9 + 0.1 * 0.5 * (10 / 9), 6);
    expect(bn.runningVar[1]).toBeCloseTo(1.8 + 0.1 * 3 * (10 / 9), 6);
    expect(bn.numBatchesTracked).toBe(5);
    expect(() => updateRunningStats(bn, Float32Array.of(0, 0), Float32Array.of(0, 0), 1)).toThrow(
      "more than 1 value",
    );
  });
});

describe("batches and metrics", () => {
  it("cut a seeded permutation into batches, the last one smaller", () => {
    const idx = Int32Array.from({ length: 10 }, (_, i) => i);
    const batches = epochBatches(idx, 4, new Rng(3));
    expect(batches.map((b) => b.length)).toEqual([4, 4, 2]);
    expect(batches.flatMap((b) => Array.from(b)).sort((x, y) => x - y)).toEqual(Array.from(idx));
    expect(epochBatches(idx, 4, new Rng(3))).toEqual(batches);
    expect(epochBatches(idx, 4, null)[0]).toEqual(Int32Array.of(0, 1, 2, 3));
  });

  it("compute mean cross-entropy and accuracy stably", () => {
    const m = logitMetrics(Float32Array.of(2, 0, 0, 1, 1000, 0), Int32Array.of(0, 1, 1), 2);
    expect(m.correct).toBe(2);
    expect(m.loss).toBeCloseTo((Math.log1p(Math.exp(-2)) + Math.log1p(Math.exp(-1)) + 1000) / 3, 10);
  });
});
