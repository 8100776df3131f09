import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { attentionScores } from "../../src/baselines/attention-scores.js";
import { attributionPatching, headTerms } from "../../src/baselines/attribution-patching.js";
import { gaussLegendre } from "../../src/baselines/gauss-legendre.js";
import { integratedGradients } from "../../src/baselines/integrated-gradients.js";
import { overlapSteps } from "../../src/baselines/pair-rows.js";
import { randomPatchingNull } from "../../src/baselines/random-null.js";
import { runBaselines } from "../../src/baselines/run-baselines.js";
import { grad } from "../../src/graph/autodiff.js";
import type { Value } from "../../src/graph/ir.js";
import { mul, reduceSum } from "../../src/graph/ops/index.js";
import { HookedTST } from "../../src/model/hooked-tst.js";
import { buildTSTGraph } from "../../src/model/tst-graph.js";
import { cacheRows } from "../../src/patching/engine.js";
import { presetComponents } from "../../src/patching/presets.js";
import { rowEffect, sweep } from "../../src/patching/sweep.js";
import type { Pair } from "../../src/patching/types.js";
import { CompiledGraph } from "../../src/runtime/session.js";
import { haveShared, referenceModel } from "../patching/reference-models.js";
import { sameLengthPairs, smallModel, somePairs } from "./fixtures.js";

describe("Gauss–Legendre quadrature", () => {
  it("has the closed-form 2-point rule and integrates polynomials of degree 2n − 1 exactly", () => {
    const two = gaussLegendre(2);
    expect(two.nodes[0]).toBeCloseTo(0.5 - 0.5 / Math.sqrt(3), 15);
    expect(two.weights[1]).toBeCloseTo(0.5, 15);
    for (const n of [1, 3, 8, 32, 64]) {
      const { nodes, weights } = gaussLegendre(n);
      for (const degree of [0, 1, 2 * n - 1]) {
        const sum = nodes.reduce((s, x, i) => s + weights[i] * x ** degree, 0);
        expect(Math.abs(sum - 1 / (degree + 1))).toBeLessThan(1e-13);
      }
      if (n <= 3) {
        // Degree 2n is not integrated exactly: the rule is not accidentally of higher order.
        const over = nodes.reduce((s, x, i) => s + weights[i] * x ** (2 * n), 0);
        expect(Math.abs(over - 1 / (2 * n + 1))).toBeGreaterThan(1e-4);
      }
    }
  });
});

