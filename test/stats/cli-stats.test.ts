import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { memoryIO } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/main.js";
import { adjustPValues } from "../../src/stats/multiplicity.js";
import { ttest1samp } from "../../src/stats/ttest.js";
import { wilcoxon } from "../../src/stats/wilcoxon.js";
import type { Json } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "tspatch-stats-cli-"));
function csvFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

// Three hypotheses: a clear effect, no effect, and a column with a missing cell.
const a = [0.31, 0.42, 0.18, 0.55, 0.29, 0.47, 0.36, 0.22, 0.41, 0.38];
const b = [0.05, -0.12, 0.08, -0.03, 0.11, -0.07, 0.02, -0.09, 0.04, 0.01];
const c = [0.2, 0.1, 0.3, "", 0.25, 0.15, 0.22, 0.18, 0.27, 0.12];
const effects = csvFile(
  "effects.csv",
  `L0H0,L0H1,"L1,H2"\n${a.map((_, i) => `${a[i]},${b[i]},${c[i]}`).join("\n")}\n`,
);

async function run(args: string[]) {
  const io = memoryIO();
  const code = await runCli(["stats", ...args], io);
  return { code, out: io.out.join(""), err: io.err.join("") };
}

describe("tspatch stats", () => {
  it("--json has the issue's shape and the library's numbers", async () => {
    const { code, out } = await run([effects, "--json", "--resamples", "2000"]);
    expect(code).toBe(0);
    const report = JSON.parse(out);
    expect(Object.keys(report)).toEqual(
      expect.arrayContaining(["alpha", "correction", "test", "tests", "counts"]),
    );
    expect(report.alpha).toBe(0.05);
    expect(report.correction).toBe("bh");
    expect(report.test).toBe("t");
    expect(report.tests.map((t: Json) => t.name)).toEqual(["L0H0", "L0H1", "L1,H2"]);
    const keys =
      "name n mean sd se t df p_t p_wilcoxon p_perm ci_low ci_high d_z d_z_ci_low d_z_ci_high g_z p_adj significant_naive significant".split(
        " ",
      );
    for (const row of report.tests) expect(Object.keys(row)).toEqual(expect.arrayContaining(keys));
    expect(report.tests[2].n).toBe(9);
    const pt = [a, b, c.filter((v) => v !== "") as number[]].map((x) => ttest1samp(x).pvalue);
    report.tests.forEach((row: Json, j: number) => {
      expect(row.p_t).toBe(pt[j]);
    });
    const adjusted = adjustPValues(pt, "bh").adjusted;
    report.tests.forEach((row: Json, j: number) => {
      expect(row.p_adj).toBe(adjusted[j]);
    });
    expect(report.tests[0].p_wilcoxon).toBe(wilcoxon(a).pvalue);
    expect(report.tests[0].significant).toBe(true);
    expect(report.tests[1].significant).toBe(false);
    expect(report.counts).toEqual({ total: 3, naive: 2, corrected: 2 });
    expect(report.tests[0].ci_low).toBeLessThan(report.tests[0].mean);
    expect(report.tests[0].ci_high).toBeGreaterThan(report.tests[0].mean);
  });

  it("--test and --correction choose what is adjusted; the seed makes it reproducible", async () => {
    const one = JSON.parse(
      (
        await run([
          effects,
          "--json",
          "--test",
          "wilcoxon",
          "--correction",
          "holm",
          "--resamples",
          "500",
          "--seed",
          "3",
        ])
      ).out,
    );
    const two = JSON.parse(
      (
        await run([
          effects,
          "--json",
          "--test",
          "wilcoxon",
          "--correction",
          "holm",
          "--resamples",
          "500",
          "--seed",
          "3",
        ])
      ).out,
    );
    expect(one).toEqual(two);
    const adjusted = adjustPValues(
      one.tests.map((t: Json) => t.p_wilcoxon),
      "holm",
    ).adjusted;
    one.tests.forEach((row: Json, j: number) => {
      expect(row.p_adj).toBe(adjusted[j]);
    });
  });

  it("--csv prints the issue's columns, one row per hypothesis", async () => {
    const { code, out } = await run([effects, "--csv", "--resamples", "500"]);
    expect(code).toBe(0);
    const lines = out.trim().split("\n");
    expect(lines[0]).toBe(
      "name,n,mean,sd,se,t,df,p_t,p_wilcoxon,p_perm,ci_low,ci_high,d_z,d_z_ci_low,d_z_ci_high,g_z,p_adj,significant_naive,significant,notes",
    );
    expect(lines).toHaveLength(4);
    expect(lines[3].startsWith('"L1,H2",9,')).toBe(true);
  });

  it("the human table never prints NaN and says why a value is missing", async () => {
    const file = csvFile("constant.csv", "flat,ok\n0.5,0.1\n0.5,0.3\n0.5,0.2\n");
    const { code, out } = await run([file, "--resamples", "200"]);
    expect(code).toBe(0);
    expect(out).not.toMatch(/NaN/);
    expect(out).toMatch(/flat: .*constant column/);
    expect(out).toMatch(/Significant: \d of 2 corrected/);
    const json = JSON.parse((await run([file, "--json", "--resamples", "200"])).out);
    expect(json.tests[0].t).toBeNull();
    expect(json.tests[0].notes).toContain("constant column");
  });

  it.each([
    ["ragged.csv", "a,b\n1,2\n3\n", /ragged\.csv, line 3: row has 1 cells but the header has 2/],
    ["text.csv", "a,b\n1,2\n3,abc\n4,5\n", /text\.csv, line 3: "abc" is not a finite number \(column "b"\)/],
    ["short.csv", "a,b\n1,2\n,3\n", /column "a" has 1 value; at least 2 are needed/],
    ["empty.csv", "", /the file is empty/],
    ["dup.csv", "a,a\n1,2\n3,4\n", /column name "a" appears twice/],
  ])("bad CSV %s exits 2 naming the place", async (name, text, message) => {
    const { code, err } = await run([csvFile(name, text)]);
    expect(code).toBe(2);
    expect(err).toMatch(message);
    expect(err).not.toMatch(/at .*\.ts/); // no stack trace
  });

  it("bad options exit 2", async () => {
    expect((await run([effects, "--alpha", "2"])).code).toBe(2);
    expect((await run([effects, "--correction", "fdr"])).err).toMatch(/unknown --correction "fdr"/);
    expect((await run([effects, "--test", "z"])).code).toBe(2);
    expect((await run([effects, "--json", "--csv"])).code).toBe(2);
    expect((await run([join(dir, "missing.csv")])).err).toMatch(/cannot read the effects table/);
  });

  it("a sweep's effects-long file exits 2 saying it is not a unit table", async () => {
    const long = csvFile(
      "long.csv",
      "pair_id,source,target,true_label,direction,component\n0,58,31,2,denoise,head\n1,5,1,2,denoise,head\n",
    );
    const { code, err } = await run([long]);
    expect(code).toBe(2);
    expect(err).toMatch(/long\.csv, line 1: this is an effects-long file[\s\S]*stats takes a unit-table/);
  });
});
