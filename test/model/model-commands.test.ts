import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ort from "onnxruntime-node";
import { afterAll, describe, expect, it } from "vitest";
import { memoryIO } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/main.js";
import { makeConfig, type TSTConfigInput } from "../../src/model/config.js";
import { exportOnnx } from "../../src/model/export.js";
import { HookedTST } from "../../src/model/hooked-tst.js";
import { loadModel, saveModel } from "../../src/model/model-dir.js";
import { paramShapes } from "../../src/model/param-names.js";
import { readSafetensors, writeSafetensors } from "../../src/model/safetensors.js";
import { Runtime } from "../../src/runtime/session.js";
import { f32, modelFixture } from "./fixture-helpers.js";

const SHARED = fileURLToPath(new URL("../../../shared/", import.meta.url));
const REF = `${SHARED}models/reference`;
const JV_EQ_TEST = `${SHARED}datasets/JapaneseVowels/JapaneseVowels_eq_TEST.ts`;
const JV_TEST = `${SHARED}datasets/JapaneseVowels/JapaneseVowels_TEST.ts`;
const PEN_TEST = `${SHARED}datasets/PenDigits/PenDigits_TEST.ts`;
const tmp = mkdtempSync(join(tmpdir(), "tspatch-model-"));
const runtime = new Runtime({ threads: 2 });
afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await runtime.release();
});

