import { describe, expect, it } from "vitest";
import { EFFECTS_LONG_COLUMNS, parseEffectsLong } from "../../src/patching/effects-long.js";

const FULL = EFFECTS_LONG_COLUMNS.join(",");
const fullRow = (pairId: string, dp: string) =>
  [
    pairId,
    3,
    7,
    "a",
    "denoise",
    "head",
    0,
    1,
    "",
    "",
    "z",
    dp,
    "",
    "0.5",
    "",
    "0.1",
    "overlap",
    10,
    9,
    0.9,
    "ok",
  ].join(",");
// Only the required columns, in another order, with one the reader does not know.
const MINIMAL =
  "component,pair_id,source,target,true_label,direction,layer,head,note,kl_source,d_logit_diff,logit_diff,recovery,dp_true";

describe("the one reader of the sweep's long effects table", () => {
  it("reads the sweep's table in both modes the same, numbers exactly", () => {
    const text = `${FULL}\n${fullRow("0", "0.30000000000000004")}\n`;
    const all = parseEffectsLong(text, "e.csv");
    expect(parseEffectsLong(text, "e.csv", { columns: "required" })).toEqual(all);
    expect(all[0]).toMatchObject({
      pairId: 0,
      source: 3,
      target: 7,
      layer: 0,
      head: 1,
      position: null,
      headMode: "z",
    });
    expect(all[0].metrics).toEqual({
      dp_true: 0.30000000000000004,
      recovery: null,
      logit_diff: 0.5,
      d_logit_diff: null,
      kl_source: 0.1,
    });
    expect(all[0]).toMatchObject({ align: "overlap", overlap: 0.9, status: "ok" });
  });

  it("accepts a table with only the required columns when asked to, and only then", () => {
    const text = `${MINIMAL}\nhead, 4,1,2,b,noise,1,0,free text,,,,,-0.25\n`;
    expect(() => parseEffectsLong(text, "m.csv")).toThrow(/^m\.csv, line 1: not a long-format effects table/);
    const [line] = parseEffectsLong(text, "m.csv", { columns: "required" });
    expect(line).toMatchObject({
      pairId: 4,
      direction: "noise",
      layer: 1,
      head: 0,
      position: null,
      detail: "",
      status: "",
    });
    expect(line.metrics.dp_true).toBe(-0.25);
    expect(() => parseEffectsLong(MINIMAL.replace(",dp_true", ""), "m.csv", { columns: "required" })).toThrow(
      /^m\.csv, line 1: the long effects table has no column "dp_true"/,
    );
  });

  it("names the file, the line and the column of a bad cell", () => {
    const bad = (row: string, columns?: "all" | "required") => () =>
      parseEffectsLong(`${FULL}\n${fullRow("0", "0.1")}\n${row}\n`, "e.csv", { columns });
    expect(bad(fullRow("1.5", "0.1"))).toThrow(/^e\.csv, line 3: "1\.5" is not a row index \(pair_id\)/);
    expect(bad(fullRow("1", "inf"), "required")).toThrow(
      /^e\.csv, line 3: "inf" is not a finite number \(dp_true\)/,
    );
    expect(bad(fullRow("1", "0.1").replace(",ok", ""))).toThrow(
      /^e\.csv, line 3: row has 20 cells but the header has 21/,
    );
  });
});
