import { describe, expect, it } from "vitest";
import { memoryIO } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/main.js";
import { predict } from "../../src/patching/build-pairs.js";
import { makePairs } from "../../src/patching/pairs.js";
import { parsePerturbations, perturbRows } from "../../src/stability/perturb.js";
import { rankAgreement } from "../../src/stability/rank-agreement.js";
import { runStability } from "../../src/stability/run-stability.js";
import { seedStability } from "../../src/stability/seed-stability.js";
import { smallModel, somePairs } from "../baselines/fixtures.js";

const S = 6;
const C = 2;
/** Two rows: lengths 6 and 4 (the last two steps of row 1 are padding). */
function table() {
  const x = new Float32Array(2 * S * C);
  for (let t = 0; t < S; t++) {
    for (let c = 0; c < C; c++) {
      x[t * C + c] = 10 * t + c + 1;
      if (t < 4) x[(S + t) * C + c] = -(10 * t + c + 1);
    }
  }
  return { x, lengths: [6, 4], rows: 2 };
}

describe("perturbations", () => {
  it("strength 0 gives the input back bit for bit, for every kind", () => {
    const t = table();
    for (const p of parsePerturbations(["gaussian:0", "time-warp:0", "shift:0", "shift-edge:0"])) {
      expect(perturbRows(t, S, C, p, 1)).toEqual(t.x);
    }
  });

  it("keeps padding at 0 and shifts within each series' real length", () => {
    const t = table();
    const circular = perturbRows(t, S, C, { kind: "shift", strength: 1 }, 0);
    // Row 1 (length 4): x'[t] = x[(t − 1) mod 4]; padded steps stay 0.
    expect(Array.from(circular.subarray(S * C, S * C + 8))).toEqual([-31, -32, -1, -2, -11, -12, -21, -22]);
    expect(Array.from(circular.subarray(S * C + 8))).toEqual([0, 0, 0, 0]);
    const edge = perturbRows(t, S, C, { kind: "shift-edge", strength: 2 }, 0);
    expect(Array.from(edge.subarray(0, 8))).toEqual([1, 2, 1, 2, 1, 2, 11, 12]);
    for (const kind of ["gaussian", "time-warp"] as const) {
      const out = perturbRows(t, S, C, { kind, strength: 0.3 }, 5);
      expect(Array.from(out.subarray(S * C + 8))).toEqual([0, 0, 0, 0]);
      expect(out).not.toEqual(t.x);
    }
  });

  it("time warps keep both ends and stay within the series' range; draws are seeded", () => {
    const t = table();
    const a = perturbRows(t, S, C, { kind: "time-warp", strength: 0.5 }, 7);
    expect(perturbRows(t, S, C, { kind: "time-warp", strength: 0.5 }, 7)).toEqual(a);
    expect(perturbRows(t, S, C, { kind: "time-warp", strength: 0.5 }, 8)).not.toEqual(a);
    expect(a[0]).toBe(1);
    expect(a[(S - 1) * C]).toBeCloseTo(51, 4);
    for (let i = 0; i < S; i++) expect(a[i * C]).toBeGreaterThanOrEqual(1 - 1e-6);
    // Monotone in time (the series itself is increasing).
    for (let i = 1; i < S; i++) expect(a[i * C]).toBeGreaterThanOrEqual(a[(i - 1) * C] - 1e-5);
  });

  it("Gaussian noise is σ × each channel's std, with the same draws at every strength", () => {
    const t = table();
    const small = perturbRows(t, S, C, { kind: "gaussian", strength: 0.1 }, 3);
    const large = perturbRows(t, S, C, { kind: "gaussian", strength: 0.2 }, 3);
    for (let i = 0; i < 4 * C; i++) {
      expect(large[S * C + i] - t.x[S * C + i]).toBeCloseTo(2 * (small[S * C + i] - t.x[S * C + i]), 4);
    }
  });

  it("rejects unknown kinds and out-of-range strengths, naming the flag and the valid forms", () => {
    expect(() => parsePerturbations(["blur:1"])).toThrow(
      /unknown perturbation "blur".*\(--perturb\)[\s\S]*gaussian:σ/,
    );
    expect(() => parsePerturbations(["gaussian:9"])).toThrow(/out of range: a number in 0..5/);
    expect(() => parsePerturbations(["shift:1.5"])).toThrow(/whole number of steps/);
    expect(() => parsePerturbations(["time-warp"])).toThrow(/needs strengths/);
  });
});

