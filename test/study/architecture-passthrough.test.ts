import { describe, expect, it } from "vitest";
import { type StudyFlags, studyConfig } from "../../src/cli/commands/study.js";
import { configText } from "../../src/study/pipeline.js";

// Commander's defaults of `tspatch study`.
const defaults: StudyFlags = {
  split: "test",
  model: "train",
  strategy: "misclassified",
  direction: "both",
  metric: "dp_true",
  test: "t",
  correction: "bh",
  headMode: "z",
  kinds: "heads,layers,mlps,head-pos",
  seeds: "0",
  family: "per-direction",
};

describe("study passes the architecture flags to the model it trains", () => {
  it("stores them in the study config (also with --quick)", () => {
    const config = studyConfig(
      { ...defaults, quick: true, stem: "patch:4,2", cls: true, pool: "cls" },
      "/tmp",
    );
    expect(config.training.architecture).toEqual({
      stem: "patch",
      patchLen: 4,
      patchStride: 2,
      cls: true,
      pool: "cls",
    });
    expect(config.training.epochs).toBe(3);
  });

  it("leaves the study's config text unchanged without them", () => {
    const config = studyConfig(defaults, "/tmp");
    expect(config.training).not.toHaveProperty("architecture");
    expect(configText(config)).not.toContain("architecture");
  });

  it("refuses them with a loaded model, and bad values naming the flag", () => {
    expect(() => studyConfig({ ...defaults, model: "models/jv", norm: "pre" }, "/tmp")).toThrow(
      /architecture flags apply only when the study trains/,
    );
    expect(() => studyConfig({ ...defaults, act: "swish" }, "/tmp")).toThrow(/unknown --act "swish"/);
  });
});
