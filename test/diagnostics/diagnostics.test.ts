import { describe, expect, it } from "vitest";
import { dependenceFindings, designFindings, pairDependence } from "../../src/diagnostics/design.js";
import { formatFinding } from "../../src/diagnostics/finding.js";
import { outputWidthFindings } from "../../src/diagnostics/output-width.js";
import { noOpFindings, patchSanity } from "../../src/diagnostics/patch-sanity.js";
import { saturationFindings } from "../../src/diagnostics/saturation.js";
import { HookedTST } from "../../src/model/hooked-tst.js";
import type { PairSet } from "../../src/patching/pairs.js";
import { presetComponents } from "../../src/patching/presets.js";
import { type EffectRow, type PairBaseline, sweep } from "../../src/patching/sweep.js";
import type { Component, Direction, Pair } from "../../src/patching/types.js";
import { Runtime } from "../../src/runtime/session.js";
import { haveShared, referenceModel } from "../patching/reference-models.js";

const pair = (id: number, source: number, target: number, direction: Direction = "denoise"): Pair => ({
  id,
  source,
  target,
  direction,
  trueClass: 0,
  goodClass: 0,
  badClass: 1,
});

/** Logits whose softmax gives P(class 0) = p over 3 classes (the rest split evenly). */
function logitsFor(p: number): Float64Array {
  const rest = (1 - p) / 2;
  return Float64Array.from([Math.log(p), Math.log(rest), Math.log(rest)]);
}

const baseline = (p: Pair, pTarget: number): PairBaseline => ({
  pair: p,
  sourceLogits: logitsFor(0.9),
  targetLogits: logitsFor(pTarget),
});

describe("saturation", () => {
  it("fires when patched inputs sit at P(true) ≈ 1 and names the capped metrics", () => {
    const b = [0, 1, 2, 3].map((i) => baseline(pair(i, 10 + i, i, "noise"), 0.9998));
    const [f] = saturationFindings(b);
    expect(f.code).toBe("saturation");
    expect(f.severity).toBe("warning");
    expect(f.detail).toMatchObject({
      direction: "noise",
      near_one: 4,
      inputs: 4,
      suggested_metric: "d_logit_diff",
    });
    expect(f.detail.capped_metrics).toEqual(["dp_true", "recovery", "kl_source"]);
    expect(formatFinding(f)).toMatch(/^tspatch: warning \[saturation\] noise: 4 of 4/);
  });

  it("stays quiet on unsaturated inputs, and counts each input once", () => {
    expect(saturationFindings([0, 1].map((i) => baseline(pair(i, 5, i), 0.6)))).toEqual([]);
    const shared = [0, 1, 2].map((i) => baseline(pair(i, 10 + i, 7, "noise"), 0.99999));
    expect(saturationFindings(shared)[0].detail.inputs).toBe(1);
  });
});

describe("output width", () => {
  it("lists outputs that are never a true class and the probability they take", () => {
    const logits = [Float64Array.from([0, 0, 0, Math.log(2)])]; // P = 0.2, 0.2, 0.2, 0.4
    const [f] = outputWidthFindings(4, [0, 1, 1, 0], logits);
    expect(f.code).toBe("output-width");
    expect(f.detail.unused_outputs).toEqual([2, 3]);
    expect(f.detail.mean_unused_probability).toBeCloseTo(0.6, 12);
    expect(f.detail.predicted_unused).toBe(1);
  });

  it("stays quiet when every output is a class", () => {
    expect(outputWidthFindings(3, [0, 1, 2, -1], [Float64Array.from([1, 2, 3])])).toEqual([]);
  });
});

describe("design and dependence", () => {
  const set = (pairs: Pair[], counts: Record<string, number> = {}): PairSet => ({
    strategy: "misclassified",
    pairs,
    counts,
  });

  it("warns about a single pair, a small family and dropped targets", () => {
    expect(designFindings(set([pair(0, 1, 2)])).map((f) => f.code)).toEqual(["single-pair"]);
    const small = designFindings(set([pair(0, 1, 2), pair(1, 1, 3), pair(2, 4, 5)]));
    expect(small.map((f) => f.code)).toEqual(["small-family"]);
    expect(small[0].detail).toMatchObject({ units: 3, pairs: 3 });
    const dropped = designFindings(
      set(
        Array.from({ length: 6 }, (_, i) => pair(i, 100, i)),
        { targets: 8, targetsWithoutSource: 2 },
      ),
    );
    expect(dropped.map((f) => f.code)).toEqual(["targets-dropped"]);
  });

  it("stays quiet on a clean design", () => {
    expect(designFindings(set(Array.from({ length: 6 }, (_, i) => pair(i, 100 + i, i))))).toEqual([]);
  });

  it("counts shared inputs, units and linked clusters", () => {
    // sources 100 (×3) and 101 (×2): two clusters; noise direction runs the correct inputs.
    const pairs = [pair(0, 100, 1), pair(1, 100, 2), pair(2, 100, 3), pair(3, 101, 4), pair(4, 101, 5)];
    const [d] = pairDependence(pairs);
    expect(d).toMatchObject({
      pairs: 5,
      sources: 2,
      targets: 5,
      maxSourceUse: 3,
      clusters: 2,
      effectiveN: 5,
    });
    expect(d.pairsSharingSource).toBe(5);
    const [f] = dependenceFindings(pairs);
    expect(f.severity).toBe("warning");
    expect(f.message).toMatch(/between 2 and 5/);
    expect(dependenceFindings([pair(0, 100, 1, "noise"), pair(1, 101, 1, "noise")])[0].message).toMatch(
      /effective n is 1/,
    );
    const independent = dependenceFindings([pair(0, 100, 1), pair(1, 101, 2)]);
    expect(independent[0].severity).toBe("info");
  });
});