describe("rank agreement", () => {
  it("is 1 with a degenerate CI for identical matrices, and bootstraps over units", () => {
    const a = Float64Array.from({ length: 30 }, (_, i) => Math.sin(i * 1.3) + (i % 5));
    const same = rankAgreement(a, a, 5, { resamples: 200 });
    expect(same.spearman.estimate).toBeCloseTo(1, 12);
    expect(same.spearman.ci.low).toBeCloseTo(1, 12);
    expect(same.topKJaccard).toEqual({ "3": 1, "5": 1 });
    const reversed = rankAgreement(
      a,
      a.map((v) => -v),
      5,
      { resamples: 200 },
    );
    expect(reversed.spearman.estimate).toBeCloseTo(-1, 12);
    expect(reversed.kendall.estimate).toBeCloseTo(-1, 12);
  });
});

describe("runStability", () => {
  it("strength 0 reproduces the unperturbed ranking exactly; results are JSON and seeded", async () => {
    const { model, inputs } = await smallModel();
    const predicted = await predict(model, inputs.x, inputs.mask);
    const { pairs } = makePairs(
      "misclassified",
      { trueClass: inputs.trueClass, predicted },
      { maxTargetsPerClass: 1, direction: "both" },
    );
    const options = {
      perturbations: parsePerturbations(["gaussian:0,0.3", "shift:0"]),
      resamples: 200,
      resamplingDraws: 100,
    };
    const r = await runStability(model, inputs, pairs, options);
    for (const p of r.perturbations.filter((q) => q.perturbation.strength === 0)) {
      expect(p.pairsSurviving).toBe(pairs.length);
      expect(p.accuracyDrop).toBe(0);
      for (const d of p.directions) {
        expect(d.agreement?.spearman.estimate).toBeCloseTo(1, 12);
        expect(d.agreement?.kendall.estimate).toBeCloseTo(1, 12);
        const clean = r.unperturbed.find((u) => u.direction === d.direction);
        expect(d.meanEffects).toEqual(clean?.meanEffects);
        expect(d.significantAfter).toEqual(d.significantBefore);
      }
    }
    const noisy = r.perturbations.find((q) => q.label === "gaussian:0.3");
    expect(noisy?.directions[0]?.meanEffects).not.toEqual(r.unperturbed[0].meanEffects);
    expect(r.resampling[0].topKProbability["3"].reduce((s, v) => s + v, 0)).toBeCloseTo(3, 9);
    // Probabilities are counts over draws, exactly: never above 1 by accumulated rounding.
    for (const res of r.resampling) {
      for (const p of [...Object.values(res.topKProbability).flat(), ...res.significantProbability]) {
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThanOrEqual(1);
        expect(p).toBe(Math.round(p * res.draws) / res.draws);
      }
    }
    const again = await runStability(model, inputs, pairs, options);
    expect(JSON.parse(JSON.stringify({ ...again, seconds: 0 }))).toEqual(
      JSON.parse(JSON.stringify({ ...r, seconds: 0 })),
    );
  });

  it("seed stability compares per-layer profiles, never heads one by one", async () => {
    const a = await smallModel(3);
    const b = await smallModel(4);
    const r = await seedStability([
      { label: "seed-3", ...a, pairs: somePairs(a.inputs, 4) },
      { label: "seed-4", ...b, pairs: somePairs(b.inputs, 4) },
    ]);
    expect(r.profiles).toHaveLength(2);
    for (const p of r.profiles) expect(p.layerShare.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 9);
    expect(r.note).toMatch(/not aligned across seeds/);
    expect(r.layerShareSummary[0].maxDifference).toBeGreaterThanOrEqual(0);
  });
});

describe("tspatch stability / baselines: bad input", () => {
  it("exits 2 naming --perturb and listing the valid forms", async () => {
    const io = memoryIO();
    const code = await runCli(
      ["stability", "--model", "x", "--data", "JapaneseVowels", "--perturb", "wobble:1"],
      io,
    );
    expect(code).toBe(2);
    const err = io.err.join("");
    expect(err).toMatch(/--perturb/);
    expect(err).toMatch(/gaussian:σ.*time-warp:w.*shift:k/);
    const range = memoryIO();
    expect(
      await runCli(
        ["stability", "--model", "x", "--data", "JapaneseVowels", "--perturb", "gaussian:-1"],
        range,
      ),
    ).toBe(2);
    expect(range.err.join("")).toMatch(/out of range/);
  });

  it("exits 2 on a too small --ig-steps", async () => {
    const io = memoryIO();
    expect(
      await runCli(["baselines", "--model", "x", "--data", "JapaneseVowels", "--ig-steps", "8"], io),
    ).toBe(2);
    expect(io.err.join("")).toMatch(/--ig-steps must be an integer ≥ 32/);
  });
});
