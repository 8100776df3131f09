import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { memoryIO } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/main.js";
import { planMemory } from "../../src/cli/memory-plan.js";
import { InputError } from "../../src/errors.js";
import { Graph } from "../../src/graph/ir.js";
import { makeConfig } from "../../src/model/config.js";
import { HookedTST } from "../../src/model/hooked-tst.js";
import {
  cachedBytes,
  fitToBudget,
  fixedGradientRows,
  graphRowCost,
  rowsBesideFit,
  rowsWithin,
  tstRowCost,
  UNBUDGETED_GRADIENT_BYTES,
  unitsWithin,
} from "../../src/model/memory-cost.js";
import { saveModel } from "../../src/model/model-dir.js";
import { defaultMemoryBudget, parseMemorySize } from "../../src/runtime/memory-budget.js";

const tmp = mkdtempSync(join(tmpdir(), "tspatch-memory-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("memory sizes", () => {
  it("reads binary and decimal units", () => {
    expect(parseMemorySize("2GiB", "--memory-budget")).toBe(2 * 2 ** 30);
    expect(parseMemorySize("512MiB", "--memory-budget")).toBe(512 * 2 ** 20);
    expect(parseMemorySize("1.5GB", "--memory-budget")).toBe(1.5e9);
    expect(parseMemorySize("800M", "--memory-budget")).toBe(800 * 2 ** 20);
  });

  it.each(["4", "2 GiBs", "-1GiB", "0MiB", "lots"])("rejects %s naming the flag and the forms", (text) => {
    try {
      parseMemorySize(text, "--memory-budget");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      expect((error as Error).message).toMatch(/--memory-budget[\s\S]*2GiB/);
    }
  });

  it("defaults to half the free memory, at most 4 GiB", () => {
    expect(defaultMemoryBudget(2 * 2 ** 30)).toBe(2 ** 30);
    expect(defaultMemoryBudget(64 * 2 ** 30)).toBe(4 * 2 ** 30);
  });
});

describe("row cost of a graph", () => {
  it("is the largest set of per-row values alive at once", () => {
    // x [batch,4] → a = relu(x) [batch,4] → b = a·W [batch,16] → c = relu(b) → out = c·V [batch,2]
    const g = new Graph();
    const x = g.input("x", ["batch", 4]);
    const w = g.input("w", [4, 16]);
    const v = g.input("v", [16, 2]);
    const a = g.apply("Relu", [x]);
    const b = g.apply("MatMul", [a, w]);
    const c = g.apply("Relu", [b]);
    g.output("out", g.apply("MatMul", [c, v]));
    // Peak at c: x (fed, 16 B) + b (64 B, still read by c's node) + c (64 B); a died at b.
    expect(graphRowCost(g)).toEqual({ perRow: 16 + 64 + 64, fixed: (64 + 32) * 4 });
  });

  it("counts the attention pattern, which grows with steps²", () => {
    const small = tstRowCost(makeConfig({ channels: 1, seqLen: 200, classes: 2 }));
    const large = tstRowCost(makeConfig({ channels: 1, seqLen: 400, classes: 2 }));
    // At least scores and pattern of 8 heads alive together: 2 × 8 × S² floats.
    expect(small.perRow).toBeGreaterThanOrEqual(2 * 8 * 200 * 200 * 4);
    expect(large.perRow / small.perRow).toBeGreaterThan(3.5);
  });

  it("a train graph holds the forward's saved tensors as well", () => {
    const config = makeConfig({ channels: 1, seqLen: 100, classes: 2 });
    expect(tstRowCost(config, { mode: "train" }).perRow).toBeGreaterThan(2 * tstRowCost(config).perRow);
  });

  it("rows within a budget, and an error saying what one row needs", () => {
    const cost = { perRow: 100, fixed: 50 };
    expect(rowsWithin(cost, 1000, 300, 256, "--memory-budget")).toBe(6);
    expect(rowsWithin(cost, 1e9, 0, 256, "--memory-budget")).toBe(256);
    expect(() => rowsWithin(cost, 400, 300, 256, "--memory-budget")).toThrow(
      /one row needs 1 KiB[\s\S]*--memory-budget[\s\S]*--resample/,
    );
  });
});

