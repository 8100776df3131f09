import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { datasetFromValues } from "../../src/data/build-dataset.js";
import { valueIndex } from "../../src/data/dataset.js";
import {
  applyNormalization,
  applyPreprocess,
  fitNormalization,
  fitPreprocess,
  handleMissing,
  padDataset,
  paddingMask,
  resampleDataset,
} from "../../src/data/preprocess.js";
import { parseTs } from "../../src/data/ts-format.js";
import { InputError } from "../../src/errors.js";
import { BUNDLED_JV, ROOT } from "./helpers.js";

// Independent numbers from numpy: scripts/fixtures/data_fixtures.py
const fixture = JSON.parse(
  readFileSync(join(ROOT, "test/fixtures/data/japanese_vowels_preprocess.json"), "utf8"),
);
const train = parseTs(readFileSync(join(BUNDLED_JV, "JapaneseVowels_TRAIN.ts")), { file: "JV_TRAIN.ts" });
const test = parseTs(readFileSync(join(BUNDLED_JV, "JapaneseVowels_TEST.ts")), { file: "JV_TEST.ts" });

function close(actual: number[], expected: number[], rel: number) {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, k) => {
    expect(Math.abs(a - expected[k])).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(expected[k])));
  });
}

describe("normalisation against numpy", () => {
  it("z-score mean and population std over real (unpadded) steps of TRAIN", () => {
    expect([...train.lengths]).toEqual(fixture.train.lengths);
    const spec = fitNormalization(train, "zscore");
    close(spec.shift, fixture.train.zscore.mean, 1e-12);
    close(spec.scale, fixture.train.zscore.std, 1e-12);
    expect(spec.constantChannels).toEqual([]);
  });

  it("min-max", () => {
    const spec = fitNormalization(train, "minmax");
    close(spec.shift, fixture.train.minmax.min, 0);
    close(
      spec.scale,
      fixture.train.minmax.max.map((hi: number, c: number) => hi - fixture.train.minmax.min[c]),
      1e-12,
    );
  });

  it("applies TRAIN statistics to TEST; padding stays 0 and the mask marks real steps", () => {
    const spec = fitPreprocess(train);
    expect(spec.padLength).toBe(26);
    const prepared = applyPreprocess(test, spec);
    const ds = prepared.dataset;
    expect(ds.maxLength).toBe(29); // TEST has longer cases: padded further, never truncated
    const expected: number[][] = fixture.test.case0_zscored;
    const got: number[][] = [];
    for (let t = 0; t < test.lengths[0]; t++) {
      got.push(Array.from({ length: 12 }, (_, c) => ds.values[valueIndex(ds, 0, t, c)]));
    }
    close(got.flat(), expected.flat(), 1e-6);
    expect(ds.values[valueIndex(ds, 0, test.lengths[0], 0)]).toBe(0);
    expect(prepared.mask.length).toBe(test.cases * 29);
    const row = prepared.mask.subarray(0, 29);
    expect(row.reduce((a, b) => a + b, 0)).toBe(test.lengths[0]);
    // the spec is plain JSON and gives the same result after a round trip
    const again = applyPreprocess(test, JSON.parse(JSON.stringify(spec)));
    expect(Buffer.from(again.dataset.values.buffer).equals(Buffer.from(ds.values.buffer))).toBe(true);
  });

  it("a constant channel gets scale 1 (no NaN) and is recorded", () => {
    const ds = parseTs("@classLabel true a\n@data\n1,2,3:5,5,5:a\n4:5:a\n");
    for (const method of ["zscore", "minmax"] as const) {
      const spec = fitNormalization(ds, method);
      expect(spec.constantChannels).toEqual([1]);
      expect(spec.scale[1]).toBe(1);
      const out = applyNormalization(ds, spec);
      expect(out.values.every((v) => Number.isFinite(v))).toBe(true);
    }
    expect(fitNormalization(ds, "none")).toEqual({
      method: "none",
      shift: [0, 0],
      scale: [1, 1],
      constantChannels: [],
    });
  });
});

describe("lengths and missing values", () => {
  it("resamples by linear interpolation (np.interp)", () => {
    const out = resampleDataset(train, 25);
    expect(out.maxLength).toBe(25);
    const got: number[] = [];
    for (let t = 0; t < 25; t++) for (let c = 0; c < 12; c++) got.push(out.values[valueIndex(out, 0, t, c)]);
    close(got, (fixture.train.case0_resampled_25 as number[][]).flat(), 1e-6);
    expect(() => resampleDataset(train, 0)).toThrow(InputError);
  });

  it("pads with a mask and never truncates", () => {
    const padded = padDataset(train, 30);
    expect(padded.maxLength).toBe(30);
    expect(padded.values[valueIndex(padded, 0, 0, 0)]).toBe(train.values[0]);
    const mask = paddingMask(padded);
    expect(mask[train.lengths[0] - 1]).toBe(1);
    expect(mask[train.lengths[0]]).toBe(0);
    expect(() => padDataset(train, 10)).toThrow(/never truncates/);
  });

  it("missing values: an InputError naming file, case, channel by default", () => {
    const ds = parseTs("@classLabel true a\n@data\n1,2:3,4:a\n1,2,3:4,?,6:a\n", { file: "gaps.ts" });
    expect(() => fitPreprocess(ds)).toThrow(
      /gaps\.ts: missing value in case 2 \(line 4\), channel 2, step 2/,
    );
  });

  it("missing values: linear interpolation on request, matching np.interp", () => {
    const input: (number | null)[] = fixture.interpolate.input;
    const text = `@classLabel true a\n@data\n${input.map((v) => (v === null ? "?" : v)).join(",")}:a\n`;
    const filled = handleMissing(parseTs(text), "interpolate");
    expect(Array.from(filled.values)).toEqual(fixture.interpolate.filled);
    expect(filled.missing).toBe(0);
    const allMissing = parseTs("@classLabel true a\n@data\n?,?:1,2:a\n");
    expect(() => handleMissing(allMissing, "interpolate")).toThrow(/every value is missing/);
  });
});

describe("datasetFromValues (raw model input)", () => {
  it("re-applies a saved spec to a raw B×S×C array exactly as to the parsed TEST set", () => {
    const spec = fitPreprocess(train);
    const eqTest = parseTs(readFileSync(join(BUNDLED_JV, "JapaneseVowels_eq_TEST.ts")));
    const raw = datasetFromValues(eqTest.values.slice(0, 2 * 25 * 12), {
      cases: 2,
      maxLength: 25,
      channels: 12,
    });
    const fromRaw = applyPreprocess(raw, spec).dataset.values;
    const fromFile = applyPreprocess(eqTest, spec).dataset.values.subarray(0, 2 * 26 * 12);
    // both are padded to the spec's padLength (TRAIN's longest case, 26)
    expect(fromRaw.length).toBe(2 * 26 * 12);
    expect(Buffer.from(fromRaw.buffer).equals(Buffer.from(fromFile.slice().buffer))).toBe(true);
    expect(() => datasetFromValues(new Float32Array(5), { cases: 1, maxLength: 2, channels: 2 })).toThrow(
      /expected cases × time × channels/,
    );
  });
});
