import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryIO } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/main.js";
import { parseResults } from "../../src/study/results-schema.js";

const tmp = mkdtempSync(join(tmpdir(), "tspatch-study-"));
const model = join(tmp, "trained", "model");
/** One configuration for the reference, repeated, resumed and sharded runs. */
const flags = [
  "--quick",
  "--model",
  model,
  "--kinds",
  "heads,layers",
  "--max-sources",
  "4",
  "--quiet",
  "--no-report",
];

async function study(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO({ cwd: tmp });
  const code = await runCli(args, io);
  return { code, out: io.out.join(""), err: io.err.join("") };
}

const text = (dir: string, file = "results.json") => readFileSync(join(tmp, dir, file), "utf8");
/** Standard error of the reference run: --quiet leaves only the diagnostics' warnings. */
let trainedErr = "";

beforeAll(async () => {
  // A quick study trains the model every other run reuses.
  const r = await study(["study", "--quick", "--kinds", "heads", "--out", "trained", "--quiet"]);
  trainedErr = r.err;
  for (const line of r.err.trimEnd().split("\n"))
    expect(line).toMatch(/^tspatch: (warning|error) \[[a-z-]+\] /);
  expect(r.code).toBe(0);
}, 240_000);

afterAll(() => {
  if (!process.env.KEEP_STUDY_TMP) rmSync(tmp, { recursive: true, force: true });
});