describe("fitting a model to a budget", () => {
  const model = HookedTST.fromConfig(makeConfig({ channels: 1, seqLen: 6, classes: 2 }), 0);
  const cost = { perRow: 2 ** 20, fixed: 0 };

  it("a roomy budget keeps the arena and the cap", () => {
    const fit = fitToBudget(model, cost, 2 ** 40, 64, "--memory-budget");
    expect(fit).toMatchObject({ rows: 64, arena: true, binds: false });
    expect(fit.model).toBe(model);
  });

  it("a tight budget cuts the rows and moves the model to a runtime without the arena", () => {
    const budget = process.memoryUsage().rss + 200 * 2 ** 20;
    const fit = fitToBudget(model, cost, budget, 256, "--memory-budget");
    expect(fit.rows).toBeGreaterThan(100);
    expect(fit.rows).toBeLessThan(201);
    expect(fit.arena).toBe(false);
    expect(fit.model.runtime.memoryArena).toBe(false);
    expect(fit.model.chunkSize).toBe(fit.rows);
    expect(fit.model.params).toBe(model.params);
  });

  it("a default budget too small for one row still runs one row; a given one is an error", () => {
    expect(fitToBudget(model, cost, 1, 256, "--memory-budget", { strict: false }).rows).toBe(1);
    expect(() => fitToBudget(model, cost, 1, 256, "--memory-budget")).toThrow(/one row needs/);
  });
});

describe("backward rows without a budget", () => {
  it("depend on the model's shape only: the cap on short series, a 2 GiB call on long ones", () => {
    const short = makeConfig({ channels: 12, seqLen: 25, classes: 9 });
    expect(fixedGradientRows(short, true, 128)).toBe(128);
    const long = makeConfig({ channels: 1, seqLen: 1500, classes: 2 });
    const rows = fixedGradientRows(long, false, 128);
    const perRow = tstRowCost(long, { mode: "train", dropout: false }).perRow;
    expect(rows).toBeGreaterThanOrEqual(1);
    expect(rows).toBeLessThan(128);
    expect(rows * perRow * 1.1).toBeLessThanOrEqual(UNBUDGETED_GRADIENT_BYTES);
    expect((rows + 1) * perRow * 1.1).toBeGreaterThan(UNBUDGETED_GRADIENT_BYTES - 2 ** 24);
  });
});

describe("rows of a backward graph beside a fit", () => {
  const fit = { rows: 4, cost: { perRow: 100, fixed: 50 }, inUse: 300, arena: false } as Parameters<
    typeof rowsBesideFit
  >[0];
  const backward = { perRow: 1000, fixed: 200 };

  it("fit the budget with the executor's 10 % slack, twice over with the arena on", () => {
    // (20,000 − 300 − 200) / 1,100 = 17.7; with the arena (20,000 − 500) / 2,200 = 8.9
    expect(rowsBesideFit(fit, backward, 20_000, 128, "--memory-budget")).toBe(17);
    expect(rowsBesideFit({ ...fit, arena: true }, backward, 20_000, 128, "--memory-budget")).toBe(8);
    expect(rowsBesideFit(fit, backward, 1e9, 128, "--memory-budget")).toBe(128);
  });

  it("a given budget too small for one row is an error naming the flag; a default one runs one row", () => {
    expect(() => rowsBesideFit(fit, backward, 1_000, 128, "--memory-budget")).toThrow(/--memory-budget/);
    expect(rowsBesideFit(fit, backward, 1_000, 128, "--memory-budget", { strict: false })).toBe(1);
  });

  it("a plan says whether two calls of its rows fit at once (a sweep's halves side by side)", () => {
    const model = HookedTST.fromConfig(makeConfig({ channels: 2, seqLen: 200, classes: 3 }), 0);
    const cost = tstRowCost(model.config);
    expect(planMemory(model, cost, { bytes: 2 ** 40, strict: true }, 256).halvesFit).toBe(true);
    // Room for about 60 rows: the plan takes them all for one call, so two calls do not fit.
    const tight = process.memoryUsage().rss + cost.fixed + 60 * 1.1 * cost.perRow;
    const plan = planMemory(model, cost, { bytes: tight, strict: true }, 256);
    expect(plan.rows).toBeGreaterThan(20);
    expect(plan.halvesFit).toBe(false);
  });

  it("a plan's backward rows are fewer than its forward rows: a training graph holds more per row", () => {
    const model = HookedTST.fromConfig(makeConfig({ channels: 2, seqLen: 200, classes: 3 }), 0);
    const budget = process.memoryUsage().rss + 64 * 2 ** 20;
    const plan = planMemory(model, tstRowCost(model.config), { bytes: budget, strict: true }, 256);
    const backwardRows = plan.gradientRows(false, 128);
    expect(backwardRows).toBeGreaterThanOrEqual(1);
    expect(backwardRows).toBeLessThan(plan.rows);
    const perRow = tstRowCost(model.config, { mode: "train", dropout: false }).perRow;
    expect(backwardRows * perRow).toBeLessThan(64 * 2 ** 20);
  });
});

