import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hookGradients, logitDiffMetric, probabilityMetric } from "../../src/model/hook-gradients.js";
import type { HookName } from "../../src/model/hooks.js";
import { haveShared, referenceModel } from "../patching/reference-models.js";
import { smallModel } from "./fixtures.js";

interface GradientFixture {
  source: number;
  target: number;
  true_index: number;
  rows: { row: number; metric: number; grad_z: number[][]; grad_mlp_out: number[][]; grad_x: number[] }[];
}

/** Largest |got − want| relative to the largest |want| of the tensor (gradients span many scales). */
function relativeError(got: ArrayLike<number>, want: readonly number[]): number {
  let scale = 0;
  let err = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]));
    err = Math.max(err, Math.abs(got[i] - want[i]));
  }
  expect(got.length).toBe(want.length);
  return err / scale;
}

describe.skipIf(!haveShared)("hook gradients match PyTorch autograd on the reference checkpoints", () => {
  for (const [dataset, stem] of [
    ["JapaneseVowels", "japanesevowels"],
    ["PenDigits", "pendigits"],
  ] as const) {
    it(`d P(true) / d hook_z, hook_mlp_out and x for ${dataset}`, async () => {
      const fixture: GradientFixture = JSON.parse(
        readFileSync(
          join(import.meta.dirname, "..", "fixtures", "baselines", `gradients_${stem}.json`),
          "utf8",
        ),
      );
      const { model, inputs } = await referenceModel(dataset);
      const { seqLen: S, channels: C, layers: L } = model.config;
      const rows = fixture.rows.map((r) => r.row);
      const x = new Float32Array(rows.length * S * C);
      rows.forEach((r, i) => {
        x.set(inputs.x.subarray(r * S * C, (r + 1) * S * C), i * S * C);
      });
      const hooks: HookName[] = [];
      for (let l = 0; l < L; l++) hooks.push(`blocks.${l}.attn.hook_z`, `blocks.${l}.hook_mlp_out`);
      const r = await hookGradients(model, x, {
        hooks,
        metric: probabilityMetric(rows.map(() => fixture.true_index)),
        wrtInput: true,
      });
      fixture.rows.forEach((want, i) => {
        expect(Math.abs(r.metric[i] - want.metric)).toBeLessThan(1e-5);
        for (let l = 0; l < L; l++) {
          const z = r.grads[`blocks.${l}.attn.hook_z`] as Float32Array;
          const per = z.length / rows.length;
          expect(relativeError(z.subarray(i * per, (i + 1) * per), want.grad_z[l])).toBeLessThan(1e-4);
          const m = r.grads[`blocks.${l}.hook_mlp_out`] as Float32Array;
          expect(relativeError(m.subarray(i * per, (i + 1) * per), want.grad_mlp_out[l])).toBeLessThan(1e-4);
        }
        const gx = (r.inputGrad as Float32Array).subarray(i * S * C, (i + 1) * S * C);
        expect(relativeError(gx, want.grad_x)).toBeLessThan(1e-4);
      });
    });
  }
});

describe("the metric computed inside the gradient graph", () => {
  it("gives the host path's metric, logits and gradients for P(true) and the logit difference", async () => {
    const { model, inputs } = await smallModel();
    const { seqLen: S, channels: C } = model.config;
    const rows = [3, 40, 77, 150];
    const x = new Float32Array(rows.length * S * C);
    const mask = new Uint8Array(rows.length * S);
    rows.forEach((r, i) => {
      x.set(inputs.x.subarray(r * S * C, (r + 1) * S * C), i * S * C);
      mask.set((inputs.mask as Uint8Array).subarray(r * S, (r + 1) * S), i * S);
    });
    const hooks: HookName[] = ["blocks.0.attn.hook_z", "blocks.1.hook_mlp_out"];
    const metrics = [
      probabilityMetric(rows.map((r) => inputs.trueClass[r])),
      logitDiffMetric(
        rows.map((r) => inputs.trueClass[r]),
        rows.map((r) => (inputs.trueClass[r] + 4) % 9),
      ),
    ];
    for (const metric of metrics) {
      const host = await hookGradients(model, x, { hooks, metric, mask });
      const graph = await hookGradients(model, x, { hooks, metric, mask, metricInGraph: true });
      rows.forEach((_, i) => {
        expect(Math.abs(graph.metric[i] - host.metric[i])).toBeLessThan(
          1e-6 * Math.max(1, Math.abs(host.metric[i])),
        );
      });
      expect(relativeError(graph.logits, Array.from(host.logits))).toBeLessThan(1e-6);
      for (const h of hooks) {
        expect(
          relativeError(graph.grads[h] as Float32Array, Array.from(host.grads[h] as Float32Array)),
        ).toBeLessThan(1e-4);
        expect(
          relativeError(graph.values[h] as Float32Array, Array.from(host.values[h] as Float32Array)),
        ).toBeLessThan(1e-6);
      }
    }
  });
});