describe("no-op patches", () => {
  const head: Component = { kind: "head", layer: 0, head: 0, mode: "z" };
  const pos: Component = { kind: "head", layer: 2, head: 0, mode: "z", position: 3 };
  const row = (c: Component, d: number, p = pair(0, 1, 2)): EffectRow => ({
    pair: p,
    component: c,
    align: "overlap",
    sourceSteps: 10,
    targetSteps: 10,
    overlap: 1,
    status: "ok",
    dpTrue: d,
    recovery: d,
    logitDiff: d,
    dLogitDiff: d,
    klSource: 1,
  });

  it("is an error for a whole-sequence component that changed nothing, a warning for a position", () => {
    const f = noOpFindings([row(head, 0), row(head, 0, pair(1, 3, 4)), row(pos, 0.1)]);
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ code: "patch-no-op", severity: "error" });
    expect(f[0].detail.components).toEqual(["L0H0"]);
    expect(noOpFindings([row(pos, 0)])[0].severity).toBe("warning");
  });

  it("stays quiet when every component moved somewhere, and ignores source = target pairs", () => {
    expect(noOpFindings([row(head, 0), row(head, 1e-9, pair(1, 3, 4))])).toEqual([]);
    expect(noOpFindings([row(head, 0, pair(0, 5, 5))])).toEqual([]);
  });
});

describe.skipIf(!haveShared)("patch sanity on the JapaneseVowels reference model", () => {
  const pairs = [pair(0, 58, 31), pair(1, 144, 114), pair(2, 162, 170)].map((p) => ({ ...p, trueClass: 2 }));

  it("is quiet for the engine", async () => {
    const { model, inputs } = await referenceModel("JapaneseVowels");
    const components = presetComponents(model.config, "heads", "z");
    expect(await patchSanity(model, inputs, pairs, components, { lengths: inputs.lengths })).toEqual([]);
  });

  it("fires for a sweep that ignores its source, and for one that mixes batch rows", async () => {
    const { model, inputs } = await referenceModel("JapaneseVowels");
    const components = presetComponents(model.config, "heads", "z").slice(0, 4);
    // A patch that never reaches the model: report the target's own output (all effects 0) —
    // identity passes, "everything" does not.
    const ignoring: typeof sweep = async (m, t, p, o) => {
      const r = await sweep(m, t, p, o);
      return { ...r, rows: r.rows.map((row) => ({ ...row, status: "ok" as const, ...zeroEffect(row) })) };
    };
    const codes = (await patchSanity(model, inputs, pairs, components, { sweep: ignoring })).map(
      (f) => f.code,
    );
    expect(codes).toContain("patch-everything");
    // A batch that depends on its size: effects shift when several runs share a call.
    const mixing: typeof sweep = async (m, t, p, o) => {
      const r = await sweep(m, t, p, o);
      const shift = (o.batchRows ?? 256) > 1 ? 0.01 : 0;
      return {
        ...r,
        rows: r.rows.map((row) =>
          row.status === "not_applicable" ? row : { ...row, dLogitDiff: row.dLogitDiff + shift },
        ),
      };
    };
    const found = await patchSanity(model, inputs, pairs, components, { sweep: mixing });
    expect(found.map((f) => f.code)).toEqual(["patch-identity", "patch-batching"]);
    expect(found.every((f) => f.severity === "error")).toBe(true);
  });

  it("fires the identity check alone for a sweep that breaks only source = target pairs", async () => {
    const { model, inputs } = await referenceModel("JapaneseVowels");
    const components = presetComponents(model.config, "heads", "z").slice(0, 4);
    // Identity pairs share their batch with the real pairs; a fault in them alone must still show.
    const selfBroken: typeof sweep = async (m, t, p, o) => {
      const r = await sweep(m, t, p, o);
      return {
        ...r,
        rows: r.rows.map((row) =>
          row.status === "not_applicable" || row.pair.source !== row.pair.target
            ? row
            : { ...row, dLogitDiff: row.dLogitDiff + 0.01 },
        ),
      };
    };
    const found = await patchSanity(model, inputs, pairs, components, { sweep: selfBroken });
    expect(found.map((f) => f.code)).toEqual(["patch-identity"]);
    expect(found[0].detail.runs).toBe(pairs.length * (components.length + 1));
  });

  it("compiles no graph the sweep does not compile, but the layer-0 start of the whole-stream patch", async () => {
    const { model, inputs } = await referenceModel("JapaneseVowels");
    const components = presetComponents(model.config, "heads", "z");
    const fresh = () => new HookedTST(model.config, model.params, {}, new Runtime({ threads: 1 }));
    const alone = fresh();
    await sweep(alone, inputs, pairs.slice(0, 1), { components });
    const checked = fresh();
    await patchSanity(checked, inputs, pairs.slice(0, 1), components, { lengths: inputs.lengths });
    const afterChecks = checked.runtime.cachedSessions;
    await sweep(checked, inputs, pairs.slice(0, 1), { components });
    expect(checked.runtime.cachedSessions).toBe(afterChecks);
    expect(afterChecks).toBe(alone.runtime.cachedSessions + 1);
    await Promise.all([alone.runtime.release(), checked.runtime.release()]);
  });
});

/** A row's metrics with no effect: what a patch that never reaches the model reports. */
function zeroEffect(row: EffectRow) {
  return {
    dpTrue: 0,
    dLogitDiff: 0,
    recovery: row.recovery ?? 0,
    logitDiff: row.logitDiff ?? 0,
    klSource: row.klSource ?? 0,
  };
}