describe("attribution patching", () => {
  it("agrees with exact patching when the source is close to the target (first-order regime)", async () => {
    const { model, inputs } = await smallModel();
    const { seqLen: S, channels: C } = model.config;
    const target = 12;
    const other = 200;
    const rows = inputs.rows;
    // Two extra rows: the target moved ε of the way to another input (same length mask), and
    // far (ε = 1 of a different input) where the first-order estimate must be visibly off.
    const x = new Float32Array((rows + 2) * S * C);
    x.set(inputs.x);
    const eps = [0.4, 0.8];
    eps.forEach((e, k) => {
      for (let i = 0; i < S * C; i++) {
        const t = inputs.x[target * S * C + i];
        x[(rows + k) * S * C + i] = t + e * (inputs.x[other * S * C + i] - t);
      }
    });
    const mask = new Uint8Array((rows + 2) * S);
    mask.set(inputs.mask as Uint8Array);
    for (let k = 0; k < 2; k++)
      mask.set((inputs.mask as Uint8Array).subarray(target * S, (target + 1) * S), (rows + k) * S);
    const table = { x, mask, rows: rows + 2 };
    const y = inputs.trueClass[target];
    const pairs: Pair[] = [0, 1].map((k) => ({
      id: k,
      source: rows + k,
      target,
      direction: "denoise",
      trueClass: y,
      goodClass: y,
      badClass: 0,
    }));
    const atp = await attributionPatching(model, table, pairs);
    const exact = await sweep(model, table, pairs, { components: presetComponents(model.config, "heads") });
    const m = exact.rows.length / 2;
    const error = [0, 1].map((k) => {
      let worst = 0;
      let scale = 0;
      for (let j = 0; j < m; j++) {
        worst = Math.max(worst, Math.abs(rowEffect(exact.rows[k * m + j], "dpTrue") - atp.heads[k * m + j]));
        scale = Math.max(scale, Math.abs(rowEffect(exact.rows[k * m + j], "dpTrue")));
      }
      return { worst, scale };
    });
    // The random model's effects are small (≈1e-4), float32 rounding of P is ≈1e-8.
    expect(error[0].scale).toBeGreaterThan(5e-5);
    expect(error[0].worst).toBeLessThan(1e-3 * error[0].scale);
    // Twice as far: the error grows much faster than the effect (curvature), so the check can fail.
    expect(error[1].worst / error[1].scale).toBeGreaterThan(10 * (error[0].worst / error[0].scale));
  });

  it("equals the exact effect of every head when the metric is linear in z", async () => {
    // The network after hook_z is never linear in z (post-norm LayerNorms, the MLP's ReLU, the
    // max-pool; a LayerNorm cannot be made linear by any choice of weights), so the metric is
    // made linear instead: M = Σ C ⊙ hook_attn_out of the last layer, attn_out = z W_Oᵀ + b_O
    // through the model's own graph from hook_z (its head layout and W_O), C a fixed pattern of
    // both signs. ∂M/∂z comes from the project's autodiff, the estimate from headTerms (what
    // attributionPatching sums per head), the exact effect of each head from runs of the same
    // graph with that head's slice of z taken from the source at the steps real in both inputs
    // (pairs of different lengths, so the step mask matters). A first-order estimate of a linear
    // metric has no remainder: the two agree to float32 rounding, and a wrong sign, head slice,
    // step mask or gradient would not.
    const { model, inputs } = await smallModel();
    const { seqLen: S, dModel: D, heads: H, layers: L } = model.config;
    const dh = D / H;
    const z = `blocks.${L - 1}.attn.hook_z` as const;
    const residPre = `blocks.${L - 1}.hook_resid_pre` as const;
    const attnOut = `blocks.${L - 1}.hook_attn_out` as const;
    const pairs = somePairs(inputs, 3);
    expect(pairs.some((p) => inputs.lengths[p.source] !== inputs.lengths[p.target])).toBe(true);
    const cache = await cacheRows(
      model,
      inputs,
      pairs.flatMap((p) => [p.source, p.target]),
      [z, residPre],
    );

    const { graph: g } = buildTSTGraph(model.config, { startAt: z, cache: [attnOut] });
    const weights = g.input("metric:c", ["batch", S, D]);
    const perRow = reduceSum(mul(g.outputs.get(attnOut) as Value, weights), [1, 2], false);
    const [gradZ] = grad(reduceSum(perRow, [0], false), [g.getInput(`start:${z}`) as Value]);
    g.output("metric", perRow);
    g.output("grad", gradZ);
    const session = await model.runtime.compile(g, ["metric", "grad"]);

    // Rows per pair: the target, then the target with head h's slice from the source (h = 0..H−1).
    const rows = pairs.length * (1 + H);
    const zFeed = new Float32Array(rows * S * D);
    const residFeed = new Float32Array(rows * S * D);
    const c = Float32Array.from({ length: rows * S * D }, (_, i) => Math.sin(1 + (((i % (S * D)) * 7) % 61)));
    const stepsOf = pairs.map((p) => overlapSteps(inputs, p, S));
    pairs.forEach((pair, i) => {
      const zs = cache.act(pair.source, z);
      const zt = cache.act(pair.target, z);
      for (let k = 0; k <= H; k++) {
        const r = i * (1 + H) + k;
        zFeed.set(zt, r * S * D);
        residFeed.set(cache.act(pair.target, residPre), r * S * D);
        if (k === 0) continue;
        const h = k - 1;
        for (let s = 0; s < S; s++) {
          if (stepsOf[i][s] === 0) continue;
          const o = s * D + h * dh;
          zFeed.set(zs.subarray(o, o + dh), r * S * D + o);
        }
      }
    });
    const out = await session.run({
      ...model.weightFeeds(),
      [`start:${z}`]: { data: zFeed, dims: [rows, S, H, dh] },
      [`start:${residPre}`]: { data: residFeed, dims: [rows, S, D] },
      "metric:c": { data: c, dims: [rows, S, D] },
    });
    const metric = out.metric.data as Float32Array;
    const gz = out.grad.data as Float32Array;
    const exact: number[] = [];
    const estimate: number[] = [];
    pairs.forEach((pair, i) => {
      const r0 = i * (1 + H);
      const terms = headTerms(
        gz.subarray(r0 * S * D, (r0 + 1) * S * D),
        cache.act(pair.source, z),
        cache.act(pair.target, z),
        stepsOf[i],
        H,
      );
      for (let h = 0; h < H; h++) {
        exact.push(metric[r0 + 1 + h] - metric[r0]);
        estimate.push(terms.heads[h]);
        const perStep = terms.positions.subarray(h * S, (h + 1) * S).reduce((a, b) => a + b, 0);
        expect(perStep).toBeCloseTo(terms.heads[h], 10);
      }
    });
    const scale = Math.max(...exact.map(Math.abs));
    // Effects of both signs, distinct per head: a sign error or a shifted head slice shows.
    expect(exact.some((e) => e > 0.05 * scale) && exact.some((e) => e < -0.05 * scale)).toBe(true);
    expect(new Set(exact.map((e) => e.toFixed(4))).size).toBe(exact.length);
    exact.forEach((e, j) => {
      expect(Math.abs(estimate[j] - e)).toBeLessThan(1e-4 * scale);
    });
  });

  it.skipIf(!haveShared)("matches the PyTorch AtP of every head on a reference pair", async () => {
    const fixture = JSON.parse(
      readFileSync(
        join(import.meta.dirname, "..", "fixtures", "baselines", "gradients_japanesevowels.json"),
        "utf8",
      ),
    );
    const { model, inputs } = await referenceModel("JapaneseVowels");
    const y = fixture.true_index;
    const pair: Pair = {
      id: 0,
      source: fixture.source,
      target: fixture.target,
      direction: "denoise",
      trueClass: y,
      goodClass: y,
      badClass: 0,
    };
    const atp = await attributionPatching(model, inputs, [pair]);
    const want = (fixture.atp_heads as number[][]).flat();
    const scale = Math.max(...want.map(Math.abs));
    want.forEach((v, j) => {
      expect(Math.abs(atp.heads[j] - v)).toBeLessThan(1e-4 * scale);
    });
  });
});

