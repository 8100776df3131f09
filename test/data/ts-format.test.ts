import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { valueIndex } from "../../src/data/dataset.js";
import { parseTs } from "../../src/data/ts-format.js";
import { BUNDLED_JV, countsOf, hasShared, sharedFile } from "./helpers.js";

const SMALL = [
  "# a comment",
  "#% another comment with \ufffd",
  "@ProblemName Tiny",
  "@TIMESTAMPS false",
  "@missing true",
  "@univariate false",
  "@dimensions 2",
  "@equalLength FALSE",
  "@classLabel true b a",
  "@DATA",
  "1,2,3:4,5,6:a",
  "",
  "# comment between cases",
  " -1.5e1 , 0.25:?,7 : b ",
  "",
].join("\n");

describe("parseTs: format features", () => {
  it("reads header keys in any case, comments, blank lines, unequal lengths and missing values", () => {
    const ds = parseTs(SMALL, { file: "tiny.ts" });
    expect(ds.name).toBe("Tiny");
    expect(ds.layout).toBe("cases×time×channels");
    expect(ds.cases).toBe(2);
    expect(ds.channels).toBe(2);
    expect(ds.maxLength).toBe(3);
    expect([...ds.lengths]).toEqual([3, 2]);
    expect(ds.labels).toEqual(["a", "b"]);
    expect(ds.declaredLabels).toEqual(["b", "a"]);
    // declared order kept for non-numeric labels
    expect(ds.classes).toEqual(["b", "a"]);
    expect([...ds.labelIndex]).toEqual([1, 0]);
    expect(ds.missing).toBe(1);
    expect([...ds.caseLines]).toEqual([11, 14]);
    expect(ds.header).toMatchObject({
      timeStamps: false,
      missing: true,
      univariate: false,
      dimensions: 2,
      equalLength: false,
      classLabel: true,
    });
    // time-major layout: ((i * maxLength) + t) * channels + c, padding 0
    expect(Array.from(ds.values)).toEqual([1, 4, 2, 5, 3, 6, -15, Number.NaN, 0.25, 7, 0, 0]);
    expect(ds.values[valueIndex(ds, 1, 1, 1)]).toBe(7);
  });

  it("gives the same result for CRLF line endings and a UTF-8 byte-order mark", () => {
    const lf = parseTs(SMALL);
    const crlf = parseTs(new TextEncoder().encode(`\ufeff${SMALL.replace(/\n/g, "\r\n")}`));
    expect(Array.from(crlf.values)).toEqual(Array.from(lf.values));
    expect(crlf.labels).toEqual(lf.labels);
    expect(crlf.name).toBe("Tiny");
  });

  it("decodes the header and the data section separately, with non-ASCII text in either", () => {
    const bytes = (text: string) => new TextEncoder().encode(text);
    const labelled = parseTs(
      bytes("# Übersicht \ufffd\n@classLabel true café naïve\n@data\n1,2:café\n3:naïve\n"),
    );
    expect(labelled.labels).toEqual(["café", "naïve"]);
    expect([...labelled.caseLines]).toEqual([4, 5]);
    // a form feed before @data hides it from the quick byte-level split; the parser still finds it
    const hidden = parseTs(bytes("@classLabel true a\n\f@data\n1,2:a\n"));
    expect(Array.from(hidden.values)).toEqual([1, 2]);
    expect([...hidden.caseLines]).toEqual([3]);
  });

  it("reads (timestamp,value) tuples, @targetLabel and @classLabel false", () => {
    const stamped = parseTs(
      "@problemName s\n@timeStamps true\n@univariate true\n@classLabel true x y\n@data\n(0,1.5),(1,2.5),(2,-3):y\n(2007-01-01 00:00:00,4),(2007-01-02 00:00:00,5):x\n",
    );
    expect(stamped.channels).toBe(1);
    expect([...stamped.lengths]).toEqual([3, 2]);
    expect(Array.from(stamped.values)).toEqual([1.5, 2.5, -3, 4, 5, 0]);
    expect(stamped.labels).toEqual(["y", "x"]);

    const regression = parseTs("@problemName r\n@dimensions 1\n@targetLabel true\n@data\n1,2:0.5\n3,4:-2\n");
    expect(Array.from(regression.targets!)).toEqual([0.5, -2]);
    expect([...regression.labelIndex]).toEqual([-1, -1]);

    const unlabelled = parseTs("@problemName u\n@classLabel false\n@data\n1,2:3,4\n5,6:7,8\n");
    expect(unlabelled.channels).toBe(2);
    expect(unlabelled.labels).toEqual(["", ""]);
    expect(Array.from(unlabelled.values)).toEqual([1, 3, 2, 4, 5, 7, 6, 8]);
  });

  it("parses numbers exactly like Number() (then float32)", () => {
    const tokens = [
      "0",
      "-0.0",
      "1e-7",
      "123456789012345678",
      "3.4028235e38",
      "-2.5E+3",
      ".5",
      "5.",
      "0.1",
      "1.00000001",
    ];
    const ds = parseTs(`@classLabel true a\n@data\n${tokens.join(",")}:a\n`);
    expect(Array.from(ds.values)).toEqual(tokens.map((t) => Math.fround(Number(t))));
  });

  it("sorts numeric labels numerically and can use the int label map", () => {
    const text = "@classLabel true 95 6 15\n@data\n1:15\n2:95\n3:6\n";
    expect(parseTs(text).classes).toEqual(["6", "15", "95"]);
    const int = parseTs(text, { labelMap: "int" });
    expect(int.labelMap).toEqual({ kind: "int", classes: ["6", "15", "95"], outputs: 96 });
    expect([...int.labelIndex]).toEqual([15, 95, 6]);
  });
});

