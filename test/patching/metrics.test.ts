import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { effectMetrics, klDivergence, logSoftmax, score, softmax } from "../../src/patching/metrics.js";

interface Case {
  patched: number[];
  source: number[];
  target: number[];
  true_class: number;
  good_class: number;
  bad_class: number;
  dp_true: number;
  recovery_p_true: number | null;
  recovery_logit_diff: number | null;
  logit_diff: number;
  d_logit_diff: number;
  kl_source: number;
}

// scripts/fixtures/path_patch_fixtures.py (scipy.special.softmax, scipy.stats.entropy), seed 20261125.
const fixture: { cases: Case[] } = JSON.parse(
  readFileSync(join(import.meta.dirname, "..", "fixtures", "patching", "metrics.json"), "utf8"),
);

describe("effect metrics", () => {
  it("match scipy on random logits, both recovery bases", () => {
    expect(fixture.cases.length).toBeGreaterThan(10);
    for (const c of fixture.cases) {
      const classes = { trueClass: c.true_class, goodClass: c.good_class, badClass: c.bad_class };
      const args = [score(c.patched), score(c.source), score(c.target), classes] as const;
      const p = effectMetrics(...args, "p_true");
      const l = effectMetrics(...args, "logit_diff");
      expect(p.dpTrue).toBeCloseTo(c.dp_true, 12);
      expect(p.logitDiff).toBeCloseTo(c.logit_diff, 12);
      expect(p.dLogitDiff).toBeCloseTo(c.d_logit_diff, 12);
      expect(p.klSource).toBeCloseTo(c.kl_source, 10);
      if (c.recovery_p_true === null) expect(p.recovery).toBeNull();
      else expect(p.recovery).toBeCloseTo(c.recovery_p_true, 8);
      if (c.recovery_logit_diff === null) expect(l.recovery).toBeNull();
      else expect(l.recovery).toBeCloseTo(c.recovery_logit_diff, 8);
    }
  });

  it("marks recovery undefined (null, never NaN) when source and target agree", () => {
    const same = score([1, 2, 3]);
    const m = effectMetrics(score([3, 2, 1]), same, same, { trueClass: 0, goodClass: 0, badClass: 2 });
    expect(m.recovery).toBeNull();
    expect(Number.isNaN(m.dpTrue)).toBe(false);
  });

  it("softmax does not overflow and KL of identical distributions is 0", () => {
    const p = softmax([1000, 1000]);
    expect(Array.from(p)).toEqual([0.5, 0.5]);
    expect(klDivergence(logSoftmax([5, -3, 2]), logSoftmax([5, -3, 2]))).toBe(0);
    expect(klDivergence(logSoftmax([0, -800]), logSoftmax([0, 0]))).toBeCloseTo(Math.log(2), 12);
  });
});