describe("integrated gradients", () => {
  it("is complete: Σ_h IG_h equals the whole-layer patch effect within 1% (small model)", async () => {
    const { model, inputs } = await smallModel();
    // Equal lengths: the whole-layer group patch of the engine writes every step, IG the steps real in both.
    const pairs = sameLengthPairs(inputs, 3);
    const ig = await integratedGradients(model, inputs, pairs, { steps: 32 });
    expect(ig.worstRelativeError).toBeLessThan(0.01);
    // Δ is the exact whole-layer z patch effect, checked against a sweep of the layer's heads as one group.
    const groups = Array.from({ length: model.config.layers }, (_, l) => ({
      kind: "group" as const,
      mode: "z" as const,
      heads: Array.from({ length: model.config.heads }, (_, h) => ({ layer: l, head: h })),
    }));
    const exact = await sweep(model, inputs, pairs, { components: groups });
    exact.rows.forEach((row, k) => {
      const layer = k % model.config.layers;
      const p = Math.floor(k / model.config.layers);
      expect(Math.abs(ig.completeness[layer].delta[p] - rowEffect(row, "dpTrue"))).toBeLessThan(1e-5);
    });
  });

  it("doubles the nodes of the integrals that miss the tolerance, and only those", async () => {
    const { model, inputs } = await smallModel();
    const pairs = sameLengthPairs(inputs, 3);
    // The random model's effects are small (|Δ| ≈ 1e-6 … 1e-3) and nearly linear along the path:
    // a tight tolerance makes one node too few for some integrals, not for all.
    const tolerance = 1e-3;
    const minDelta = 1e-4;
    const bound = (delta: number) => tolerance * Math.max(Math.abs(delta), minDelta);
    const once = await integratedGradients(model, inputs, pairs, { steps: 1, tolerance: 0, minDelta });
    expect(once.stepsHistogram).toEqual({ 1: pairs.length * model.config.layers });
    expect(once.unconverged).toBe(0);
    const adaptive = await integratedGradients(model, inputs, pairs, { steps: 1, tolerance, minDelta });
    expect(once.worstRelativeError).toBeGreaterThan(tolerance);
    expect(adaptive.worstRelativeError).toBeLessThan(tolerance);
    expect(adaptive.unconverged).toBe(0);
    expect(Object.keys(adaptive.stepsHistogram).length).toBeGreaterThan(1);
    adaptive.completeness.forEach((c, l) => {
      const coarse = once.completeness[l];
      c.steps.forEach((k, p) => {
        expect(Math.abs(c.sum[p] - c.delta[p])).toBeLessThanOrEqual(bound(c.delta[p]));
        // Doubled only where one node missed the tolerance.
        expect(k > 1).toBe(Math.abs(coarse.sum[p] - coarse.delta[p]) > bound(coarse.delta[p]));
        // Δ does not depend on the nodes.
        expect(c.delta[p]).toBe(coarse.delta[p]);
      });
    });
  });

  it.skipIf(!haveShared)("is complete within 1% on reference pairs (64 nodes)", async () => {
    const { model, inputs } = await referenceModel("JapaneseVowels");
    const list: [number, number][] = [
      [144, 114],
      [144, 127],
      [24, 1],
    ];
    const pairs: Pair[] = list.map(([source, target], id) => {
      const y = inputs.trueClass[target];
      return { id, source, target, direction: "denoise", trueClass: y, goodClass: y, badClass: 0 };
    });
    const ig = await integratedGradients(model, inputs, pairs);
    expect(ig.steps).toBe(64);
    expect(ig.worstRelativeError).toBeLessThan(0.01);
  });

  it.skipIf(!haveShared)(
    "is complete within 1% by default on the LSST reference pair 64 nodes miss",
    async () => {
      // The worst of the study's LSST pairs: at layer 0 the gradient changes sharply along part of
      // the path, 64 nodes leave a 13.5% completeness gap, and the default doubles that integral only.
      const { model, inputs } = await referenceModel("LSST");
      const y = inputs.trueClass[2435];
      const pairs: Pair[] = [
        { id: 0, source: 2439, target: 2435, direction: "denoise", trueClass: y, goodClass: y, badClass: 0 },
      ];
      const fixed = await integratedGradients(model, inputs, pairs, { tolerance: 0 });
      expect(fixed.worstRelativeError).toBeGreaterThan(0.05);
      const adaptive = await integratedGradients(model, inputs, pairs);
      expect(adaptive.worstRelativeError).toBeLessThan(0.01);
      expect(adaptive.unconverged).toBe(0);
      expect(adaptive.completeness.map((c) => c.steps[0])).toEqual([128, 64, 64]);
    },
  );
});

