import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { RAdam } from "../../src/train/radam.js";

// Fixture: scripts/fixtures/radam_fixture.py (torch.optim.RAdam, PyTorch 1.13, float32).
interface Snapshot {
  rho_t: number;
  params: Record<string, number[]>;
  exp_avg: Record<string, number[]>;
  exp_avg_sq: Record<string, number[]>;
}
interface Setting {
  name: string;
  lr: number;
  weight_decay: number;
  betas: [number, number];
  eps: number;
  steps: Snapshot[];
}
const fixture = JSON.parse(
  readFileSync(new URL("../fixtures/train/radam.json", import.meta.url), "utf8"),
) as {
  initial: Record<string, number[]>;
  grads: Record<string, number[]>[];
  settings: Setting[];
};

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe("RAdam matches torch.optim.RAdam (PyTorch 1.13)", () => {
  for (const setting of fixture.settings) {
    it(`${setting.name}: 10 steps, both branches, params and moments within 1e-6`, () => {
      const branches = setting.steps.map((s) => s.rho_t > 5);
      expect(branches.slice(0, 5)).toEqual([false, false, false, false, false]);
      expect(branches.slice(5)).toEqual([true, true, true, true, true]);
      const params = new Map(Object.entries(fixture.initial).map(([k, v]) => [k, Float32Array.from(v)]));
      const opt = new RAdam(params, {
        lr: setting.lr,
        betas: setting.betas,
        eps: setting.eps,
        weightDecay: setting.weight_decay,
      });
      let worst = 0;
      setting.steps.forEach((want, t) => {
        opt.step(new Map(Object.entries(fixture.grads[t]).map(([k, v]) => [k, Float32Array.from(v)])));
        const state = opt.saveState();
        for (const name of params.keys()) {
          worst = Math.max(worst, maxAbsDiff(params.get(name)!, want.params[name]));
          expect(maxAbsDiff(state.expAvg.get(name)!, want.exp_avg[name])).toBeLessThan(1e-6);
          expect(maxAbsDiff(state.expAvgSq.get(name)!, want.exp_avg_sq[name])).toBeLessThan(1e-6);
        }
      });
      expect(worst).toBeLessThan(1e-6);
      // The parameters did move (so the comparison above is not vacuous).
      expect(maxAbsDiff(params.get("w")!, fixture.initial.w)).toBeGreaterThan(1e-3);
    });
  }

  it("resumes from a saved state exactly", () => {
    const s = fixture.settings[0];
    const run = (splitAt: number | null) => {
      const params = new Map(Object.entries(fixture.initial).map(([k, v]) => [k, Float32Array.from(v)]));
      let opt = new RAdam(params, { lr: s.lr, weightDecay: s.weight_decay });
      fixture.grads.forEach((g, t) => {
        if (t === splitAt) {
          const saved = opt.saveState();
          opt = new RAdam(params, { lr: s.lr, weightDecay: s.weight_decay });
          opt.loadState(saved);
        }
        opt.step(new Map(Object.entries(g).map(([k, v]) => [k, Float32Array.from(v)])));
      });
      return params;
    };
    const a = run(null);
    const b = run(7);
    for (const k of a.keys()) expect(Array.from(b.get(k)!)).toEqual(Array.from(a.get(k)!));
  });

  it("rejects a missing or mis-sized gradient without changing anything", () => {
    const params = new Map([["w", Float32Array.from([1, 2])]]);
    const opt = new RAdam(params);
    expect(() => opt.step(new Map())).toThrow('no gradient for parameter "w"');
    expect(() => opt.step(new Map([["w", new Float32Array(3)]]))).toThrow("3 elements");
    expect(opt.stepCount).toBe(0);
    expect(Array.from(params.get("w")!)).toEqual([1, 2]);
    expect(() => new RAdam(params, { lr: -1 })).toThrow("`lr` must be a positive");
  });
});
