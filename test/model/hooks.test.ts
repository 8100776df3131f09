import { describe, expect, it } from "vitest";
import { isStartHook, parseHook, parseStartHook, startInputHooks } from "../../src/model/hooks.js";

const config = { layers: 3 };

describe("hook names (one parser)", () => {
  it("parses model and layer hooks, and rejects what is not a hook of this model", () => {
    expect(parseHook(config, "hook_pooled")).toEqual({ name: "hook_pooled", layer: null, suffix: null });
    expect(parseHook(config, "blocks.2.attn.hook_z")).toEqual({
      name: "blocks.2.attn.hook_z",
      layer: 2,
      suffix: "attn.hook_z",
    });
    for (const bad of [
      "blocks.3.hook_resid_pre",
      "blocks.01.hook_resid_pre",
      "blocks.1.hook_nope",
      "embed",
    ]) {
      expect(() => parseHook(config, bad), bad).toThrow(/unknown hook point/);
    }
  });

  it("start points: residual hooks, sub-layer outputs (fed with their residual), embed and pooled", () => {
    const yes = ["hook_embed", "hook_pooled", "blocks.0.hook_resid_pre", "blocks.1.hook_resid_mid"];
    const subLayer = ["blocks.2.attn.hook_z", "blocks.0.hook_attn_out", "blocks.1.hook_mlp_out"];
    for (const h of [...yes, "blocks.2.hook_resid_post", ...subLayer]) {
      expect(isStartHook(parseHook(config, h).name), h).toBe(true);
    }
    for (const h of ["hook_pos_embed", "logits", "blocks.0.attn.hook_q", "blocks.1.mlp.hook_post"]) {
      expect(isStartHook(parseHook(config, h).name), h).toBe(false);
      expect(() => parseStartHook(config, h)).toThrow(/a run cannot start at/);
    }
    expect(startInputHooks("blocks.1.attn.hook_z")).toEqual([
      "blocks.1.hook_resid_pre",
      "blocks.1.attn.hook_z",
    ]);
    expect(startInputHooks("blocks.1.hook_resid_mid")).toEqual(["blocks.1.hook_resid_mid"]);
    expect(startInputHooks("blocks.0.hook_attn_out")).toEqual([
      "blocks.0.hook_resid_pre",
      "blocks.0.hook_attn_out",
    ]);
    expect(startInputHooks("blocks.2.hook_mlp_out")).toEqual([
      "blocks.2.hook_resid_mid",
      "blocks.2.hook_mlp_out",
    ]);
  });
});