describe("attention statistics", () => {
  it("give ln n, 1/n and 0 for uniform attention over the real steps", async () => {
    const { model, inputs } = await smallModel();
    const params = new Map(model.params);
    for (const [name, value] of params) {
      if (/attn\.(W_Q|W_K|b_Q|b_K)$/.test(name)) params.set(name, new Float32Array(value.length));
    }
    const uniform = new HookedTST(model.config, params, {}, model.runtime);
    const pairs = somePairs(inputs, 3);
    const scores = await attentionScores(uniform, inputs, pairs);
    const m = model.config.layers * model.config.heads;
    pairs.forEach((pair, p) => {
      const n = inputs.lengths[pair.target];
      for (let j = 0; j < m; j++) {
        expect(scores.entropy[p * m + j]).toBeCloseTo(Math.log(n), 5);
        expect(scores.max[p * m + j]).toBeCloseTo(1 / n, 6);
        expect(scores.variance[p * m + j]).toBeLessThan(1e-12);
      }
    });
  });
});

describe("random-patching null", () => {
  it("gives p-values in [1/(R+1), 1], reproducible from the seed, sources of other classes", async () => {
    const { model, inputs } = await smallModel();
    const pairs = somePairs(inputs, 2);
    const m = model.config.layers * model.config.heads;
    const observed = new Float64Array(pairs.length * m);
    observed.fill(10); // far above any |ΔP|: every p is the minimum
    const a = await randomPatchingNull(model, inputs, pairs, observed, inputs.trueClass, {
      draws: 9,
      seed: 4,
    });
    expect(a.pvalues.every((p) => p === 0.1)).toBe(true);
    const zero = await randomPatchingNull(
      model,
      inputs,
      pairs,
      new Float64Array(pairs.length * m),
      inputs.trueClass,
      {
        draws: 9,
        seed: 4,
      },
    );
    expect(zero.pvalues.every((p) => p === 1)).toBe(true);
    expect(zero.nullMeans).toEqual(a.nullMeans);
    expect(a.nullAbsEffects[0].length).toBe(pairs.length * 9);
  });
});

