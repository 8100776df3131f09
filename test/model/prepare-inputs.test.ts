import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseTs } from "../../src/data/ts-format.js";
import { InputError } from "../../src/errors.js";
import { makeConfig } from "../../src/model/config.js";
import { HookedTST } from "../../src/model/hooked-tst.js";
import { resolveLabelMap } from "../../src/model/label-map-rule.js";
import { loadModel, saveModel } from "../../src/model/model-dir.js";
import { prepareInputs } from "../../src/model/prepare-inputs.js";
import { modelInputs } from "../../src/patching/inputs.js";
import { Runtime } from "../../src/runtime/session.js";
import { evaluate } from "../../src/train/evaluate.js";

const tmp = mkdtempSync(join(tmpdir(), "tspatch-seam-"));
const runtime = new Runtime({ threads: 1 });
afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await runtime.release();
});

/** A labelled .ts text: one channel, the given lengths and labels. */
function tsText(labels: readonly string[], lengths: readonly number[], declared?: readonly string[]): string {
  const head = ["@problemName Seam", "@univariate true", "@equalLength false"];
  head.push(`@classLabel true ${(declared ?? [...new Set(labels)]).join(" ")}`, "@data");
  const rows = labels.map((y, i) => `${Array.from({ length: lengths[i] }, (_, t) => t + i).join(",")}:${y}`);
  return `${[...head, ...rows].join("\n")}\n`;
}

function dataset(labels: readonly string[], lengths = labels.map(() => 4)) {
  return parseTs(new TextEncoder().encode(tsText(labels, lengths)), { file: "seam.ts" });
}

const small = {
  dModel: 16,
  heads: 2,
  layers: 1,
  ff: 16,
  convChannels: [8, 8, 16] as [number, number, number],
};

function model(classes: number, seqLen = 6): HookedTST {
  return HookedTST.fromConfig(makeConfig({ ...small, channels: 1, seqLen, classes }), 0, {}, runtime);
}

describe("the label-map rule (resolveLabelMap)", () => {
  // Labels 1 and 2, a 5-output model: the old rules disagreed. import-pth (dense first) gave
  // int(label) (1 → 1), the patching inputs (int first, exact) gave dense padded to 5 (1 → 0),
  // and evaluation (dense only) refused. Every path now gives int(label).
  const labels = ["1", "2", "2", "1"];

  it("labels 1,2 and 5 outputs: int(label) with a note, through every path", async () => {
    const ds = dataset(labels);
    const rule = resolveLabelMap(5, ds);
    expect(rule.labelMap).toEqual({ kind: "int", classes: ["1", "2"], outputs: 5 });
    expect(rule.note).toMatch(
      /^label map: 5 outputs in the checkpoint, 2 classes in seam\.ts: using class index = int\(label\)/,
    );
    const m = model(5);
    const prepared = prepareInputs(m, ds);
    expect(Array.from(prepared.labelIndex)).toEqual([1, 2, 2, 1]);
    expect(prepared.notes).toEqual([rule.note]);
    expect(Array.from(modelInputs(m, ds).trueClass)).toEqual([1, 2, 2, 1]);
    const evaluated = await evaluate(m, ds);
    expect(Array.from(evaluated.targets)).toEqual([1, 2, 2, 1]);
    expect(evaluated.labelMap.kind).toBe("int");
  });

  it("outputs = classes: dense, even for integer labels int(label) would also fit", () => {
    expect(resolveLabelMap(3, dataset(["0", "2", "1"])).labelMap).toEqual({
      kind: "dense",
      classes: ["0", "1", "2"],
      outputs: 3,
    });
    const shifted = resolveLabelMap(3, dataset(["1", "2", "3"]));
    expect(shifted.labelMap?.kind).toBe("dense");
    expect(shifted.note).toBeNull();
  });

  it("neither fits: exit-2 error asking for --label-map (the old patching rule padded a dense map)", () => {
    const words = dataset(["a", "b", "a"]);
    expect(() => resolveLabelMap(3, words)).toThrow(InputError);
    expect(() => resolveLabelMap(3, words)).toThrow(/--label-map dense/);
    expect(() => resolveLabelMap(2, dataset(["0", "5", "1"]))).toThrow(
      /cannot tell which output is which class: .*the largest label, 5, is past the last output \(1\)/,
    );
    expect(() => prepareInputs(model(3), words)).toThrow(/--label-map/);
  });

  it("an explicit kind is checked: dense may leave outputs without a label, int must fit", () => {
    expect(resolveLabelMap(3, dataset(["a", "b"]), { kind: "dense" }).labelMap).toEqual({
      kind: "dense",
      classes: ["a", "b"],
      outputs: 3,
    });
    expect(() => resolveLabelMap(1, dataset(["a", "b"]), { kind: "dense" })).toThrow(/does not fit/);
    expect(() => resolveLabelMap(3, dataset(["1", "7"]), { kind: "int" })).toThrow(
      /label map "int" does not fit: .*the largest label, 7/,
    );
    expect(resolveLabelMap(3, undefined)).toEqual({ labelMap: null, note: null });
    expect(() => resolveLabelMap(3, undefined, { kind: "int" })).toThrow(/needs the labels/);
  });

  it("a model directory keeps its label map: the data cannot change it", () => {
    const m = model(5);
    m.labelMap = { kind: "dense", classes: ["1", "2"], outputs: 5 };
    const dir = join(tmp, "dense");
    saveModel(m, dir);
    const { model: loaded } = loadModel(dir, { runtime });
    const prepared = prepareInputs(loaded, dataset(labels));
    expect(Array.from(prepared.labelIndex)).toEqual([0, 1, 1, 0]);
    expect(prepared.notes).toEqual([]);
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    expect(config.labelMap).toEqual({ kind: "dense", classes: ["1", "2"], outputs: 5 });
  });
});

