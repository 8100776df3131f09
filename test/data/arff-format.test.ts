import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseArff } from "../../src/data/arff-format.js";
import { parseTs } from "../../src/data/ts-format.js";
import { InputError } from "../../src/errors.js";
import { BUNDLED_JV } from "./helpers.js";

// The UEA multivariate layout: a relational attribute whose nested attributes
// are the time points; each case is 'channel\nchannel',label.
const RELATIONAL = [
  "% UEA style",
  "@Relation 'Toy Motions'",
  "",
  "@attribute relationalAtt relational",
  "  @attribute t1 numeric",
  "  @attribute t2 NUMERIC",
  "  @attribute t3 numeric",
  "@end relationalAtt",
  "@attribute classAttribute {walk,'run'}",
  "",
  "@DATA",
  "'1,2,3\\n4,5,6',walk",
  '"-1.5,?,2e1\\n0,0,0",run',
  "'7,8,?\\n9,10,?',run",
  "",
].join("\r\n");

describe("parseArff", () => {
  it("reads relational multivariate cases, trims the trailing '?' padding of unequal cases", () => {
    const ds = parseArff(RELATIONAL, { file: "toy.arff" });
    expect(ds.name).toBe("Toy Motions");
    expect(ds.format).toBe("arff");
    expect([ds.cases, ds.channels, ds.maxLength]).toEqual([3, 2, 3]);
    expect([...ds.lengths]).toEqual([3, 3, 2]);
    expect(ds.labels).toEqual(["walk", "run", "run"]);
    expect(ds.declaredLabels).toEqual(["walk", "run"]);
    expect([...ds.labelIndex]).toEqual([0, 1, 1]);
    expect(ds.missing).toBe(1);
    expect(Array.from(ds.values.subarray(0, 6))).toEqual([1, 4, 2, 5, 3, 6]);
    expect(Array.from(ds.values.subarray(6, 12))).toEqual([-1.5, 0, Number.NaN, 0, 20, 0]);
    expect(Array.from(ds.values.subarray(12))).toEqual([7, 9, 8, 10, 0, 0]);
    expect([...ds.caseLines]).toEqual([12, 13, 14]);
  });

  it("accepts real newlines inside the quoted relational value", () => {
    const ds = parseArff(RELATIONAL.replace("'1,2,3\\n4,5,6',walk", "'1,2,3\n4,5,6',walk"));
    expect(Array.from(ds.values.subarray(0, 6))).toEqual([1, 4, 2, 5, 3, 6]);
    expect(ds.caseLines[1]).toBe(14);
  });

  it("reads the flat univariate form", () => {
    const ds = parseArff(
      "@relation u\n@attribute a real\n@attribute b real\n@attribute c {1,2}\n@data\n1,2,1\n3,4,2\n",
    );
    expect([ds.cases, ds.channels, ds.maxLength]).toEqual([2, 1, 2]);
    expect(Array.from(ds.values)).toEqual([1, 2, 3, 4]);
  });

  it("gives the same dataset as the .ts file for JapaneseVowels converted to arff", () => {
    const ts = parseTs(readFileSync(join(BUNDLED_JV, "JapaneseVowels_TRAIN.ts")));
    const width = ts.maxLength;
    const lines = ["@relation JapaneseVowels", "@attribute relationalAtt relational"];
    for (let t = 1; t <= width; t++) lines.push(`@attribute att${t} numeric`);
    lines.push("@end relationalAtt", "@attribute classAttribute {1,2,3,4,5,6,7,8,9}", "@data");
    for (let i = 0; i < ts.cases; i++) {
      const rows: string[] = [];
      for (let c = 0; c < ts.channels; c++) {
        const row: string[] = [];
        for (let t = 0; t < width; t++) {
          row.push(t < ts.lengths[i] ? String(ts.values[(i * width + t) * ts.channels + c]) : "?");
        }
        rows.push(row.join(","));
      }
      lines.push(`'${rows.join("\\n")}',${ts.labels[i]}`);
    }
    const arff = parseArff(lines.join("\n"));
    expect(arff.lengths).toEqual(ts.lengths);
    expect(arff.labels).toEqual(ts.labels);
    expect(Buffer.from(arff.values.buffer).equals(Buffer.from(ts.values.buffer))).toBe(true);
  });

  it.each([
    ["no @data", "@relation x\n@attribute a numeric\n@attribute c {a}\n", /no @data line/],
    [
      "label not declared",
      RELATIONAL.replace("',walk", "',jump"),
      /line 12: label "jump" is not one of the class values/,
    ],
    [
      "non-numeric value",
      RELATIONAL.replace("4,5,6", "4,x5,6"),
      /line 12: channel 2, value 2: "x5" is not a number/,
    ],
    [
      "wrong number of steps",
      RELATIONAL.replace("4,5,6", "4,5"),
      /line 12: channel 2 has 2 values, the header declares 3/,
    ],
    [
      "channel count",
      RELATIONAL.replace("'7,8,?\\n9,10,?'", "'7,8,?'"),
      /line 14: the case has 1 channels, expected 2/,
    ],
    [
      "unclosed quote",
      RELATIONAL.replace("'7,8,?\\n9,10,?',run", "'7,8,?\\n9,1"),
      /quoted value is not closed/,
    ],
    ["no @end", RELATIONAL.replace("@end relationalAtt", ""), /must be numeric|no @end/],
    ["sparse", "@relation x\n@attribute a numeric\n@attribute c {a}\n@data\n{0 1, 1 a}\n", /sparse rows/],
  ])("%s → InputError naming the file and line", (_what, text, pattern) => {
    const error = (() => {
      try {
        parseArff(text, { file: "bad.arff" });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(/^bad\.arff/);
    expect((error as Error).message).toMatch(pattern);
  });
});
