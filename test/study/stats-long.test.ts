import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { memoryIO } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/main.js";
import { EFFECTS_LONG_COLUMNS } from "../../src/patching/effects-long.js";

const tmp = mkdtempSync(join(tmpdir(), "tspatch-stats-long-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Long rows: (pair, source, target, direction, layer, head, dp). */
const rows: [number, number, number, string, number, number, number][] = [];
const dp = (pair: number, head: number, direction: string) =>
  0.01 * ((pair * 7 + head * 3) % 11) - (direction === "noise" ? 0.02 : 0);
// Targets 10, 11, 12; target 10 has two sources (pairs 0 and 1), so its unit value is their mean.
const pairs: [number, number, number][] = [
  [0, 1, 10],
  [1, 2, 10],
  [2, 3, 11],
  [3, 4, 12],
];
for (const [id, s, t] of pairs) {
  for (const direction of ["denoise", "noise"]) {
    for (const head of [0, 1]) {
      const [source, target] = direction === "denoise" ? [s, t] : [t, s];
      rows.push([id, source, target, direction, 0, head, dp(id, head, direction)]);
    }
  }
}
const longCsv = [
  EFFECTS_LONG_COLUMNS.join(","),
  ...rows.map(([id, s, t, d, l, h, v]) =>
    [id, s, t, "a", d, "head", l, h, "", "", "z", v, "", "", "", "", "overlap", 10, 10, 1, "ok"].join(","),
  ),
].join("\n");

async function stats(args: string[]) {
  const io = memoryIO({ cwd: tmp });
  const code = await runCli(["stats", ...args, "--resamples", "200"], io);
  return { code, out: io.out.join(""), err: io.err.join("") };
}

describe("tspatch stats on a sweep's long table", () => {
  it("pivots to units (target, mean over its sources) and matches the hand-pivoted wide table", async () => {
    writeFileSync(join(tmp, "long.csv"), `${longCsv}\n`);
    const unit = (head: number, ids: number[]) =>
      ids.reduce((a, id) => a + dp(id, head, "denoise"), 0) / ids.length;
    const wide = ["L0H0,L0H1", ...[[0, 1], [2], [3]].map((ids) => `${unit(0, ids)},${unit(1, ids)}`)].join(
      "\n",
    );
    writeFileSync(join(tmp, "wide.csv"), `${wide}\n`);
    const a = await stats([
      "long.csv",
      "--metric",
      "dp_true",
      "--direction",
      "denoise",
      "--component",
      "head",
      "--json",
    ]);
    const b = await stats(["wide.csv", "--json"]);
    expect(a.err).toMatch(/^tspatch: warning \[small-family\] 3 units/);
    expect(a.code).toBe(0);
    // The long table's report adds the unit, crossed-effects and class fields; the tests are the wide table's.
    expect(JSON.parse(a.out).tests).toEqual(
      JSON.parse(b.out).tests.map((t: Record<string, unknown>) => expect.objectContaining(t)),
    );
    expect(JSON.parse(a.out).tests[0].n).toBe(3);
  });

  it("refuses a long table without the flags, and the flags on a wide table (exit 2)", async () => {
    const bare = await stats(["long.csv"]);
    expect(bare.code).toBe(2);
    expect(bare.err).toMatch(/sweep's long effects table: say what to test with --metric/);
    const partial = await stats(["long.csv", "--metric", "dp_true"]);
    expect(partial.code).toBe(2);
    expect(partial.err).toMatch(/--direction/);
    const wide = await stats(["wide.csv", "--direction", "denoise"]);
    expect(wide.code).toBe(2);
    expect(wide.err).toMatch(/apply to a sweep's long effects table/);
    const pooled = await stats([
      "long.csv",
      "--metric",
      "dp_true",
      "--direction",
      "both",
      "--component",
      "head",
    ]);
    expect(pooled.code).toBe(2);
    expect(pooled.err).toMatch(/direction/);
  });
});