describe("prepareInputs", () => {
  it("pads to the model's length with a mask, keeps the real lengths and says what it did", () => {
    const ds = dataset(["a", "b", "a"], [2, 6, 4]);
    const m = model(2);
    const p = prepareInputs(m, ds);
    expect(p.rows).toBe(3);
    expect(Array.from(p.lengths)).toEqual([2, 6, 4]);
    expect(Array.from(p.mask ?? [])).toEqual([1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
    expect(Array.from(p.x.subarray(0, 6))).toEqual([0, 1, 0, 0, 0, 0]);
    expect(p.preprocessing).toEqual({
      missing: "error",
      resampleLength: null,
      padLength: 6,
      normalize: null,
    });
    expect(Array.from(p.labelIndex)).toEqual([0, 1, 0]);
    const resampled = prepareInputs(m, ds, { resample: 5 });
    expect(Array.from(resampled.lengths)).toEqual([5, 5, 5]);
    expect(resampled.preprocessing.resampleLength).toBe(5);
  });

  it("a label the model does not know names the file and line", () => {
    const m = model(2);
    m.labelMap = { kind: "dense", classes: ["a", "b"], outputs: 2 };
    const file = join(tmp, "odd.ts");
    writeFileSync(file, tsText(["a", "c"], [3, 3]));
    const ds = parseTs(readFileSync(file), { file });
    expect(() => prepareInputs(m, ds)).toThrow(/odd\.ts, line 7: label "c" is not in the label map \(a, b\)/);
  });

  it("unlabelled data and a model without a label map: class indices only", () => {
    const text =
      "@problemName U\n@univariate true\n@equalLength true\n@classLabel false\n@data\n1,2,3\n4,5,6\n";
    const ds = parseTs(new TextEncoder().encode(text), { file: "u.ts" });
    const p = prepareInputs(model(3), ds);
    expect(p.labelMap).toBeNull();
    expect(Array.from(p.labelIndex)).toEqual([-1, -1]);
  });
});