describe("pairs per sweep chunk under a budget", () => {
  it("fit what the runtime calls leave, at least 1, at most the cap; the arena counts the rows twice", () => {
    const fit = { rows: 4, cost: { perRow: 100, fixed: 50 }, inUse: 300, arena: false };
    const f = fit as Parameters<typeof unitsWithin>[0];
    expect(unitsWithin(f, 1000, 50, 16)).toBe(5); // (1000 − 300 − 50 − 400) / 50
    expect(unitsWithin(f, 1000, 50, 3)).toBe(3);
    expect(unitsWithin(f, 800, 50, 16)).toBe(1);
    expect(unitsWithin({ ...f, arena: true }, 1000, 50, 16)).toBe(1);
  });

  it("a pair caches its two inputs' hooks: the plan's chunks are a power of two that fits", () => {
    const config = makeConfig({ channels: 1, seqLen: 2000, classes: 2 });
    const hooks = ["blocks.0.hook_resid_pre", "blocks.0.attn.hook_z"] as const;
    expect(cachedBytes(config, [...hooks])).toBe(2 * 2000 * config.dModel * 4);
    const model = HookedTST.fromConfig(config, 0);
    const cost = { perRow: 2 ** 20, fixed: 0 };
    const perPair = 2 * cachedBytes(config, [...hooks]);
    // Room for one row (with the executor's slack) and 11.5 pairs: chunks of 8.
    const budget = process.memoryUsage().rss + 1.1 * 2 ** 20 + 11.5 * perPair;
    const plan = planMemory(model, cost, { bytes: budget, strict: true }, 1);
    expect(plan.pairsPerChunk([...hooks], 16)).toBe(8);
    expect(planMemory(model, cost, { bytes: 2 ** 40, strict: true }, 1).pairsPerChunk([...hooks], 16)).toBe(
      16,
    );
    // The default budget is a preference: it never shrinks the chunks.
    expect(planMemory(model, cost, { bytes: budget, strict: false }, 1).pairsPerChunk([...hooks], 16)).toBe(
      16,
    );
  });
});

describe("--memory-budget on the commands", () => {
  const config = makeConfig({ channels: 1, seqLen: 6, classes: 2 });
  const labelMap = { kind: "dense" as const, classes: ["a", "b"], outputs: 2 };
  const modelDir = join(tmp, "model");
  saveModel(HookedTST.fromConfig(config, 3, { labelMap }), modelDir);
  const data = join(tmp, "Tiny_TEST.ts");
  const cases = Array.from({ length: 6 }, (_, i) => {
    const series = Array.from({ length: 6 }, (_, t) => Math.sin(t * (i + 1) * 0.7).toFixed(4));
    return `${series.join(",")}:${i % 2 === 0 ? "a" : "b"}`;
  });
  writeFileSync(
    data,
    `@problemName Tiny\n@univariate true\n@equalLength true\n@seriesLength 6\n@classLabel true a b\n@data\n${cases.join("\n")}\n`,
  );

  it("a bad size exits 2 naming the flag and the valid forms", async () => {
    const io = memoryIO();
    expect(await runCli(["eval", "--model", modelDir, "--data", data, "--memory-budget", "4"], io)).toBe(2);
    expect(io.err.join("")).toMatch(/--memory-budget[\s\S]*512MiB, 2GiB/);
  });

  it("a budget one row cannot fit exits 2 with what a row needs and the options", async () => {
    const io = memoryIO();
    expect(await runCli(["eval", "--model", modelDir, "--data", data, "--memory-budget", "1MiB"], io)).toBe(
      2,
    );
    expect(io.err.join("")).toMatch(
      /one row needs [\d.]+ KiB[\s\S]*give --memory-budget [\d.]+ MiB or more[\s\S]*--resample/,
    );
  });

  it("a sweep split into one-row calls gives the rows of the unsplit sweep", async () => {
    writeFileSync(join(tmp, "pairs.csv"), "source,target\n0,1\n3,2\n5,4\n");
    const run = async (extra: string[], out: string) => {
      const io = memoryIO({ cwd: tmp });
      const argv = ["sweep", "--model", modelDir, "--data", data, "--pairs-file", "pairs.csv"];
      expect(await runCli([...argv, "--out", out, "--quiet", ...extra], io)).toBe(0);
      return readFileSync(join(tmp, out), "utf8").trim().split("\n");
    };
    const whole = await run(["--memory-budget", "4GiB"], "whole.csv");
    const split = await run(["--batch-rows", "1", "--pairs-per-batch", "1"], "split.csv");
    expect(split.length).toBe(whole.length);
    expect(whole.length).toBe(1 + 3 * 24);
    const header = whole[0].split(",");
    expect(split[0]).toBe(whole[0]);
    for (let i = 1; i < whole.length; i++) {
      const a = whole[i].split(",");
      const b = split[i].split(",");
      a.forEach((cell, j) => {
        const x = Number(cell);
        // Probabilities to 1e-6; logits, KL and recovery (dp_true over the pair's p_true gap,
        // which scales the difference up) to 1e-5, as invariants.test.ts.
        const tolerance = header[j] === "dp_true" ? 1e-6 : 1e-5;
        if (cell !== "" && Number.isFinite(x))
          expect(Math.abs(x - Number(b[j])), header[j]).toBeLessThan(tolerance);
        else expect(b[j]).toBe(cell);
      });
    }
  });
});
