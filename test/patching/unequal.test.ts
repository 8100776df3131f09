import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeConfig, type TSTConfigInput } from "../../src/model/config.js";
import { HookedTST } from "../../src/model/hooked-tst.js";
import type { HookName } from "../../src/model/hooks.js";
import { paramShapes } from "../../src/model/param-names.js";
import { readSafetensors } from "../../src/model/safetensors.js";
import { alignInputs, alignPair } from "../../src/patching/align.js";
import { CachedRows, cacheRows, type InputTable, runPatched } from "../../src/patching/engine.js";
import { softmax } from "../../src/patching/metrics.js";
import { patchPair } from "../../src/patching/patch-pair.js";
import { presetComponents } from "../../src/patching/presets.js";
import { componentSites } from "../../src/patching/setters.js";
import { cacheHooksFor, patchedChunk, sweep } from "../../src/patching/sweep.js";
import type { Alignment, Component, Pair } from "../../src/patching/types.js";
import { Runtime } from "../../src/runtime/session.js";
import { maxAbsDiff } from "./reference-models.js";

// A random model of seqLen 29 and inputs of lengths 10, 25, 10, 29, patched by PyTorch with
// overlap and resample alignment (scripts/fixtures/patch_fixtures.py, "unequal lengths").
const dir = join(import.meta.dirname, "..", "fixtures", "patching");
const fixture = JSON.parse(readFileSync(join(dir, "unequal.json"), "utf8"));
const tensors = readSafetensors(join(dir, "unequal.safetensors")).tensors;
const config = makeConfig(fixture.config as TSTConfigInput);
const S = config.seqLen;
const params = new Map(
  paramShapes(config).map((p) => [p.name, tensors.get(`param.${p.name}`)!.data as Float32Array]),
);
const padded = tensors.get("input.mask")!.data as Uint8Array; // PyTorch: 1 = padded
const table: InputTable = {
  x: tensors.get("input.x")!.data as Float32Array,
  mask: Uint8Array.from(padded, (p) => (p ? 0 : 1)),
  rows: fixture.lengths.length,
};
const runtime = new Runtime({ threads: 1 });
const model = new HookedTST(config, params, {}, runtime);

const pairOf = (id: number, source: number, target: number): Pair => ({
  id,
  source,
  target,
  direction: "denoise",
  trueClass: 0,
  goodClass: 0,
  badClass: 1,
});

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const positions: Record<string, Component[]> = {
  head_pos_0_1: range(S).map((position) => ({ kind: "head", layer: 0, head: 1, mode: "z", position })),
  resid_pre_pos_1: range(S).map((position) => ({ kind: "resid", layer: 1, point: "pre", position })),
  mlp_pos_2: range(S).map((position) => ({ kind: "mlp", layer: 2, position })),
};
const whole: Component[] = [
  ...presetComponents(config, "heads", "z"),
  ...presetComponents(config, "layers"),
  ...presetComponents(config, "mlp"),
];

async function chunk(align: Alignment, pairs: Pair[], components: Component[]) {
  const aligned = alignInputs(table, pairs, align, S, config.channels);
  const cache = await cacheRows(
    model,
    aligned.table,
    aligned.pairs.flatMap((p) => [p.source, p.target]),
    cacheHooksFor(model, components),
  );
  return { ...(await patchedChunk(model, aligned.table, cache, aligned.pairs, components)), cache, aligned };
}

