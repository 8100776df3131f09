import { describe, expect, it } from "vitest";
import { formatCalibrationTable, runCalibration } from "../../src/stats/calibration.js";

// A small, fast version of scripts/calibration.ts. Seeded, so deterministic; the bounds are
// wide Monte Carlo intervals (a correct method fails them with probability < 1e-3 per cell),
// while a broken test (wrong p-value scale, wrong tail) or a broken BCa misses them by far.
describe("calibration by simulation (small)", () => {
  const report = runCalibration({
    sims: 800,
    ns: [10, 20],
    distributions: ["normal", "heavy-tailed"],
    permResamples: 199,
    fdr: { m: 50, pi0: [1, 0.8], q: [0.1], sims: 300 },
    coverage: { ns: [50], sims: 400, resamples: 1000 },
    seed: 7,
  });

  it("type-I error of t, Wilcoxon and sign-flip tests is near alpha under symmetric nulls", () => {
    const z = 3.29; // 99.9% two-sided
    const band = z * Math.sqrt((0.05 * 0.95) / 800);
    expect(report.typeI).toHaveLength(12);
    for (const row of report.typeI) {
      expect(
        Math.abs(row.rate - 0.05),
        `${row.test} ${row.distribution} n=${row.n}: ${row.rate}`,
      ).toBeLessThan(band);
    }
  });

  it("BH keeps the FDR at or below pi0*q", () => {
    for (const row of report.fdr) {
      expect(row.fdr, `${row.method} pi0=${row.pi0}`).toBeLessThanOrEqual(row.bound + 3.29 * row.se + 1e-12);
    }
    const bh = report.fdr.find((r) => r.method === "bh" && r.pi0 === 0.8)!;
    expect(bh.fdr).toBeGreaterThan(0.02); // not vacuous: BH does make (few) false discoveries
  });

  it("BCa 95% intervals cover the mean about 95% of the time at n = 50 (normal)", () => {
    // Full study (scripts/calibration.ts): 94.1% for normal n = 50, but 91-92% at n = 20 and
    // about 90% for t(3) effects, the known small-sample undercoverage of bootstrap intervals.
    const normal = report.coverage.find((r) => r.distribution === "normal")!;
    expect(normal.coverage).toBeGreaterThan(0.9);
    expect(normal.coverage).toBeLessThan(0.985);
    const heavy = report.coverage.find((r) => r.distribution === "heavy-tailed")!;
    expect(heavy.coverage).toBeGreaterThan(0.84);
  });

  it("formats a table", () => {
    const text = formatCalibrationTable(report);
    expect(text).toMatch(/\| t \| normal \| mean \| 10 \|/);
    expect(text).not.toMatch(/NaN/);
  });
});
