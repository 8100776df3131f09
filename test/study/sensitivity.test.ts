import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryIO } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/main.js";
import type { EffectLine } from "../../src/patching/effects-long.js";
import type { Pair } from "../../src/patching/types.js";
import { defaultStudyConfig } from "../../src/study/config.js";
import { type AnalysisPlan, parseResults } from "../../src/study/results-schema.js";
import { sensitivityFromDesigns } from "../../src/study/sensitivity.js";

/**
 * Denoise effects of 8 heads on 6 targets (2 sources each) where ΔP(true) grows with the head
 * index, the logit difference shrinks with it (the opposite ranking), KL to the source shrinks
 * with it (the same ranking: a head that matters leaves the output closest to the source), and
 * recovery is undefined everywhere.
 */
function constructedLines(): { pairs: Pair[]; lines: EffectLine[] } {
  const pairs: Pair[] = [];
  const lines: EffectLine[] = [];
  let id = 0;
  for (let target = 0; target < 6; target++) {
    for (const source of [100 + target, 200 + target]) {
      pairs.push({ id, source, target, direction: "denoise", trueClass: 1, goodClass: 1, badClass: 2 });
      for (let head = 0; head < 8; head++) {
        // A small wobble per unit, so the bootstrap has something to resample.
        const wobble = 0.004 * Math.sin(7 * id + head);
        lines.push({
          pairId: id,
          source,
          target,
          trueLabel: "1",
          direction: "denoise",
          component: "head",
          layer: head >> 2,
          head: head & 3,
          position: null,
          detail: "",
          headMode: "z",
          metrics: {
            dp_true: 0.05 * head + wobble,
            recovery: null,
            logit_diff: 1,
            d_logit_diff: 0.3 * (8 - head) + wobble,
            kl_source: 0.02 * (8 - head) + Math.abs(wobble) / 10,
          },
          align: "overlap",
          overlap: 1,
          status: "ok",
        });
      }
      id++;
    }
  }
  return { pairs, lines };
}

const plan = {
  metric: "dp_true",
  test: "t",
  correction: "bh",
  alpha: 0.05,
  sesoi: null,
  bootstrap_resamples: 400,
  permutation_resamples: 400,
} as AnalysisPlan;

describe("sensitivity of the head analysis to the metric and the pair strategy", () => {
  it("finds a negative ρ for metrics that rank the heads oppositely and ρ = 1 for ones that agree", async () => {
    const { pairs, lines } = constructedLines();
    const config = { ...defaultStudyConfig(), direction: "denoise" as const };
    const section = await sensitivityFromDesigns(
      [
        { strategy: "misclassified", pairs, lines, message: null },
        { strategy: "cross-class", pairs: [], lines: [], message: "the cross-class strategy found no pairs" },
      ],
      config,
      plan,
    );
    const rho = (a: string, b: string) =>
      section.agreement.find((r) => r.a === `misclassified · ${a}` && r.b === `misclassified · ${b}`)?.rho;
    const opposite = rho("dp_true", "logit_diff");
    expect(opposite?.estimate).toBe(-1);
    expect(opposite?.ci.high).toBeLessThan(0);
    const same = rho("dp_true", "kl");
    expect(same?.estimate).toBe(1);
    expect(same?.ci.low).toBeGreaterThan(0);
    // Recovery is undefined in every row: a row saying so, not an error and not a ranking.
    const recovery = section.variants.find((v) => v.name === "misclassified · recovery");
    expect(recovery?.counts).toBeNull();
    expect(recovery?.message).toMatch(/fewer than 2 units with a defined recovery/);
    expect(section.agreement.some((r) => r.a.endsWith("recovery") || r.b.endsWith("recovery"))).toBe(false);
    // The strategy without pairs is a row per metric with its message.
    const cross = section.variants.filter((v) => v.strategy === "cross-class");
    expect(cross.map((v) => v.message)).toEqual(cross.map(() => "the cross-class strategy found no pairs"));
    // The plan's variant is marked, its counts are of the 8 heads, top heads by |mean|.
    const planned = section.variants.filter((v) => v.plan);
    expect(planned.map((v) => v.name)).toEqual(["misclassified · dp_true"]);
    expect(planned[0].units).toBe(6);
    expect(planned[0].counts?.total).toBe(8);
    expect(planned[0].top).toEqual(["L1H3", "L1H2", "L1H1", "L1H0", "L0H3"]);
    expect(section.variants.find((v) => v.metric === "logit_diff")?.top[0]).toBe("L0H0");
    expect(section.variants.find((v) => v.metric === "kl")?.top[0]).toBe("L1H3");
    expect(
      await sensitivityFromDesigns(
        [{ strategy: "misclassified", pairs, lines, message: null }],
        config,
        plan,
      ),
    ).toEqual(
      await sensitivityFromDesigns(
        [{ strategy: "misclassified", pairs, lines, message: null }],
        config,
        plan,
      ),
    );
  });
});

