import { describe, expect, it } from "vitest";
import { InputError } from "../../src/errors.js";
import { makeConfig } from "../../src/model/config.js";
import { EFFECTS_LONG_COLUMNS, effectsLongCsv } from "../../src/patching/effects-long.js";
import { parseComponents, parseGroups, presetComponents } from "../../src/patching/presets.js";
import { componentSites, siteMask } from "../../src/patching/setters.js";
import type { EffectRow } from "../../src/patching/sweep.js";

const config = makeConfig({ channels: 2, seqLen: 5, classes: 3, dModel: 16, heads: 4, ff: 8, layers: 2 });

describe("setters", () => {
  it("a z head selects one head of attn.hook_z; its mask broadcasts over time and head dims", () => {
    const [site] = componentSites(config, { kind: "head", layer: 1, head: 2, mode: "z" });
    expect(site.hook).toBe("blocks.1.attn.hook_z");
    const mask = siteMask(config, site);
    expect(mask.dims).toEqual([1, 4, 1]);
    expect(Array.from(mask.data)).toEqual([0, 0, 1, 0]);
  });

  it("a slice head selects dims h·dh..h·dh+dh−1 of hook_attn_out", () => {
    const [site] = componentSites(config, { kind: "head", layer: 0, head: 1, mode: "slice" });
    expect(site.hook).toBe("blocks.0.hook_attn_out");
    const mask = siteMask(config, site);
    expect(mask.dims).toEqual([1, 16]);
    expect(Array.from(mask.data)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it("head × position selects one (t, h) cell; residual × position one time step", () => {
    const mask = siteMask(
      config,
      componentSites(config, { kind: "head", layer: 0, head: 3, mode: "z", position: 2 })[0],
    );
    expect(mask.dims).toEqual([5, 4, 1]);
    expect(mask.data.reduce((a, b) => a + b, 0)).toBe(1);
    expect(mask.data[2 * 4 + 3]).toBe(1);
    const resid = componentSites(config, { kind: "resid", layer: 1, point: "mid", position: 4 })[0];
    expect(resid.hook).toBe("blocks.1.hook_resid_mid");
    expect(Array.from(siteMask(config, resid).data)).toEqual([0, 0, 0, 0, 1]);
  });

  it("a group makes one site per layer with all its heads", () => {
    const sites = componentSites(config, {
      kind: "group",
      mode: "z",
      heads: [
        { layer: 1, head: 3 },
        { layer: 0, head: 1 },
        { layer: 1, head: 0 },
      ],
    });
    expect(sites.map((s) => [s.hook, s.select[1]])).toEqual([
      ["blocks.0.attn.hook_z", [1]],
      ["blocks.1.attn.hook_z", [0, 3]],
    ]);
  });

  it("rejects components outside the model with an InputError naming the range", () => {
    expect(() => componentSites(config, { kind: "head", layer: 2, head: 0, mode: "z" })).toThrow(
      /layers are 0\.\.1/,
    );
    expect(() => componentSites(config, { kind: "mlp", layer: 0, position: 5 })).toThrow(InputError);
    expect(() => parseGroups(config, "0.1+x")).toThrow(/layer\.head/);
    expect(() => parseComponents(config, "heads,nope")).toThrow(/unknown component set "nope"/);
  });

  it("presets expand to every component of their kind", () => {
    expect(presetComponents(config, "heads")).toHaveLength(8);
    expect(presetComponents(config, "head-pos")).toHaveLength(2 * 4 * 5);
    expect(presetComponents(config, "resid-pos")).toHaveLength(2 * 5);
    expect(presetComponents(config, "path-v")).toHaveLength(4 * 4);
    expect(parseComponents(config, "layers, mlp")).toHaveLength(4);
  });
});

describe("effects CSV", () => {
  it("writes one line per row, empty cells for undefined recovery and absent positions, never NaN", () => {
    const pair = {
      id: 3,
      source: 5,
      target: 9,
      direction: "denoise" as const,
      trueClass: 1,
      goodClass: 1,
      badClass: 0,
    };
    const rows: EffectRow[] = [
      {
        pair,
        component: { kind: "head", layer: 0, head: 2, mode: "z" },
        dpTrue: 0.25,
        recovery: null,
        logitDiff: 1.5,
        dLogitDiff: 0.5,
        klSource: 0.1,
      },
      {
        pair,
        component: {
          kind: "path",
          sender: { layer: 0, head: 1 },
          receiver: { layer: 1, head: 0 },
          input: "q",
        },
        dpTrue: -0.125,
        recovery: 0.5,
        logitDiff: Number.NaN,
        dLogitDiff: 0,
        klSource: 0,
      },
    ];
    const text = effectsLongCsv(rows, { kind: "dense", classes: ["a", "b,c"], outputs: 2 });
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toBe(EFFECTS_LONG_COLUMNS.join(","));
    expect(lines[1]).toBe('3,5,9,"b,c",denoise,head,0,2,,,z,0.25,,1.5,0.5,0.1');
    expect(lines[2]).toBe('3,5,9,"b,c",denoise,path_q,1,0,,0.1->1.0,,-0.125,0.5,,0,0');
    expect(text).not.toMatch(/NaN/);
  });
});