describe("runBaselines", () => {
  it("returns a JSON-serialisable result with every baseline and the AtP check", async () => {
    const { model, inputs } = await smallModel();
    const pairs = somePairs(inputs, 4);
    const r = await runBaselines(model, inputs, pairs, { igSteps: 32, nullDraws: 4, resamples: 200 });
    const back = JSON.parse(JSON.stringify(r));
    expect(back.exact.heads).toHaveLength(4);
    expect(back.atp.heads[0]).toHaveLength(8);
    expect(back.saliency.maps[0]).toHaveLength(29 * 12);
    expect(r.agreement.map((a) => a.baseline)).toEqual([
      "atp",
      "integrated_gradients",
      "attention_entropy",
      "attention_max",
      "attention_variance",
    ]);
    expect(r.atpCheck.map((c) => c.kind)).toEqual(["heads", "layers", "mlps"]);
    // Saliency is zero on padded steps.
    const S = 29;
    const C = 12;
    pairs.forEach((pair, p) => {
      for (let s = inputs.lengths[pair.target]; s < S; s++) {
        for (let c = 0; c < C; c++) expect(r.saliency.maps[p][s * C + c]).toBe(0);
      }
    });
  });

  it("runs its backward graphs in calls of `gradientRows` rows (a memory budget's), to the same results", async () => {
    const { model, inputs } = await smallModel();
    const pairs = somePairs(inputs, 5);
    const options = { igSteps: 8, igTolerance: 0, nullDraws: 0, resamples: 50 };
    // Every runtime call, with its rows and whether it is a backward graph (fetches a gradient).
    const calls: { backward: boolean; rows: number }[] = [];
    const run = CompiledGraph.prototype.run;
    CompiledGraph.prototype.run = async function (feeds, fetch) {
      const rows = Math.max(
        ...Object.entries(feeds).map(([k, t]) => (/^(x|start:)/.test(k) ? t.dims[0] : 0)),
      );
      calls.push({ backward: (fetch ?? this.outputNames).some((o) => o.startsWith("grad:")), rows });
      return run.call(this, feeds, fetch);
    };
    try {
      // As a memory plan leaves it: the model's own rows per call and the baselines' options.
      model.chunkSize = 7;
      const split = await runBaselines(model, inputs, pairs, { ...options, batchRows: 7, gradientRows: 2 });
      model.chunkSize = 256;
      const backward = calls.filter((c) => c.backward);
      expect(backward.length).toBeGreaterThan(3);
      expect(Math.max(...backward.map((c) => c.rows))).toBe(2);
      expect(Math.max(...calls.filter((c) => !c.backward).map((c) => c.rows))).toBeLessThanOrEqual(7);
      calls.length = 0;
      const whole = await runBaselines(model, inputs, pairs, options);
      expect(Math.max(...calls.filter((c) => c.backward).map((c) => c.rows))).toBeGreaterThan(2);
      const close = (a: readonly number[][], b: readonly number[][]) => {
        const [x, y] = [a.flat(), b.flat()];
        expect(y).toHaveLength(x.length);
        for (let i = 0; i < x.length; i++) expect(y[i]).toBeCloseTo(x[i], 6);
      };
      for (const key of ["heads", "layers", "mlps"] as const) {
        close(whole.atp[key], split.atp[key]);
        close(whole.exact[key], split.exact[key]);
      }
      close(whole.integratedGradients.heads, split.integratedGradients.heads);
      close(whole.saliency.maps, split.saliency.maps);
    } finally {
      CompiledGraph.prototype.run = run;
    }
  });
});