describe("unequal-length patching vs PyTorch (seqLen 29, lengths 10/25/10/29)", () => {
  it("overlap: head z, layer, MLP and position patches match within 1e-5; padding positions are not applicable", async () => {
    const components = [...whole, ...Object.values(positions).flat()];
    for (const f of fixture.pairs) {
      const { logits, status, alignments } = await chunk(
        "overlap",
        [pairOf(0, f.source, f.target)],
        components,
      );
      expect(alignments[0]).toMatchObject({
        sourceSteps: f.source_steps,
        targetSteps: f.target_steps,
        patchedSteps: f.patched_steps,
      });
      const L = config.layers;
      const H = config.heads;
      const got = logits.map((l) => Array.from(l));
      expect(maxAbsDiff(got.slice(0, L * H), f.overlap.head_z_logits.flat())).toBeLessThan(1e-5);
      expect(maxAbsDiff(got.slice(L * H, L * H + L), f.overlap.layer_logits)).toBeLessThan(1e-5);
      expect(maxAbsDiff(got.slice(L * H + L, L * H + 2 * L), f.overlap.mlp_logits)).toBeLessThan(1e-5);
      let offset = whole.length;
      for (const name of Object.keys(positions)) {
        const want: (number[] | null)[] = f.overlap[`${name}_logits`];
        want.forEach((w, p) => {
          const i = offset + p;
          if (w === null) expect(status[i]).toBe("not_applicable");
          else {
            expect(status[i]).toBe("ok");
            expect(maxAbsDiff(got[i], w)).toBeLessThan(1e-5);
          }
        });
        offset += S;
      }
    }
  });

  it("overlap matters: the unaligned patch of a shorter source gives other numbers than PyTorch's aligned ones", async () => {
    const f = fixture.pairs[0];
    expect([f.source_steps, f.target_steps]).toEqual([10, 25]);
    const layer0: Component = { kind: "attn", layer: 0 };
    const cache = await cacheRows(model, table, [f.source, f.target], cacheHooksFor(model, [layer0]));
    const [unaligned] = await runPatched(model, table, cache, [
      {
        target: f.target,
        patches: componentSites(config, layer0).map((site) => ({
          site,
          value: cache.act(f.source, site.hook),
        })),
      },
    ]);
    expect(maxAbsDiff(Array.from(unaligned), f.overlap.layer_logits[0])).toBeGreaterThan(1e-2);
  });

  it("resample: the source resampled onto the target's steps, head z and layer patches, match within 1e-5", async () => {
    const components = [...presetComponents(config, "heads", "z"), ...presetComponents(config, "layers")];
    for (const f of fixture.pairs.filter((p: { resample?: unknown }) => p.resample !== undefined)) {
      const { logits, status, alignments, cache, aligned } = await chunk(
        "resample",
        [pairOf(0, f.source, f.target)],
        components,
      );
      expect(aligned.pairs[0].source).toBe(table.rows);
      expect(alignments[0]).toMatchObject({ patchedSteps: f.target_steps, overlap: 1 });
      expect(status.every((s) => s === "ok")).toBe(true);
      expect(
        maxAbsDiff(Array.from(cache.logitsOf(aligned.pairs[0].source)), f.resample.source_logits),
      ).toBeLessThan(1e-5);
      const L = config.layers;
      const got = logits.map((l) => Array.from(l));
      expect(maxAbsDiff(got.slice(0, L * config.heads), f.resample.head_z_logits.flat())).toBeLessThan(1e-5);
      expect(maxAbsDiff(got.slice(L * config.heads), f.resample.layer_logits)).toBeLessThan(1e-5);
      // the library's one-pair call agrees
      const r = await patchPair(model, table, f.source, f.target, { align: "resample" });
      expect(r.alignment).toMatchObject({
        sourceSteps: f.source_steps,
        targetSteps: f.target_steps,
        overlap: 1,
      });
      expect(
        maxAbsDiff(
          r.layerProbs,
          f.resample.layer_logits.map((l: number[]) => Array.from(softmax(l))),
        ),
      ).toBeLessThan(1e-6);
    }
  });

  it("equal-length pairs give exactly the unaligned engine's numbers, in the same batches (bit-identical)", async () => {
    const components = [...whole, ...positions.head_pos_0_1, ...positions.mlp_pos_2];
    // 2→0: both of length 10 (masked); 0→0: the same row.
    const pairs = [pairOf(0, 2, 0), pairOf(1, 0, 0)];
    for (const p of pairs) expect(alignPair(table, p.source, p.target, S).writeSteps).toBeNull();
    const cache = await cacheRows(model, table, [2, 0], cacheHooksFor(model, components));
    const { logits, status } = await patchedChunk(model, table, cache, pairs, components);
    const plain = await runPatched(
      model,
      table,
      cache,
      pairs.flatMap((p) =>
        components.map((c) => ({
          target: p.target,
          patches: componentSites(config, c).map((site) => ({ site, value: cache.act(p.source, site.hook) })),
        })),
      ),
    );
    expect(plain.length).toBe(logits.length);
    logits.forEach((l, i) => {
      // positions 10..28 are padding in both inputs: not applicable, the target's own logits
      if (status[i] === "not_applicable") expect(Array.from(l)).toEqual(Array.from(cache.logitsOf(0)));
      else expect(Array.from(l)).toEqual(Array.from(plain[i]));
    });
    expect(status.filter((s) => s === "not_applicable")).toHaveLength(2 * 2 * 19);
  });

  it("path patching writes the sender only at shared steps: the same as a source whose other steps are the target's", async () => {
    const components: Component[] = [
      { kind: "path", sender: { layer: 0, head: 1 }, receiver: { layer: 2, head: 3 }, input: "q" },
      { kind: "path", sender: { layer: 1, head: 0 }, receiver: { layer: 2, head: 1 }, input: "k" },
    ];
    const [s, t] = [0, 1]; // 10 → 25 steps
    const hooks = cacheHooksFor(model, components);
    const cache = await cacheRows(model, table, [s, t], hooks);
    const { logits, status } = await patchedChunk(model, table, cache, [pairOf(0, s, t)], components);
    expect(status).toEqual(["ok", "ok"]);
    // The source's sender z past its 10 real steps replaced by the target's own, with the source's
    // mask set to the target's so that nothing restricts the patch: the unaligned engine's answer.
    const spliced = new Map<HookName, { data: Float32Array; per: number }>();
    for (const h of hooks) {
      const source = cache.act(s, h).slice();
      const target = cache.act(t, h);
      if (h.endsWith("attn.hook_z"))
        source.set(target.subarray(10 * (source.length / S)), 10 * (source.length / S));
      const data = new Float32Array(2 * source.length);
      data.set(source);
      data.set(target, source.length);
      spliced.set(h, { data, per: source.length });
    }
    const both = new Float32Array(2 * config.classes);
    both.set(cache.logitsOf(s));
    both.set(cache.logitsOf(t), config.classes);
    const sameMask = new Uint8Array(table.mask as Uint8Array);
    sameMask.set(sameMask.subarray(t * S, (t + 1) * S), s * S);
    const unaligned = await patchedChunk(
      model,
      { ...table, mask: sameMask },
      new CachedRows([s, t], both, config.classes, spliced),
      [pairOf(0, s, t)],
      components,
    );
    expect(maxAbsDiff(logits, unaligned.logits)).toBeLessThan(1e-5);
    // and the alignment matters here: the plain source gives other numbers
    const plain = await patchedChunk(
      model,
      { ...table, mask: sameMask },
      cache,
      [pairOf(0, s, t)],
      components,
    );
    expect(maxAbsDiff(logits, plain.logits)).toBeGreaterThan(1e-4);
  });

  it("a sweep records align, overlap and status per row and counts them", async () => {
    const components = [...presetComponents(config, "layers"), ...positions.mlp_pos_2];
    const pairs = fixture.pairs.map((f: { source: number; target: number }, i: number) =>
      pairOf(i, f.source, f.target),
    );
    const result = await sweep(model, table, pairs, { components });
    expect(result.align).toBe("overlap");
    expect(result.rows).toHaveLength(pairs.length * components.length);
    const shortSource = result.rows.filter((r) => r.pair.id === 0);
    expect(
      shortSource.every((r) => r.overlap === 10 / 25 && r.sourceSteps === 10 && r.targetSteps === 25),
    ).toBe(true);
    // not applicable: steps 10..28 for the pairs with a 10-step input, 25..28 for 29→25
    expect(result.statusCounts).toEqual({
      ok: 4 * 3 + 10 + 10 + 10 + 25,
      not_applicable: 19 * 3 + 4,
      no_overlap: 0,
    });
    for (const r of result.rows) {
      if (r.status === "not_applicable")
        expect([r.dpTrue, r.recovery, r.klSource]).toEqual([null, null, null]);
      else expect(Number.isFinite(r.dpTrue)).toBe(true);
    }
    const resampled = await sweep(model, table, pairs, { components, align: "resample" });
    expect(resampled.rows.every((r) => r.overlap === 1 && r.align === "resample")).toBe(true);
    await expect(sweep(model, table, pairs, { components, align: "phase" as Alignment })).rejects.toThrow(
      /unknown alignment "phase"/,
    );
  });

  it("inputs sharing no real step: whole-sequence patches give effect 0 and are flagged no_overlap", async () => {
    // Row 0 real at steps 0..4, row 1 real at steps 5..9 only (a mask need not be a prefix).
    const mask = new Uint8Array(2 * S);
    for (let t = 0; t < 5; t++) mask[t] = 1;
    for (let t = 5; t < 10; t++) mask[S + t] = 1;
    const disjoint: InputTable = { x: table.x.slice(0, 2 * S * config.channels), mask, rows: 2 };
    const components = [
      ...presetComponents(config, "heads"),
      { kind: "mlp", layer: 1, position: 6 } as Component,
    ];
    const result = await sweep(model, disjoint, [pairOf(0, 0, 1)], { components });
    expect(result.statusCounts).toEqual({
      ok: 0,
      not_applicable: 1,
      no_overlap: config.layers * config.heads,
    });
    for (const r of result.rows) {
      expect(r.overlap).toBe(0);
      if (r.status === "no_overlap") {
        expect(r.dpTrue).toBe(0);
        expect(r.dLogitDiff).toBe(0);
      }
    }
  });
});