const tmp = mkdtempSync(join(tmpdir(), "tspatch-sensitivity-"));
const text = (dir: string, file = "results.json") => readFileSync(join(tmp, dir, file), "utf8");

async function study(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO({ cwd: tmp });
  const code = await runCli(args, io);
  return { code, out: io.out.join(""), err: io.err.join("") };
}

let first: { code: number; out: string; err: string };
beforeAll(async () => {
  first = await study(["study", "--quick", "--kinds", "heads", "--sensitivity", "--out", "q", "--quiet"]);
}, 120_000);

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe("tspatch study --sensitivity (quick)", () => {
  it("writes the section to results.json, the report and the figure, and a summary line", () => {
    expect(first.code).toBe(0);
    const results = parseResults(text("q"), "results.json");
    const s = results.sensitivity;
    expect(s).toBeDefined();
    expect(s?.plan_variant).toBe("misclassified · dp_true");
    // Every strategy × metric, per direction; cross-class is denoise only, said in its rows.
    expect(s?.variants).toHaveLength(2 * 3 * 4);
    const crossNoise = s?.variants.filter((v) => v.strategy === "cross-class" && v.direction === "noise");
    for (const v of crossNoise ?? []) expect(v.message).toMatch(/denoise only/);
    expect(s?.agreement.length).toBeGreaterThan(0);
    // The plan's variant is the plan's analysis: the same counts as its Results.
    for (const d of results.directions) {
      const heads = d.kinds.find((k) => k.kind === "head");
      const planned = s?.variants.find((v) => v.plan && v.direction === d.direction);
      expect(planned?.counts).toEqual({
        total: heads?.counts.total,
        significant: heads?.counts.corrected,
        ...heads?.counts.status,
      });
      expect(planned?.top).toEqual(heads?.top);
    }
    const page = text("q", "report.html");
    expect(page).toContain('<section id="sensitivity">');
    expect(page).toContain("Sensitivity analysis");
    expect(page).toContain("fig6-sensitivity");
    const svg = text("q", "figures/fig6-sensitivity.svg");
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain("Agreement of the head rankings");
    expect(existsSync(join(tmp, "q", "tables", "sensitivity-agreement.csv"))).toBe(true);
    expect(first.out).toMatch(/^sensitivity: \d+ variants analysed; head-ranking ρ with the plan/m);
    // stats.csv carries each component's status.
    const [header, row] = text("q", "stats.csv").split("\n");
    expect(header.split(",").at(-1)).toBe("status");
    expect(row.split(",").at(-1)).toMatch(/^(important|negligible|inconclusive)$/);
  });

  it("is skipped on --resume, and a merged sharded study gets the single run's section", async () => {
    const before = statSync(join(tmp, "q", ".study", "sensitivity.json")).mtimeMs;
    expect(
      (
        await study([
          "study",
          "--quick",
          "--kinds",
          "heads",
          "--sensitivity",
          "--out",
          "q",
          "--quiet",
          "--resume",
        ])
      ).code,
    ).toBe(0);
    expect(statSync(join(tmp, "q", ".study", "sensitivity.json")).mtimeMs).toBe(before);

    // The shards sweep; the merge runs the sensitivity stage once, as a single run does.
    const flags = [
      "--quick",
      "--model",
      join(tmp, "q", "model"),
      "--kinds",
      "heads",
      "--sensitivity",
      "--quiet",
      "--no-report",
    ];
    for (const i of [0, 1]) {
      expect((await study(["study", ...flags, "--shard", `${i}/2`, "--out", `s${i}`])).code).toBe(0);
      expect(existsSync(join(tmp, `s${i}`, ".study", "sensitivity.json"))).toBe(false);
    }
    expect((await study(["merge", "s0", "s1", "--out", "m", "--quiet"])).code).toBe(0);
    // Same weights and plan as the trained run: the same section, byte for byte.
    const section = (dir: string) => JSON.stringify(parseResults(text(dir), "results.json").sensitivity);
    expect(section("m")).toBe(section("q"));
  }, 180_000);

  it("refuses --sensitivity with the published study's compatibility switches", async () => {
    const r = await study(["study", "--quick", "--pool-directions", "--family", "pooled", "--sensitivity"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--sensitivity does not apply/);
  });
});
