import { describe, expect, it } from "vitest";
import { shortestFloat32, summarizeDataset } from "../../src/data/summary.js";
import { parseTs } from "../../src/data/ts-format.js";

describe("summarizeDataset", () => {
  it("counts, lengths, classes in label-map order, missing, value ranges over real steps", () => {
    const ds = parseTs(
      "@problemName S\n@classLabel true 10 2 7\n@data\n0.1,?,-3:?,?,?:10\n5:4:2\n1,2:8,9:10\n",
      { file: "s.ts" },
    );
    expect(summarizeDataset(ds)).toEqual({
      name: "S",
      file: "s.ts",
      format: "ts",
      cases: 3,
      channels: 2,
      length: { min: 1, max: 3 },
      // numeric labels sorted numerically; a declared class with no case has count 0
      classes: [
        { label: "2", count: 1 },
        { label: "7", count: 0 },
        { label: "10", count: 2 },
      ],
      missing: 4,
      // padding (0) and missing values are not part of the range
      valueRange: [
        { min: -3, max: 5 },
        { min: 4, max: 9 },
      ],
    });
  });

  it("a channel with no values has range null (never NaN or Infinity in JSON)", () => {
    const ds = parseTs("@classLabel true a\n@data\n1,2:?,?:a\n");
    expect(summarizeDataset(ds).valueRange).toEqual([{ min: 1, max: 2 }, null]);
  });

  it("prints float32 values by their shortest decimal", () => {
    expect(shortestFloat32(Math.fround(1.860936))).toBe(1.860936);
    expect(shortestFloat32(Math.fround(-239080.3))).toBe(-239080.3);
    expect(shortestFloat32(0)).toBe(0);
  });
});