describe("tspatch study", () => {
  it("writes every output, a valid results.json and a summary per direction", () => {
    const results = parseResults(text("trained"), "results.json");
    for (const f of [
      "config.json",
      "pairs.csv",
      "predictions.csv",
      "effects/heads.csv",
      "stats.csv",
      "timings.json",
    ]) {
      expect(existsSync(join(tmp, "trained", f)), f).toBe(true);
    }
    expect(results.plan).toMatchObject({ metric: "dp_true", test: "t", correction: "bh", head_mode: "z" });
    expect(results.directions.map((d) => d.direction)).toEqual(["denoise", "noise"]);
    const heads = results.directions[0].kinds[0];
    expect(heads.kind).toBe("head");
    expect(heads.components).toHaveLength(24);
    expect(heads.counts.total).toBe(24);
    // Units are distinct misclassified inputs: the test's n equals the pairs summary's effective n.
    const pairs = results.pairs.by_direction[0];
    expect(heads.components[0].n).toBe(pairs.effective_n);
    expect(results.model.accuracy).toBeGreaterThan(0);
    expect(results.model.confusion.flat().reduce((a, b) => a + b, 0)).toBe(results.model.n_evaluated);
    expect(JSON.stringify(results)).not.toMatch(/"finished"|seconds/);
    expect(results.stability).toBeUndefined();
    expect(results.baselines).toBeUndefined();
  });

  it("runs the stability and baselines stages on request: typed sections, byte-identical, skipped on --resume", async () => {
    const args = ["study", "--quick", "--model", model, "--kinds", "heads", "--quiet", "--no-report"];
    const robust = [...args, "--stability", "--baselines"];
    for (const out of ["r1", "r2"]) expect((await study([...robust, "--out", out])).code).toBe(0);
    expect(text("r2")).toBe(text("r1"));
    const results = parseResults(text("r1"), "results.json");
    const stages = JSON.parse(text("r1", "stages.json")) as { done: { stage: string }[] };
    expect(stages.done.map((d) => d.stage).slice(-3)).toEqual(["stability", "baselines", "results"]);

    // --quick's reduced grid: one perturbation, few null draws, few IG nodes.
    const stability = results.stability!;
    expect(stability.perturbations.map((p) => p.label)).toEqual(["gaussian:0.1"]);
    const agreement = stability.perturbations[0].directions.map((d) => d.agreement?.spearman.estimate);
    for (const rho of agreement) expect(rho).toBeGreaterThan(0);
    expect(stability.resampling[0].significant_probability).toHaveLength(24);
    const baselines = results.baselines!;
    expect(new Set(baselines.agreement.map((a) => a.baseline))).toEqual(
      new Set(["atp", "integrated_gradients", "attention_entropy", "attention_max", "attention_variance"]),
    );
    expect(baselines.per_head).toHaveLength(24 * results.directions.length);
    expect(baselines.integrated_gradients.steps).toBe(8);
    expect(baselines.random_null?.draws).toBe(5);
    expect(baselines.random_null?.histograms.map((h) => h.null_means.length)).toEqual([5, 5, 5, 5]);
    // AtP approximates exact patching: the per-head means rank alike.
    const atp = baselines.agreement.filter((a) => a.baseline === "atp");
    for (const a of atp) expect(a.spearman.estimate).toBeGreaterThan(0.5);

    const before = statSync(join(tmp, "r1", ".study", "baselines.json")).mtimeMs;
    const resumed = await study([...robust, "--out", "r1", "--resume"]);
    expect(resumed.code).toBe(0);
    expect(statSync(join(tmp, "r1", ".study", "baselines.json")).mtimeMs).toBe(before);
    expect(text("r1")).toBe(text("r2"));
  }, 120_000);

  it("gives a byte-identical results.json for the same seed and config, and resumes after SIGKILL mid-sweep", async () => {
    const a = await study(["study", ...flags, "--out", "a"]);
    expect(a.code).toBe(0);
    expect(a.out).toMatch(/denoise: \d+ pairs, \d+ units/);
    expect(a.out).toMatch(
      /head: \d+\/24 significant naive, \d+\/24 corrected; \d+ important, \d+ negligible, \d+ inconclusive/,
    );
    const b = await study(["study", ...flags, "--out", "b"]);
    expect(b.code).toBe(0);
    expect(text("b")).toBe(text("a"));

    // Kill a child process once the head sweep has checkpointed its first chunk, then resume.
    const checkpoint = join(tmp, "k", ".study", "sweep-head.checkpoint");
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(import.meta.dirname, "study-child.ts"),
        "study",
        ...flags,
        "--out",
        join(tmp, "k"),
      ],
      { cwd: join(import.meta.dirname, "..", ".."), stdio: "ignore" },
    );
    const killed = await new Promise<boolean>((resolve) => {
      const timer = setInterval(() => {
        if (existsSync(checkpoint) && statSync(checkpoint).size > 0) {
          clearInterval(timer);
          child.kill("SIGKILL");
          resolve(true);
        }
      }, 20);
      child.on("exit", () => {
        clearInterval(timer);
        resolve(false);
      });
    });
    expect(killed).toBe(true);
    await new Promise((resolve) => child.on("exit", resolve));
    expect(existsSync(join(tmp, "k", "results.json"))).toBe(false);
    const again = await study(["study", ...flags, "--out", "k"]);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/already holds a study[\s\S]*--resume/);
    const resumed = await study(["study", ...flags, "--out", "k", "--resume"]);
    expect(resumed.code).toBe(0);
    expect(text("k")).toBe(text("a"));
  }, 120_000);

  it("merges shards into the single run's results.json", async () => {
    for (const i of [0, 1]) {
      const r = await study(["study", ...flags, "--shard", `${i}/2`, "--out", `s${i}`]);
      expect(r.code).toBe(0);
      expect(existsSync(join(tmp, `s${i}`, "results.json"))).toBe(false);
    }
    const missing = await study(["merge", "s0", "--out", "m0"]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/shards 1\/2 are missing/);
    const merged = await study(["merge", "s1", "s0", "--out", "m", "--quiet"]);
    expect(merged.err).toBe("");
    expect(merged.code).toBe(0);
    expect(text("m", "effects/heads.csv")).toBe(text("a", "effects/heads.csv"));
    expect(text("m")).toBe(text("a"));
  }, 120_000);

  it("runs the head × time-step sweep on a seeded subsample of units, the same in shards + merge as in one run", async () => {
    // One source per target keeps the sweep (24 heads × every step per pair) within seconds.
    const pos = ["--quick", "--model", model, "--kinds", "head-pos", "--max-sources", "1", "--quiet"];
    pos.push("--no-report", "--max-position-units", "3");
    const single = await study(["study", ...pos, "--out", "p"]);
    expect(single.code).toBe(0);
    const results = parseResults(text("p"), "results.json");
    const units = results.plan.head_position_units;
    expect(units).toMatchObject({ max: 3, seed: 0 });
    const pairs = JSON.parse(text("p", ".study/pairs.json")).pairs as {
      id: number;
      direction: string;
      source: number;
      target: number;
    }[];
    const swept = new Set(
      text("p", "effects/head_positions.csv")
        .trim()
        .split("\n")
        .slice(1)
        .map((line) => line.split(",", 5))
        .map((c) => `${c[0]}:${c[4]}`),
    );
    for (const d of results.directions) {
      const u = units?.by_direction[d.direction];
      expect(u?.of).toBe(d.n_units);
      expect(u?.units).toHaveLength(3);
      expect(single.out).toContain(`head × time step on 3 of ${d.n_units} units, sampled with seed 0`);
      // The map's statistics use the chosen units only; the sweep ran every pair of each of them.
      const map = d.kinds[0].map;
      for (const cell of map?.cells ?? []) expect(cell.n).toBeLessThanOrEqual(3);
      const chosen = new Set(u?.units);
      for (const p of pairs.filter((x) => x.direction === d.direction)) {
        const unit = d.direction === "noise" ? p.source : p.target;
        expect(swept.has(`${p.id}:${p.direction}`)).toBe(chosen.has(unit));
      }
    }
    for (const i of [0, 1]) {
      expect((await study(["study", ...pos, "--shard", `${i}/2`, "--out", `ps${i}`])).code).toBe(0);
      // Each shard draws the subsample from the full pair list, not from its own chunks.
      expect(text(`ps${i}`, ".study/position-units.json")).toBe(text("p", ".study/position-units.json"));
    }
    expect((await study(["merge", "ps0", "ps1", "--out", "pm", "--quiet"])).code).toBe(0);
    expect(text("pm", "effects/head_positions.csv")).toBe(text("p", "effects/head_positions.csv"));
    expect(text("pm")).toBe(text("p"));
  }, 120_000);

  it("refuses a second study on the same --out while one runs (lock file)", async () => {
    writeFileSync(join(tmp, "a", ".lock"), `${process.pid}\n`);
    const r = await study(["study", ...flags, "--out", "a", "--resume"]);
    rmSync(join(tmp, "a", ".lock"));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/another study \(process \d+\) is writing this directory/);
  });

  it("exits 2 naming the stage and the fix for bad input, keeping earlier stages", async () => {
    const noModel = await study(["study", "--quick", "--model", "nope/model", "--out", "bad1"]);
    expect(noModel.code).toBe(2);
    expect(noModel.err).toMatch(/study stage "model" failed: .*no such model directory or file/);
    expect(noModel.err).toMatch(/fix: /);
    expect(noModel.err).not.toMatch(/at .*\.ts:\d+/);

    writeFileSync(join(tmp, "empty.csv"), "source,target\n");
    const empty = await study(["study", ...flags, "--pairs-file", "empty.csv", "--out", "bad2"]);
    expect(empty.code).toBe(2);
    expect(empty.err).toMatch(/study stage "pairs" failed: .*no pairs/);
    const stages = JSON.parse(text("bad2", "stages.json")) as { done: { stage: string }[] };
    expect(stages.done.map((d) => d.stage)).toEqual(["data", "model", "evaluation"]);

    const wrongData = await study([
      "study",
      "--quick",
      "--model",
      model,
      "--dataset",
      "PenDigits",
      "--offline",
      "--out",
      "bad3",
    ]);
    expect(wrongData.code).toBe(2);
    expect(wrongData.err).toMatch(/study stage "(data|model|evaluation)" failed/);

    const flag = await study(["study", "--family", "pooled"]);
    expect(flag.code).toBe(2);
    expect(flag.err).toMatch(/--family pooled needs --pool-directions/);
  }, 60_000);
});