async function cli(...argv: string[]) {
  const io = memoryIO();
  const code = await runCli(argv, io);
  return { code, out: io.out.join(""), err: io.err.join("") };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe("import-pth and eval", () => {
  it("imports the LSST checkpoint with the int(label) map (one line says so) and evaluates the directory", async () => {
    const out = join(tmp, "lsst");
    const r = await cli(
      "import-pth",
      `${REF}/TST_lsst.pth`,
      "--out",
      out,
      "--data",
      `${SHARED}datasets/LSST/LSST_TRAIN.ts`,
    );
    expect(r.code).toBe(0);
    expect(r.out.split("\n").filter((l) => l.includes("int(label)"))).toHaveLength(1);
    expect(r.out).toContain("96 outputs in the checkpoint, 14 classes");
    const config = JSON.parse(readFileSync(join(out, "config.json"), "utf8"));
    expect(config.labelMap.kind).toBe("int");
    expect(config.labelMap.outputs).toBe(96);
    expect(config.preprocess).toBeNull();
    const pen = await cli(
      "import-pth",
      `${REF}/TST_pendigits.pth`,
      "--out",
      join(tmp, "pen"),
      "--data",
      PEN_TEST,
    );
    expect(pen.code).toBe(0);
    expect(pen.out).not.toContain("int(label)");
    const e = await cli("eval", "--model", join(tmp, "pen"), "--data", PEN_TEST, "--json", "--quiet");
    expect(e.code).toBe(0);
    const json = JSON.parse(e.out);
    expect(json.accuracy).toBeCloseTo(0.9808, 4);
    expect(json.n).toBe(3498);
    expect(json.classes).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    expect(json.confusion).toHaveLength(10);
    expect(json.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(3498);
  });

  it("evaluates a .pth on the fly and prints a readable table", async () => {
    const r = await cli("eval", "--model", `${REF}/TST_japanesevowels.pth`, "--data", JV_EQ_TEST, "--quiet");
    expect(r.code).toBe(0);
    expect(r.out).toContain("accuracy 0.9757 (361/370)");
    expect(r.out).toContain("confusion matrix (rows = true class, columns = predicted)");
  });

  it("data of the wrong length or channel count: exit 2 naming both numbers and the fix", async () => {
    const long = await cli("eval", "--model", `${REF}/TST_japanesevowels.pth`, "--data", JV_TEST, "--quiet");
    expect(long.code).toBe(2);
    expect(long.err).toMatch(/up to 29 steps, the model takes at most 25/);
    expect(long.err).toContain("--resample 25");
    const resampled = await cli(
      "eval",
      "--model",
      `${REF}/TST_japanesevowels.pth`,
      "--data",
      JV_TEST,
      "--resample",
      "25",
      "--json",
    );
    expect(resampled.code).toBe(0);
    expect(JSON.parse(resampled.out).accuracy).toBeGreaterThan(0.5);
    const channels = await cli(
      "eval",
      "--model",
      `${REF}/TST_pendigits.pth`,
      "--data",
      JV_EQ_TEST,
      "--quiet",
    );
    expect(channels.code).toBe(2);
    expect(channels.err).toMatch(/12 channels, the model takes 2/);
  });

  it("a non-checkpoint .pth and a damaged model directory: exit 2 with the mismatches, no stack", async () => {
    const fake = join(tmp, "fake.pth");
    writeFileSync(fake, readFileSync(PEN_TEST));
    const r = await cli("eval", "--model", fake, "--data", PEN_TEST);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/not a PyTorch checkpoint/);
    expect(r.err).not.toMatch(/at .*\.ts:\d+/);

    const dir = join(tmp, "damaged");
    await cli("import-pth", `${REF}/TST_pendigits.pth`, "--out", dir);
    const { tensors } = readSafetensors(join(dir, "weights.safetensors"));
    tensors.delete("blocks.1.mlp.W_in");
    tensors.set("blocks.0.attn.W_Q", { dtype: "F32", shape: [4], data: new Float32Array(4) });
    tensors.set("surplus", { dtype: "F32", shape: [1], data: new Float32Array(1) });
    writeSafetensors(join(dir, "weights.safetensors"), tensors);
    const d = await cli("eval", "--model", dir, "--data", PEN_TEST);
    expect(d.code).toBe(2);
    expect(d.err).toContain("missing blocks.1.mlp.W_in");
    expect(d.err).toContain("wrong shape for blocks.0.attn.W_Q: [4], expected [128,128]");
    expect(d.err).toContain("unexpected surplus");
    const bad = await cli("import-pth", `${REF}/TST_pendigits.pth`, "--out", dir, "--label-map", "sparse");
    expect(bad.code).toBe(2);
  });
});

describe("model directory and ONNX export", () => {
  const { meta, tensors } = modelFixture("random_init");
  const config = makeConfig(meta.config as TSTConfigInput);
  const params = new Map(paramShapes(config).map((p) => [p.name, f32(tensors, `param.${p.name}`)]));
  const x = f32(tensors, "input.x");
  const mask = Uint8Array.from(tensors.get("input.mask")?.data as Uint8Array, (p) => (p ? 0 : 1));
  const preprocess = {
    layout: "cases×time×channels" as const,
    channels: 3,
    missing: "error" as const,
    resampleLength: null,
    normalize: { method: "zscore" as const, shift: [0.5, -1, 2], scale: [2, 0.5, 4], constantChannels: [] },
    padLength: 10,
    fittedOn: "test",
  };
  const model = new HookedTST(
    config,
    params,
    { preprocess, labelMap: { kind: "dense", classes: ["a", "b", "c", "d"], outputs: 4 } },
    runtime,
  );

  it("saves and loads a model directory with the same outputs; normalisation runs inside the graph", async () => {
    const dir = join(tmp, "saved");
    saveModel(model, dir, { metrics: { note: "test" } });
    const { model: loaded } = loadModel(dir, { runtime });
    expect(loaded.config).toEqual(model.config);
    expect(loaded.preprocess).toEqual(preprocess);
    expect(loaded.labelMap?.classes).toEqual(["a", "b", "c", "d"]);
    const a = await model.run(x, { mask });
    const b = await loaded.run(x, { mask });
    expect(maxDiff(a.logits, b.logits)).toBe(0);
    // (x - shift) / scale inside equals feeding normalised values to a model without preprocessing.
    const raw = new HookedTST(config, params, {}, runtime);
    const normalised = x.map(
      (v, i) => (v - preprocess.normalize.shift[i % 3]) / preprocess.normalize.scale[i % 3],
    );
    const c = await raw.run(normalised, { mask });
    expect(maxDiff(a.logits, c.logits)).toBeLessThan(1e-5);
  });

  it("the exported ONNX file runs in stock ONNX Runtime and gives the logits of run()", async () => {
    const want = await model.run(x, { mask });
    const withMask = await ort.InferenceSession.create(exportOnnx(model));
    expect(withMask.inputNames).toEqual(["x", "mask"]);
    const got = await withMask.run({
      x: new ort.Tensor("float32", x, [5, 10, 3]),
      mask: new ort.Tensor("bool", mask, [5, 10]),
    });
    expect(maxDiff(got.logits.data as Float32Array, want.logits)).toBeLessThan(1e-5);
    const noMask = await ort.InferenceSession.create(exportOnnx(model, { mask: false }));
    expect(noMask.inputNames).toEqual(["x"]);
    const full = await noMask.run({ x: new ort.Tensor("float32", x, [5, 10, 3]) });
    expect(maxDiff(full.logits.data as Float32Array, (await model.run(x)).logits)).toBeLessThan(1e-5);
  });

  it("tspatch export writes a file that reproduces the reference checkpoint's logits", async () => {
    const out = join(tmp, "pen.onnx");
    const r = await cli("export", "--model", `${REF}/TST_pendigits.pth`, "--onnx", out, "--no-mask");
    expect(r.code).toBe(0);
    expect(r.out).toContain("output logits [batch, 10]");
    const pen = modelFixture("pendigits");
    const session = await ort.InferenceSession.create(readFileSync(out));
    const px = f32(pen.tensors, "input.x");
    const got = await session.run({ x: new ort.Tensor("float32", px, [px.length / 16, 8, 2]) });
    expect(maxDiff(got.logits.data as Float32Array, f32(pen.tensors, "logits"))).toBeLessThan(1e-4);
  });
});
