import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { memoryIO } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/main.js";
import { tostMean } from "../../src/stats/equivalence.js";
import { rankingAgreement } from "../../src/stats/ranking-agreement.js";
import { parseLongEffects, unitColumns, unitTable } from "../../src/stats/units.js";

const HEADER =
  "pair_id,source,target,true_label,direction,component,layer,head,position,detail,head_mode,dp_true,recovery,logit_diff,d_logit_diff,kl_source";

/** A long table: pairs share sources in the noise direction (run target = the correct input). */
function longTable(): string {
  const lines = [HEADER];
  let id = 0;
  for (const source of [100, 101, 102, 103, 104, 105]) {
    for (let k = 0; k < 3; k++) {
      const target = id;
      for (let h = 0; h < 4; h++) {
        const big = h === 0 ? 0.3 : 0;
        const tiny = 1e-4 * ((id + h) % 3) - 1e-4;
        const label = source % 2 === 0 ? "a" : "b";
        lines.push(
          `${id},${source},${target},${label},denoise,head,${h < 2 ? 0 : 1},${h % 2},,,z,${big + tiny + 0.01 * k},,0.5,${big * 4 + k * 0.1},0.1`,
        );
        lines.push(
          `${id},${target},${source},${label},noise,head,${h < 2 ? 0 : 1},${h % 2},,,z,${-big * (1 + 0.1 * (source % 3)) + tiny},,0.5,${-big * 3},0.1`,
        );
      }
      id++;
    }
  }
  return `${lines.join("\n")}\n`;
}

const dir = mkdtempSync(join(tmpdir(), "tspatch-units-"));
const file = join(dir, "effects.csv");
writeFileSync(file, longTable());

describe("unit tables from the long sweep table", () => {
  it("averages per patched input and states the unit", () => {
    const rows = parseLongEffects(longTable(), "effects.csv");
    const noise = unitTable(rows, { direction: "noise", metric: "dp_true" });
    expect(noise.names).toEqual(["L0H0", "L0H1", "L1H0", "L1H1"]);
    expect(noise.unitIds).toEqual([100, 101, 102, 103, 104, 105]);
    expect(noise.pairsPerUnit).toEqual([3, 3, 3, 3, 3, 3]);
    expect(noise.unitDescription).toMatch(/18 pairs averaged into 6 units/);
    expect(noise.labels).toEqual(["a", "b", "a", "b", "a", "b"]);
    const perPair = unitTable(rows, { direction: "noise", metric: "dp_true", unit: "pair" });
    expect(perPair.unitIds).toHaveLength(18);
    // The unit mean of a column equals the mean of its pairs' values.
    const col = unitColumns(noise)[0].values;
    const pairs = unitColumns(perPair)[0].values;
    expect(col[0]).toBeCloseTo((pairs[0] + pairs[1] + pairs[2]) / 3, 15);
    expect(unitColumns(unitTable(rows, { direction: "noise", metric: "recovery" }))[0].values).toHaveLength(
      0,
    );
  });

  it("refuses a direction that is not there, naming the ones that are", () => {
    const rows = parseLongEffects(longTable(), "effects.csv");
    expect(() => unitTable(rows, { direction: "both", metric: "dp_true" })).toThrow(/denoise, noise/);
  });
});

