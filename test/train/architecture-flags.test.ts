import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseArchitectureFlags } from "../../src/cli/architecture-flags.js";
import { memoryIO } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/main.js";
import { loadModel } from "../../src/model/model-dir.js";

// A tiny two-class dataset of 10-step series, so a small family model trains in a second or two.
const dir = mkdtempSync(join(tmpdir(), "tspatch-arch-flags-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function writeSplit(split: string, cases: number): string {
  const lines = [
    "@problemName Tiny",
    "@univariate true",
    "@equalLength true",
    "@classLabel true a b",
    "@data",
  ];
  for (let i = 0; i < cases; i++) {
    const sign = i % 2 === 0 ? 1 : -1;
    const values = Array.from({ length: 10 }, (_, t) => (sign * t + ((i * 7 + t * 3) % 5) * 0.1).toFixed(2));
    lines.push(`${values.join(",")}:${sign > 0 ? "a" : "b"}`);
  }
  const file = join(dir, `Tiny_${split}.ts`);
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}
const trainFile = writeSplit("TRAIN", 16);
writeSplit("TEST", 8);

async function train(argv: string[]) {
  const io = memoryIO({ cwd: dir, env: { TSPATCH_OFFLINE: "1" } });
  const common = ["--data", trainFile, "--epochs", "1", "--threads", "1", "--quiet"];
  const code = await runCli(["train", ...common, ...argv], io);
  return { code, err: io.err.join("") };
}

describe("tspatch train architecture flags", () => {
  it("parses every flag into config fields (absent flags keep the study's defaults)", () => {
    expect(parseArchitectureFlags({})).toEqual({});
    expect(
      parseArchitectureFlags({
        layers: "2",
        heads: "4",
        dModel: "32",
        ff: "64",
        stem: "patch:4,2",
        pos: "sinusoidal",
        norm: "pre",
        normKind: "batch",
        finalNorm: true,
        act: "gelu",
        outputAct: "gelu",
        pool: "cls",
        cls: true,
        headHidden: "16",
        embedScale: "sqrt",
        dropout: "0.2",
      }),
    ).toEqual({
      layers: 2,
      heads: 4,
      dModel: 32,
      ff: 64,
      stem: "patch",
      patchLen: 4,
      patchStride: 2,
      pos: "sinusoidal",
      norm: "pre",
      normKind: "batch",
      finalNorm: true,
      act: "gelu",
      outputAct: "gelu",
      pool: "cls",
      cls: true,
      headHidden: 16,
      embedScale: Math.sqrt(32),
      dropout: 0.2,
    });
  });

  it.each([
    [["--stem", "patch:4"], "--stem", /patch:<len>,<stride>/],
    [["--stem", "rnn"], "--stem", /linear, conv or patch/],
    [["--stem", "patch:11,1"], "--stem", /patch length up to the series length/],
    [["--pos", "rotary"], "--pos", /learned, sinusoidal, none/],
    [["--norm", "middle"], "--norm", /post, pre/],
    [["--norm-kind", "group"], "--norm-kind", /layer, batch/],
    [["--act", "tanh"], "--act", /relu, gelu/],
    [["--pool", "sum"], "--pool", /max, mean, cls, last, flatten/],
    [["--pool", "cls"], "--pool", /add --cls/],
    [["--heads", "3"], "--heads", /not divisible/],
    [["--layers", "0"], "--layers", /integer/],
    [["--dropout", "1"], "--dropout", /\[0, 1\)/],
    [["--embed-scale", "-2"], "--embed-scale", /sqrt/],
  ])("refuses %j with exit 2 naming %s and the valid forms", async (argv, flag, forms) => {
    const out = join(dir, "refused");
    const { code, err } = await train([...argv, "--out", out]);
    expect(code).toBe(2);
    expect(err).toContain(flag);
    expect(err).toMatch(forms);
  });

  it("trains a family model and stores its architecture in config.json", async () => {
    const out = join(dir, "family");
    const argv = ["--stem", "patch:4,2", "--cls", "--pool", "cls", "--norm", "pre", "--final-norm"];
    const { code, err } = await train([
      ...argv,
      "--act",
      "gelu",
      "--d-model",
      "16",
      "--heads",
      "2",
      "--ff",
      "24",
      "--layers",
      "1",
      "--out",
      out,
    ]);
    expect(err).toBe("");
    expect(code).toBe(0);
    const config = JSON.parse(readFileSync(join(out, "config.json"), "utf8")).config;
    expect(config).toMatchObject({
      stem: "patch",
      patchLen: 4,
      patchStride: 2,
      cls: true,
      pool: "cls",
      norm: "pre",
      finalNorm: true,
      act: "gelu",
      dModel: 16,
      heads: 2,
      ff: 24,
      layers: 1,
      pos: "learned",
      normKind: "layer",
    });
    const { model } = loadModel(out);
    expect(model.params.get("pos_embed.W_pos")?.length).toBe(5 * 16); // 4 windows + CLS
    await model.runtime.release();
  });
});