describe("parseTs: the UEA files", () => {
  it("JapaneseVowels TRAIN/TEST: 12 channels, unequal lengths 7..26 and 7..29, 9 classes", () => {
    const expected = {
      TRAIN: { cases: 270, min: 7, max: 26, counts: "1:30 2:30 3:30 4:30 5:30 6:30 7:30 8:30 9:30" },
      TEST: { cases: 370, min: 7, max: 29, counts: "1:31 2:35 3:88 4:44 5:29 6:24 7:40 8:50 9:29" },
    };
    for (const split of ["TRAIN", "TEST"] as const) {
      const file = join(BUNDLED_JV, `JapaneseVowels_${split}.ts`);
      const ds = parseTs(readFileSync(file), { file });
      expect(ds.cases).toBe(expected[split].cases);
      expect(ds.channels).toBe(12);
      expect(Math.min(...ds.lengths)).toBe(expected[split].min);
      expect(Math.max(...ds.lengths)).toBe(expected[split].max);
      expect(countsOf(ds.labels, ds.classes)).toBe(expected[split].counts);
      expect(ds.missing).toBe(0);
    }
  });

  it("JapaneseVowels first value and a padded step", () => {
    const ds = parseTs(readFileSync(join(BUNDLED_JV, "JapaneseVowels_TRAIN.ts")));
    expect(ds.values[valueIndex(ds, 0, 0, 0)]).toBe(Math.fround(1.860936));
    expect(ds.values[valueIndex(ds, 0, 0, 1)]).toBe(Math.fround(-0.207383));
    const short = ds.lengths.indexOf(7);
    expect(ds.values[valueIndex(ds, short, 7, 0)]).toBe(0);
  });

  it("JapaneseVowels _eq_: 25 steps everywhere, same labels as the unequal files", () => {
    for (const split of ["TRAIN", "TEST"]) {
      const eq = parseTs(readFileSync(join(BUNDLED_JV, `JapaneseVowels_eq_${split}.ts`)));
      const raw = parseTs(readFileSync(join(BUNDLED_JV, `JapaneseVowels_${split}.ts`)));
      expect(eq.maxLength).toBe(25);
      expect(new Set(eq.lengths)).toEqual(new Set([25]));
      expect(eq.channels).toBe(12);
      expect(eq.labels).toEqual(raw.labels);
    }
  });

  it.skipIf(!hasShared("PenDigits"))("PenDigits: 2 channels, length 8, the README's class counts", () => {
    const train = parseTs(readFileSync(sharedFile("PenDigits", "TRAIN")));
    const test = parseTs(readFileSync(sharedFile("PenDigits", "TEST")));
    expect([train.cases, train.channels, train.maxLength]).toEqual([7494, 2, 8]);
    expect([test.cases, test.channels, test.maxLength]).toEqual([3498, 2, 8]);
    expect(countsOf(train.labels, train.classes)).toBe(
      "0:780 1:779 2:780 3:719 4:780 5:720 6:720 7:778 8:719 9:719",
    );
    expect(countsOf(test.labels, test.classes)).toBe(
      "0:363 1:364 2:364 3:336 4:364 5:335 6:336 7:364 8:336 9:336",
    );
    expect(train.values[0]).toBe(47);
  });

  it.skipIf(!hasShared("LSST"))(
    "LSST: 6 channels, length 36, 14 classes sorted numerically, the README's counts",
    () => {
      const train = parseTs(readFileSync(sharedFile("LSST", "TRAIN")));
      const test = parseTs(readFileSync(sharedFile("LSST", "TEST")));
      expect([train.cases, train.channels, train.maxLength]).toEqual([2459, 6, 36]);
      expect([test.cases, test.channels, test.maxLength]).toEqual([2466, 6, 36]);
      expect(train.classes).toEqual([
        "6",
        "15",
        "16",
        "42",
        "52",
        "53",
        "62",
        "64",
        "65",
        "67",
        "88",
        "90",
        "92",
        "95",
      ]);
      expect(countsOf(train.labels, train.classes)).toBe(
        "6:34 15:123 16:270 42:381 52:62 53:7 62:153 64:23 65:313 67:68 88:120 90:777 92:77 95:51",
      );
      expect(countsOf(test.labels, test.classes)).toBe(
        "6:35 15:124 16:270 42:382 52:63 53:7 62:153 64:24 65:313 67:68 88:121 90:777 92:77 95:52",
      );
      // README: values cover train -40036 .. 64062, test -239080 .. 611360 (rounded)
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (const v of test.values) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      expect(Math.round(lo)).toBe(-239080);
      expect(Math.round(hi)).toBe(611360);
    },
  );
});