describe("tspatch stats on the long table", () => {
  async function run(args: string[]) {
    const io = memoryIO();
    const code = await runCli(["stats", file, "--resamples", "500", ...withMetric(args)], io);
    return { code, out: io.out.join(""), err: io.err.join("") };
  }

  it("warns when a family has fewer than 5 units", async () => {
    const small = join(dir, "small.csv");
    writeFileSync(small, `${longTable().split("\n").slice(0, 49).join("\n")}\n`);
    const io = memoryIO();
    expect(
      await runCli(["stats", small, "--direction", "noise", "--metric", "dp_true", "--resamples", "500"], io),
    ).toBe(0);
    expect(io.err.join("")).toMatch(/warning \[small-family\] 2 units \(6 pairs\)/);
    const { err } = await run(["--direction", "noise"]);
    expect(err).not.toMatch(/small-family/);
  });

  it("needs --direction when both are present", async () => {
    const { code, err } = await run([]);
    expect(code).toBe(2);
    expect(err).toMatch(/--direction denoise or --direction noise/);
  });

  it("reports status, TOST, FCR CIs, unit and family; hierarchical beside flat", async () => {
    const { code, out } = await run(["--direction", "noise", "--json", "--hierarchical"]);
    expect(code).toBe(0);
    const r = JSON.parse(out);
    expect(r.unit).toMatch(/6 units/);
    expect(r.units).toBe(6);
    expect(r.family).toBe("all 4 columns");
    expect(r.sesoi).toBe(0.01);
    expect(r.estimand).toBe("mean");
    expect(r.wilcoxon_estimand).toBe("pseudo-median");
    const byName = Object.fromEntries(r.tests.map((t: { name: string }) => [t.name, t]));
    expect(byName.L0H0.status).toBe("important");
    expect(byName.L0H1.status).toBe("negligible");
    expect(byName.L0H0.fcr_ci_low).toBeLessThan(byName.L0H0.mean);
    expect(byName.L0H1.fcr_ci_low).toBeNull();
    // Dependence and classes, per component: crossed random intercepts and the class ANOVA.
    expect(byName.L0H0.crossed_mean).toBeCloseTo(byName.L0H0.mean, 1);
    expect(byName.L0H0.crossed_se).toBeGreaterThan(0);
    expect(byName.L0H0.heterogeneity_p).toBeGreaterThan(0);
    expect(r.crossed_method).toMatch(/REML/);
    expect(r.counts).toMatchObject({ important: 1, negligible: 3, inconclusive: 0 });
    expect(r.hierarchical.decisions.map((d: { name: string }) => d.name)).toEqual([
      "L0",
      "L0H0",
      "L0H1",
      "L1",
      "L1H0",
      "L1H1",
    ]);
    expect(r.hierarchical.fdr_bound).toBeCloseTo(0.144, 12);
    const tost = tostMean(
      unitColumns(unitTable(parseLongEffects(longTable(), "x"), { direction: "noise", metric: "dp_true" }))[1]
        .values,
      { low: -0.01, high: 0.01 },
    );
    expect(byName.L0H1.p_tost).toBe(tost.pvalue);
  });

  it("uses the metric's default SESOI and prints the three words", async () => {
    const { code, out } = await run(["--direction", "denoise", "--metric", "d_logit_diff"]);
    expect(code).toBe(0);
    expect(out).toMatch(/SESOI ±0\.1\)/);
    expect(out).toMatch(/\d+ important, \d+ negligible, \d+ inconclusive/);
    expect(out).toMatch(/p_wilcoxon tests the pseudo-median/);
    expect(out).toMatch(/Unit: denoise, d_logit_diff: one row per run target/);
  });

  it("refuses a bad --sesoi, --metric or --unit", async () => {
    for (const args of [
      ["--sesoi", "-1"],
      ["--metric", "auc"],
      ["--unit", "crossed"],
    ]) {
      const { code, err } = await run(["--direction", "noise", ...args]);
      expect(code, args.join(" ")).toBe(2);
      expect(err).toMatch(/--(sesoi|metric|unit)/);
    }
  });

  it("refuses to test a level or a distance against 0 (every component would come out important)", async () => {
    for (const metric of ["kl_source", "logit_diff"]) {
      const { code, err } = await run(["--direction", "noise", "--metric", metric]);
      expect(code, metric).toBe(2);
      expect(err).toContain(`--metric ${metric} cannot be tested as an effect`);
      expect(err).toMatch(/d_logit_diff/);
    }
    const study = memoryIO();
    expect(await runCli(["study", "--metric", "kl", "--out", join(dir, "kl-study")], study)).toBe(2);
    expect(study.err.join("")).toMatch(/--metric kl cannot be the plan's metric: .*never negative/);
  });
});

/**
 * Six denoise pairs in three known clusters: {0, 1, 2} linked through sources 10, 11 and target 2
 * (pair 2 shares its source with no other pair, its target with pair 1), {3, 4} through target 3,
 * and {5} alone. L0H0's pair values average to 0.3, 0.7 and 0.9 per cluster.
 */
function clusteredTable(pairs = CLUSTER_PAIRS): string {
  const lines = [HEADER];
  for (const [id, source, target, value] of pairs) {
    lines.push(`${id},${source},${target},a,denoise,head,0,0,,,z,${value},,0.5,0.1,0.1`);
    lines.push(`${id},${source},${target},a,denoise,head,0,1,,,z,${value / 10 + 0.01 * id},,0.5,0.1,0.1`);
  }
  return `${lines.join("\n")}\n`;
}
const CLUSTER_PAIRS: [number, number, number, number][] = [
  [0, 10, 1, 0.1],
  [1, 10, 2, 0.3],
  [2, 11, 2, 0.5],
  [3, 12, 3, 0.6],
  [4, 13, 3, 0.8],
  [5, 14, 4, 0.9],
];

