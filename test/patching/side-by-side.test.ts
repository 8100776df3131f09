import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InterruptedError } from "../../src/errors.js";
import { presetComponents } from "../../src/patching/presets.js";
import {
  prepareSweepSideBySide,
  sideBySideCheckpoints,
  sweepSideBySide,
} from "../../src/patching/side-by-side.js";
import { type SweepResult, sweep } from "../../src/patching/sweep.js";
import { smallModel, somePairs } from "../baselines/fixtures.js";

const work = mkdtempSync(join(tmpdir(), "tspatch-side-by-side-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Same rows in the same order (pair, component, status) with every metric within 1e-6. */
function expectSame(a: SweepResult, b: SweepResult): void {
  expect(a.rows).toHaveLength(b.rows.length);
  const metrics = ["dpTrue", "recovery", "logitDiff", "dLogitDiff", "klSource"] as const;
  a.rows.forEach((row, i) => {
    const other = b.rows[i];
    expect([row.pair.id, row.pair.direction, JSON.stringify(row.component), row.status]).toEqual([
      other.pair.id,
      other.pair.direction,
      JSON.stringify(other.component),
      other.status,
    ]);
    for (const m of metrics) {
      const [x, y] = [row[m], other[m]];
      if (x === null || y === null) expect(x).toBe(y);
      else expect(Math.abs(x - y)).toBeLessThanOrEqual(1e-6);
    }
  });
}

describe("a sweep side by side", async () => {
  const { model, inputs } = await smallModel();
  // Pairs between rows of different lengths (overlap alignment), 5 chunks of 2.
  const pairs = somePairs(inputs, 10);
  const components = presetComponents(model.config, "heads");
  const options = { components, pairsPerBatch: 2, batchRows: 16 };
  const single = await sweep(model, inputs, pairs, options);

  it("equals the sweep on one thread, row for row to 1e-6, the pair objects the caller's", async () => {
    const both = await sweepSideBySide(model, inputs, pairs, options, { threads: 2 });
    expectSame(both, single);
    expect(both.rows[0].pair).toBe(pairs[0]);
    expect(both.rows.at(-1)?.pair).toBe(pairs[9]);
    expect(both.baselines.map((b) => b.pair)).toEqual(pairs);
    expect(both.statusCounts).toEqual(single.statusCounts);
    expect(both.rows[0].component).toBe(components[0]);
  });

  it("reports progress over both halves, up to every pair", async () => {
    const seen: number[] = [];
    await sweepSideBySide(
      model,
      inputs,
      pairs,
      { ...options, onProgress: (done) => seen.push(done) },
      { threads: 2 },
    );
    expect(Math.max(...seen)).toBe(10);
    expect(seen.at(-1)).toBe(10);
  });

  it("keeps a checkpoint per half; a second run resumes every pair from them", async () => {
    const checkpoint = join(work, "resume.checkpoint");
    await sweepSideBySide(model, inputs, pairs, { ...options, checkpoint }, { threads: 2 });
    for (const file of sideBySideCheckpoints(checkpoint)) expect(existsSync(file)).toBe(true);
    const again = await sweepSideBySide(model, inputs, pairs, { ...options, checkpoint }, { threads: 2 });
    expect(again.resumedPairs).toBe(10);
    expectSame(again, single);
  });

  it("on one thread sweeps the same halves in turn: checkpoints resume across the two ways", async () => {
    const checkpoint = join(work, "across.checkpoint");
    await sweepSideBySide(model, inputs, pairs, { ...options, checkpoint }, { threads: 2 });
    const one = await sweepSideBySide(model, inputs, pairs, { ...options, checkpoint }, { threads: 1 });
    expect(one.resumedPairs).toBe(10);
    expectSame(one, single);
    const fresh = join(work, "fresh.checkpoint");
    const serial = await sweepSideBySide(
      model,
      inputs,
      pairs,
      { ...options, checkpoint: fresh },
      { threads: 1 },
    );
    expectSame(serial, single);
    const back = await sweepSideBySide(
      model,
      inputs,
      pairs,
      { ...options, checkpoint: fresh },
      { threads: 2 },
    );
    expect(back.resumedPairs).toBe(10);
  });

  it("resumed with other chunk sizes, splits where the interrupted sweep did", async () => {
    const checkpoint = join(work, "regrouped.checkpoint");
    await sweepSideBySide(model, inputs, pairs, { ...options, checkpoint }, { threads: 2 });
    const again = await sweepSideBySide(
      model,
      inputs,
      pairs,
      { ...options, pairsPerBatch: 4, checkpoint },
      { threads: 2 },
    );
    expect(again.resumedPairs).toBe(10);
    expect(again.grouping.pairsPerBatch).toBe(2);
    expectSame(again, single);
  });

  it("a sweep of fewer than 4 chunks runs whole with one checkpoint; a stale second half is dropped", async () => {
    const checkpoint = join(work, "few.checkpoint");
    const [, second] = sideBySideCheckpoints(checkpoint);
    writeFileSync(second, "stale\n");
    const whole = await sweepSideBySide(
      model,
      inputs,
      pairs,
      { ...options, pairsPerBatch: 4, checkpoint },
      { threads: 2 },
    );
    expectSame(whole, single);
    expect(existsSync(checkpoint)).toBe(true);
    expect(existsSync(second)).toBe(false);
  });

  it("on single-threaded sessions a part swept alone gives the split sweep's bytes (the study's shards)", async () => {
    const pinned = { threads: 2, singleThreaded: true };
    const all = await sweepSideBySide(model, inputs, pairs, options, pinned);
    // The last two chunks: fewer than 4, so swept whole on this thread.
    const part = await sweepSideBySide(model, inputs, pairs.slice(6), options, pinned);
    const metrics = (r: SweepResult) =>
      r.rows.map((row) => [row.dpTrue, row.recovery, row.logitDiff, row.dLogitDiff]);
    expect(metrics(part)).toEqual(metrics(all).slice(6 * components.length));
  });

  it("stops both halves on abort with an InterruptedError", async () => {
    const controller = new AbortController();
    const run = sweepSideBySide(
      model,
      inputs,
      pairs,
      { ...options, signal: controller.signal, onProgress: (done) => done >= 2 && controller.abort() },
      { threads: 2 },
    );
    await expect(run).rejects.toBeInstanceOf(InterruptedError);
  });

  it("a prepared sweep that is cancelled never sweeps and lets the process exit", async () => {
    const seen: number[] = [];
    const prepared = prepareSweepSideBySide(
      model,
      inputs,
      pairs,
      { ...options, onProgress: (done) => seen.push(done) },
      { threads: 2 },
    );
    await prepared.cancel();
    expect(seen).toEqual([]);
  });
});
