import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { memoryIO } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/main.js";
import { parseTs } from "../../src/data/ts-format.js";
import { InputError } from "../../src/errors.js";
import { tempDir } from "./helpers.js";

const HEADER =
  "@problemName Bad\n@dimensions 2\n@equalLength true\n@seriesLength 3\n@classLabel true a b\n@data\n";
const GOOD = `${HEADER}1,2,3:4,5,6:a\n7,8,9:1,2,3:b\n`;

// [what, file contents, expected message (after "bad.ts: ")]
const CASES: [string, string | Uint8Array, RegExp][] = [
  [
    "missing @data",
    GOOD.replace("@data\n", ""),
    /^bad\.ts, line 6: found "1,2,3:4,5,6:a" before the @data line/,
  ],
  ["header only, no @data", "@problemName x\n@classLabel true a\n", /^bad\.ts: no @data line/],
  ["no cases", HEADER, /^bad\.ts, line 6: no cases after @data/],
  [
    "a case with fewer channels",
    GOOD.replace("7,8,9:1,2,3:b", "7,8,9:b"),
    /^bad\.ts, line 8: the case has 1 channel, expected 2 \(@dimensions\)/,
  ],
  [
    "a case with more channels",
    GOOD.replace("7,8,9:1,2,3:b", "7,8,9:1,2,3:4,5,6:b"),
    /^bad\.ts, line 8: the case has more than 2 channels/,
  ],
  [
    "channels of different length",
    GOOD.replace("7,8,9:1,2,3:b", "7,8,9:1,2:b"),
    /^bad\.ts, line 8: channel 2 has 2 values but channel 1 has 3/,
  ],
  ["a non-numeric value", GOOD.replace("7,8,9", "7,eight,9"), /^bad\.ts, line 8: "eight" is not a number/],
  [
    "a number with junk",
    GOOD.replace("7,8,9", "7,8x,9"),
    /^bad\.ts, line 8: channel 1, value 2: "8x" is not a number/,
  ],
  [
    "a label not in @classLabel",
    GOOD.replace(":b\n", ":c\n"),
    /^bad\.ts, line 8: label "c" is not one of the @classLabel labels \(a b\)/,
  ],
  ["an empty file", "", /^bad\.ts: the file is empty/],
  ["only whitespace", " \n\n", /^bad\.ts: the file is empty/],
  [
    "a truncated last line",
    GOOD.slice(0, GOOD.length - 8),
    /^bad\.ts, line 8: .*\n {2}fix: the last line has no line ending: the file looks truncated/,
  ],
  [
    "a binary file",
    Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x14, 0xff]),
    /^bad\.ts: this is not a text file: it contains a NUL byte at offset 4/,
  ],
  [
    "invalid UTF-8",
    Uint8Array.from([0x40, 0x64, 0xc3, 0x28, 0x0a]),
    /^bad\.ts: this is not a text file: it contains bytes that are not valid UTF-8/,
  ],
  [
    "an unknown header key",
    GOOD.replace("@dimensions 2", "@dimensionz 2"),
    /^bad\.ts, line 2: unknown header keyword "@dimensionz"/,
  ],
  [
    "a bad boolean",
    GOOD.replace("@equalLength true", "@equalLength yes"),
    /^bad\.ts, line 3: @equalLength must be true or false, found "yes"/,
  ],
  [
    "a wrong series length",
    GOOD.replace("@seriesLength 3", "@seriesLength 4"),
    /^bad\.ts, line 7: the case has length 3, but the header says @equalLength true and @seriesLength 4/,
  ],
  [
    "no @classLabel",
    GOOD.replace("@classLabel true a b\n", ""),
    /^bad\.ts: the header has no @classLabel line/,
  ],
  [
    "@classLabel true without labels",
    GOOD.replace("@classLabel true a b", "@classLabel true"),
    /^bad\.ts, line 5: @classLabel true lists no labels/,
  ],
  [
    "an empty channel",
    GOOD.replace("7,8,9:1,2,3:b", "7,8,9::b"),
    /^bad\.ts, line 8: channel 2 has no values/,
  ],
  ["a trailing comma", GOOD.replace("7,8,9:", "7,8,9,:"), /^bad\.ts, line 8: channel 1 ends with ','/],
  ["an infinite value", GOOD.replace("7,8,9", "7,1e999,9"), /^bad\.ts, line 8: "1e999" is not a number/],
  [
    // 40,001 values in a 80 kB file become 300 million once every case is padded to the longest
    "one long case among many short ones (padding would need gigabytes)",
    `@problemName x\n@univariate true\n@classLabel true a b\n@data\n${"1,".repeat(30_000)}1:a\n${"1:b\n".repeat(10_000)}`,
    /^bad\.ts, line 5: padding 10001 cases to the longest \(30001 steps, line 5\) × 1 channels needs 1\.1 GiB/,
  ],
  [
    "no label separator",
    `@classLabel true a\n@data\n1,2,3\n`,
    /^bad\.ts, line 3: expected channel values and a label separated by ':'/,
  ],
];

describe("bad .ts input → InputError naming file, line and problem", () => {
  it.each(CASES)("%s", (_what, contents, message) => {
    let error: unknown;
    try {
      parseTs(contents, { file: "bad.ts" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(message);
  });

  it("the CLI exits 2 and prints only the message (no stack)", async () => {
    const dir = tempDir();
    for (const [what, contents, message] of CASES.slice(0, 13)) {
      const file = join(dir, "bad.ts");
      writeFileSync(file, contents);
      const io = memoryIO({ cwd: dir });
      const code = await runCli(["datasets", "info", "bad.ts"], io);
      expect(code, what).toBe(2);
      const err = io.err.join("");
      expect(err.startsWith("tspatch: error: bad.ts"), what).toBe(true);
      expect(err.replace("tspatch: error: ", ""), what).toMatch(message);
      expect(err, what).not.toMatch(/\n\s+at /);
      expect(io.out.join(""), what).toBe("");
    }
  });
});