describe("tspatch stats --unit cluster", () => {
  it("averages each connected group of pairs first and counts the clusters", async () => {
    const table = unitTable(parseLongEffects(clusteredTable(), "c.csv"), {
      direction: "denoise",
      metric: "dp_true",
      unit: "cluster",
    });
    expect(table.unitIds).toEqual([0, 1, 2]);
    expect(table.pairsPerUnit).toEqual([3, 2, 1]);
    const expected = [0.3, 0.7, 0.9];
    table.values[0].forEach((v, u) => {
      expect(v).toBeCloseTo(expected[u], 14);
    });
    expect(table.unitDescription).toMatch(/6 pairs averaged into 3 clusters/);
    const csv = join(dir, "clustered.csv");
    writeFileSync(csv, clusteredTable());
    const io = memoryIO();
    const code = await runCli(
      ["stats", csv, "--metric", "dp_true", "--unit", "cluster", "--resamples", "500", "--json"],
      io,
    );
    expect(code).toBe(0);
    const r = JSON.parse(io.out.join(""));
    expect([r.units, r.clusters, r.pairs]).toEqual([3, 3, 6]);
    expect(r.tests[0].n).toBe(3);
    expect(r.tests[0].mean).toBeCloseTo((0.3 + 0.7 + 0.9) / 3, 12);
    const byTarget = memoryIO();
    await runCli(["stats", csv, "--metric", "dp_true", "--resamples", "500", "--json"], byTarget);
    expect(JSON.parse(byTarget.out.join("")).units).toBe(4);
  });

  it("refuses pairs that all connect into one cluster", async () => {
    const csv = join(dir, "one-cluster.csv");
    writeFileSync(
      csv,
      clusteredTable([
        [0, 10, 1, 0.1],
        [1, 10, 2, 0.3],
        [2, 11, 2, 0.5],
      ]),
    );
    const io = memoryIO();
    expect(await runCli(["stats", csv, "--metric", "dp_true", "--unit", "cluster"], io)).toBe(2);
    expect(io.err.join("")).toMatch(/3 pairs of the denoise direction form 1 cluster .*at least 2/);
    expect(io.err.join("")).toMatch(/--unit/);
  });
});

describe("ranking agreement across analysis variants", () => {
  it("is 1 with a tight CI for rankings that agree, and resamples shared designs jointly", () => {
    const base = [0.5, 0.3, 0.1, 0.0, -0.1];
    const units = 20;
    const col = (shift: number, scale: number, k: number) =>
      Float64Array.from({ length: units }, (_, u) => scale * base[k] + shift + 0.01 * Math.sin(u * 7 + k));
    const a = {
      name: "dp_true",
      design: "study",
      components: ["A", "B", "C", "D", "E"],
      values: base.map((_, k) => col(0, 1, k)),
    };
    const b = {
      name: "logit",
      design: "study",
      components: ["A", "B", "C", "D", "E"],
      values: base.map((_, k) => col(1, 3, k)),
    };
    const c = {
      name: "reversed",
      design: "all",
      components: ["E", "D", "C", "B", "A"],
      values: base.map((_, k) => col(0, 1, k)),
    };
    const rows = rankingAgreement([a, b, c], { resamples: 300, seed: 1, absolute: false });
    expect(rows.map((r) => [r.a, r.b, r.resampling])).toEqual([
      ["dp_true", "logit", "joint"],
      ["dp_true", "reversed", "independent"],
      ["logit", "reversed", "independent"],
    ]);
    expect(rows[0].rho).toBe(1);
    expect(rows[0].ciLow).toBe(1);
    expect(rows[1].rho).toBe(-1);
    expect(rows[1].components).toBe(5);
    expect(rankingAgreement([a, b], { resamples: 300, seed: 1 })).toEqual(
      rankingAgreement([a, b], { resamples: 300, seed: 1 }),
    );
  });
});

/** The metric is a required part of a long table's analysis; these tests state ΔP(true) unless they pick one. */
function withMetric(args: string[]): string[] {
  return args.includes("--metric") ? args : [...args, "--metric", "dp_true"];
}
