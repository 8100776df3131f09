import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { memoryIO } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/main.js";
import { analyzeEffectsAsync } from "../../src/stats/analyze-effects.js";
import { mean, sd } from "../../src/stats/descriptives.js";
import { nctCdf, nctSf, regularizedGamma } from "../../src/stats/distributions.js";
import { cohenDz } from "../../src/stats/effect-size.js";
import { ttest1samp } from "../../src/stats/ttest.js";
import { expectClose, type Json, loadFixture } from "./helpers.js";

const fixture = loadFixture("extreme.json");
const dir = mkdtempSync(join(tmpdir(), "tspatch-stats-extreme-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function stats(name: string, text: string, extra: string[] = []) {
  const file = join(dir, name);
  writeFileSync(file, text);
  const io = memoryIO();
  const code = await runCli(["stats", file, "--resamples", "200", ...extra], io);
  return { code, out: io.out.join(""), err: io.err.join("") };
}

describe("noncentral t for large noncentrality (bounded work)", () => {
  it.each((fixture.nct as Json[]).map((c: Json): [string, Json] => [`df ${c.df}, δ ${c.nc}, t ${c.x}`, c]))(
    "%s matches mpmath",
    (_name, c: Json) => {
      const started = performance.now();
      expectClose(nctCdf(c.x, c.df, c.nc), c.cdf, 1e-9, 1e-13, "cdf");
      expectClose(nctSf(c.x, c.df, c.nc), c.sf, 1e-9, 1e-13, "sf");
      expectClose(nctCdf(-c.x, c.df, -c.nc), c.sf, 1e-9, 1e-13, "reflected");
      expect(performance.now() - started).toBeLessThan(2000);
    },
  );

  it("regularized gamma: closed forms", () => {
    expectClose(regularizedGamma(1, 1).upper, Math.exp(-1), 1e-15);
    expectClose(regularizedGamma(1, 30).upper, Math.exp(-30), 1e-13);
    // Q(1/2, x) = erfc(√x); erfc(2) = 0.004677734981047266
    expectClose(regularizedGamma(0.5, 4).upper, 0.004677734981047266, 1e-13);
    expectClose(regularizedGamma(3, 0.5).lower, 1 - Math.exp(-0.5) * (1 + 0.5 + 0.125), 1e-14);
  });

  it.each((fixture.dz_ci as Json[]).map((c: Json): [string, Json] => [c.x.join(", "), c]))(
    "the d_z CI of the nearly constant column %s is fast and matches mpmath",
    (_name, c: Json) => {
      const started = performance.now();
      const dz = cohenDz(c.x);
      expectClose(dz.estimate, c.d_z, 1e-9);
      const ci = dz.confidenceInterval(0.95);
      expect(performance.now() - started).toBeLessThan(5000);
      expectClose(ci.low, c.ci95[0], 1e-7, 0, "low");
      expectClose(ci.high, c.ci95[1], 1e-7, 0, "high");
    },
  );
});

describe("descriptives and t on extreme magnitudes", () => {
  it.each((fixture.scaled as Json[]).map((c: Json): [string, Json] => [c.x.join(", "), c]))(
    "%s: as scipy on the rescaled column",
    (_n, c: Json) => {
      expectClose(mean(c.x), c.mean, 1e-14);
      expectClose(sd(c.x), c.sd, 1e-14);
      const r = ttest1samp(c.x);
      expectClose(r.statistic, c.t, 1e-12);
      expectClose(r.pvalue, c.p, 1e-12);
    },
  );

  it("ordinary data is unchanged by the scaling (bit for bit)", () => {
    const x = [0.1, 0.7, -0.3, 2.5, 1e-3];
    let sum = 0;
    for (const v of x) sum += v;
    expect(mean(x)).toBe(sum / x.length);
  });
});

describe("tspatch stats on hostile columns", () => {
  it("1, 1, 1, 1.0000001 finishes within seconds", async () => {
    const started = performance.now();
    const r = await stats("near.csv", "a\n1\n1\n1\n1.0000001\n", ["--json"]);
    expect(r.code).toBe(0);
    expect(performance.now() - started).toBeLessThan(10000);
    const row = JSON.parse(r.out).tests[0];
    expect(row.d_z_ci_low).toBeGreaterThan(0);
    expect(row.d_z_ci_high).toBeGreaterThan(row.d_z_ci_low);
  });

  it.each(["0x1F", "0b101", "0o7", "Infinity"])("refuses %s as the .ts reader does", async (cell) => {
    const r = await stats("hex.csv", `a\n1\n${cell}\n2\n`);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/line 3: ".*" is not a finite decimal number/);
  });

  it("1e300, -1e300, 1e300, 2e300: t ≈ 1.19, not 0", async () => {
    const r = await stats("big.csv", "a\n1e300\n-1e300\n1e300\n2e300\n", ["--json"]);
    const row = JSON.parse(r.out).tests[0];
    expectClose(row.t, fixture.scaled[0].t, 1e-12);
    expect(row.p_t).toBeLessThan(1);
    expect(row.ci_low).not.toBeNull();
  });

  it("two cells of 1e308 have mean 1e308, not null", async () => {
    const row = JSON.parse((await stats("max.csv", "a\n1e308\n1e308\n", ["--json"])).out).tests[0];
    expect(row.mean).toBe(1e308);
  });

  it("a constant non-zero column: t, p_t and significance agree in table and JSON, with a note in words", async () => {
    const text = "flat,ok\n2.5,0.1\n2.5,0.3\n2.5,0.2\n2.5,0.4\n";
    const json = JSON.parse((await stats("flat.csv", text, ["--json"])).out).tests[0];
    expect([json.t, json.p_t, json.d_z, json.significant]).toEqual([null, null, null, false]);
    expect(json.notes.join(" ")).toMatch(/every value is 2\.5: with sd = 0, t, p_t and d_z are undefined/);
    const table = (await stats("flat.csv", text)).out;
    const line = table.split("\n").find((l) => l.startsWith("flat"))!;
    expect(line).not.toMatch(/inf|\*/);
  });

  it("an aborted signal stops the analysis (Ctrl-C)", async () => {
    const controller = new AbortController();
    controller.abort();
    const columns = [{ name: "a", values: Float64Array.from([1, 2, 3, 4]) }];
    await expect(analyzeEffectsAsync(columns, { signal: controller.signal, resamples: 200 })).rejects.toThrow(
      /interrupted/,
    );
    const io = memoryIO();
    writeFileSync(join(dir, "x.csv"), "a\n1\n2\n3\n");
    expect(await runCli(["stats", join(dir, "x.csv")], io, { signal: controller.signal })).toBe(130);
  });
});