describe("tspatch study: diagnostics, status and alignment in results.json", () => {
  const results = () => parseResults(text("trained"), "results.json");

  it("records the pre-flight findings by stage and prints the warnings as it runs", () => {
    const { diagnostics } = results();
    expect(diagnostics).toBeDefined();
    const findings = diagnostics?.findings ?? [];
    // The 3-epoch model is far from saturated (the reference checkpoint is: see the report tests).
    expect(findings.some((f) => f.code === "saturation")).toBe(false);
    expect(findings.map((f) => f.stage)).toEqual(findings.map(() => "pairs"));
    // The study's unit when noising is the source: the dependence finding counts sources.
    const noise = findings.find((f) => f.code === "pair-dependence" && f.detail.direction === "noise");
    const pairs = results().pairs.by_direction.find((p) => p.direction === "noise");
    expect(noise?.stage).toBe("pairs");
    expect(noise?.detail.effective_n).toBe(pairs?.effective_n);
    expect(findings.some((f) => f.severity === "error")).toBe(false);
    for (const f of findings.filter((x) => x.severity !== "info")) expect(trainedErr).toContain(f.message);
  });

  it("gives each component a status under the plan's SESOI; the counts sum to the family", () => {
    const r = results();
    expect(r.plan.sesoi).toBe(0.01);
    for (const d of r.directions) {
      for (const k of d.kinds) {
        const s = k.counts.status;
        expect(s).toBeDefined();
        expect((s?.important ?? 0) + (s?.negligible ?? 0) + (s?.inconclusive ?? 0)).toBe(k.counts.total);
        expect(s?.important).toBe(k.components.filter((c) => c.significant_corrected).length);
        for (const c of k.components) expect(c.status).toBeDefined();
      }
    }
  });

  it("records the alignment: mode, overlap quartiles and not-applicable rows", () => {
    const a = results().pairs.alignment;
    expect(a?.align).toBe("overlap");
    const n = results().pairs.by_direction.reduce((s, p) => s + p.n_pairs, 0);
    expect(a?.pairs).toBe(n);
    const o = a?.overlap;
    expect(o).not.toBeNull();
    expect(o!.min).toBeLessThanOrEqual(o!.q1);
    expect(o!.q1).toBeLessThanOrEqual(o!.median);
    expect(o!.median).toBeLessThanOrEqual(o!.q3);
    expect(o!.q3).toBeLessThanOrEqual(o!.max);
    expect(o!.max).toBeLessThanOrEqual(1);
    // JapaneseVowels has lengths 7–29: some pairs patch only part of the target.
    expect(a?.partial_pairs).toBeGreaterThan(0);
    expect(a?.partial_pairs).toBeLessThanOrEqual(n);
    // Whole-head patches always apply.
    expect(a?.not_applicable_rows).toEqual({ head: 0 });
  });

  it("runs its evaluation and sweeps within --memory-budget", async () => {
    const quietless = flags.filter((f) => f !== "--quiet");
    // The budget counts what the process already holds: leave room for about 130 rows of 297 KiB.
    const budget = `${Math.ceil(process.memoryUsage().rss / 2 ** 20) + 40}MiB`;
    const r = await study(["study", ...quietless, "--memory-budget", budget, "--out", "mb"]);
    expect(r.err).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const rows = /memory budget [\d.]+ [KMG]iB: (\d+) rows per call/.exec(r.err);
    expect(rows).not.toBeNull();
    expect(Number(rows?.[1])).toBeLessThan(256);
    // Smaller runtime batches change nothing but float rounding.
    const a = parseResults(text("a"), "a").directions[0].kinds[0].components;
    const b = parseResults(text("mb"), "mb").directions[0].kinds[0].components;
    for (let j = 0; j < a.length; j++) expect(b[j].mean).toBeCloseTo(a[j].mean, 6);
  }, 60_000);

  it("takes --sesoi into the plan and refuses a bad one", async () => {
    const bad = await study(["study", "--quick", "--sesoi", "-1", "--out", "bad-sesoi"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--sesoi must be a positive number/);
  });

  it("refuses a --max-position-units that is neither a positive integer nor all", async () => {
    for (const value of ["0", "2.5", "some"]) {
      const bad = await study(["study", "--quick", "--max-position-units", value, "--out", "bad-units"]);
      expect(bad.code).toBe(2);
      expect(bad.err).toMatch(
        /--max-position-units must be a positive integer or all[\s\S]*fix: .*or all to sweep every unit/,
      );
    }
  });
});
