import { describe, expect, it } from "vitest";
import {
  buildLabelMap,
  encodeLabels,
  indexToLabel,
  labelToIndex,
  parseLabelMap,
} from "../../src/data/labels.js";
import { InputError } from "../../src/errors.js";

const LSST = ["6", "15", "16", "42", "52", "53", "62", "64", "65", "67", "88", "90", "92", "95"];

describe("label maps", () => {
  it("dense: numeric labels sorted numerically, not as strings", () => {
    const map = buildLabelMap(["95", "6", "15", "6"], { declared: [...LSST].reverse() });
    expect(map).toEqual({ kind: "dense", classes: LSST, outputs: 14 });
    expect(labelToIndex(map, "6")).toBe(0);
    expect(labelToIndex(map, "95")).toBe(13);
    expect(indexToLabel(map, 2)).toBe("16");
  });

  it("dense: declared order for non-numeric labels, then first appearance", () => {
    expect(buildLabelMap(["walk", "run"], { declared: ["stand", "walk", "run"] }).classes).toEqual([
      "stand",
      "walk",
      "run",
    ]);
    expect(buildLabelMap(["z", "a", "z", "m"]).classes).toEqual(["z", "a", "m"]);
  });

  it("int: index = int(label), outputs = max + 1 (the reference checkpoints' map)", () => {
    const jv = buildLabelMap(["1", "2", "9"], { kind: "int" });
    expect(jv.outputs).toBe(10);
    expect(labelToIndex(jv, "1")).toBe(1);
    expect(indexToLabel(jv, 0)).toBeUndefined();
    const lsst = buildLabelMap(LSST, { kind: "int" });
    expect(lsst.outputs).toBe(96);
    expect([...encodeLabels(lsst, ["6", "95", "42"])]).toEqual([6, 95, 42]);
    expect(indexToLabel(lsst, 42)).toBe("42");
    expect(() => buildLabelMap(["a", "b"], { kind: "int" })).toThrow(InputError);
    expect(() => buildLabelMap(["1.5"], { kind: "int" })).toThrow(/non-negative integer/);
  });

  it("unknown labels are InputErrors", () => {
    const map = buildLabelMap(["a", "b"]);
    expect(() => labelToIndex(map, "c")).toThrow(InputError);
    expect(() => encodeLabels(buildLabelMap(["1"], { kind: "int" }), ["2"])).toThrow(/not in the label map/);
  });

  it("round-trips through JSON", () => {
    const map = buildLabelMap(LSST, { kind: "int" });
    expect(parseLabelMap(JSON.parse(JSON.stringify(map)))).toEqual(map);
    expect(() => parseLabelMap({ kind: "sparse", classes: [], outputs: 0 }, "m.json")).toThrow(/m\.json/);
  });
});
