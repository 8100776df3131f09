import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { afterAll, describe, expect, it } from "vitest";
import { memoryIO } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/main.js";
import { Rng } from "../../src/random/rng.js";

// A small synthetic dataset (2 channels, lengths 5..8, two classes) with TRAIN and TEST files, so
// the command runs the default (reference-size) model in a few seconds.
const dir = mkdtempSync(join(tmpdir(), "tspatch-train-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeSplit(split: string, cases: number, seed: number): string {
  const rng = new Rng(seed);
  const lines = [
    "@problemName Synth",
    "@timeStamps false",
    "@missing false",
    "@univariate false",
    "@dimensions 2",
    "@equalLength false",
    "@classLabel true up down",
    "@data",
  ];
  for (let i = 0; i < cases; i++) {
    const label = i % 2 === 0 ? "up" : "down";
    const n = 5 + rng.int(4);
    const slope = label === "up" ? 1 : -1;
    const channel = (c: number) =>
      Array.from({ length: n }, (_, t) => (slope * t * (c + 1) + rng.normal() * 0.5).toFixed(3)).join(",");
    lines.push(`${channel(0)}:${channel(1)}:${label}`);
  }
  const file = join(dir, `Synth_${split}.ts`);
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}
const trainFile = writeSplit("TRAIN", 40, 1);
writeSplit("TEST", 20, 2);
const common = ["--dataset", trainFile, "--epochs", "2", "--threads", "2", "--val-fraction", "0.2"];

async function cli(argv: string[], signal?: AbortSignal, onStderr?: (text: string) => void) {
  const io = memoryIO({ cwd: dir, env: { TSPATCH_OFFLINE: "1" } });
  const stderr = io.stderr;
  io.stderr = (text) => {
    stderr(text);
    onStderr?.(text);
  };
  const code = await runCli(["train", ...argv], io, { signal });
  return { code, out: io.out.join(""), err: io.err.join("") };
}

describe("tspatch train", () => {
  it.each([
    [["--lr", "abc"], '--lr must be a number in (0, 1000), got "abc"'],
    [["--lr", "0x1"], '--lr must be a number in (0, 1000), got "0x1"'],
    [["--val-fraction", "1"], "--val-fraction must be a number in [0, 1)"],
    [["--threads", "10000"], "--threads must be an integer in [1, "],
    [["--batch-size", "1e30"], "--batch-size must be an integer in [1, 1048576]"],
    [["--seed", "1", "--seeds", "0,1"], "either --seed or --seeds"],
    [["--seeds", "0,0"], "lists a seed twice"],
    [["--normalize", "robust"], 'unknown --normalize "robust"'],
    [["--epochs", "0"], "--epochs must be an integer in [1, 1000000]"],
    [["--data", "other.ts"], "--data and --dataset name the same thing"],
    [["--memory-budget", "2 gigs"], "(--memory-budget)"],
    [["--memory-budget", "1MiB"], "one row needs"],
    [["--micro-batch", "0"], "--micro-batch must be an integer in [1, 1048576]"],
  ])("rejects %j with exit 2 and a message", async (extra, message) => {
    const { code, err } = await cli([...common, ...extra]);
    expect(code).toBe(2);
    expect(err).toContain(message);
    expect(err).not.toContain("    at ");
  });

  it("trains one model per seed, prints JSON lines, writes the model directory and a runnable model.onnx", async () => {
    const { code, out } = await cli([...common, "--out", "m", "--seeds", "0,1", "--json"]);
    expect(code).toBe(0);
    const events = out
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(events.map((e) => `${e.event}:${e.seed}`)).toEqual([
      "epoch:0",
      "epoch:0",
      "done:0",
      "epoch:1",
      "epoch:1",
      "done:1",
    ]);
    expect(events[0]).toMatchObject({ epoch: 1, epochs: 2 });
    expect(Number.isFinite(events[0].trainLoss) && Number.isFinite(events[0].valLoss)).toBe(true);
    const done = events[2];
    expect(done.files).toEqual(["config.json", "weights.safetensors", "metrics.json", "model.onnx"]);
    expect(done.testAccuracy).toBeGreaterThanOrEqual(0);
    const metrics = JSON.parse(readFileSync(join(dir, "m", "seed-0", "metrics.json"), "utf8"));
    expect(metrics.split).toEqual({ train: 32, validation: 8, test: 20 });
    expect(metrics.test.confusion).toHaveLength(2);
    expect(metrics.seed).toBe(0);
    const config = JSON.parse(readFileSync(join(dir, "m", "seed-0", "config.json"), "utf8"));
    expect(config.labelMap.classes).toEqual(["up", "down"]);
    expect(config.preprocess.normalize.method).toBe("zscore");
    const session = await ort.InferenceSession.create(join(dir, "m", "seed-0", "model.onnx"));
    const x = new ort.Tensor("float32", new Float32Array(3 * 8 * 2).fill(1), [3, 8, 2]);
    const mask = new ort.Tensor("bool", new Uint8Array(3 * 8).fill(1), [3, 8]);
    const { logits } = await session.run({ x, mask });
    expect(logits.dims).toEqual([3, 2]);
    await session.release();
  });

  it("--micro-batch splits each batch and trains the same model (validation losses to 1e-5)", async () => {
    const flags = [...common, "--batch-size", "16", "--seed", "2"];
    const whole = await cli([...flags, "--out", "whole"]);
    const micro = await cli([...flags, "--out", "micro", "--micro-batch", "5"]);
    expect([whole.code, micro.code]).toEqual([0, 0]);
    expect(micro.err).toContain("batches of 16 run in micro-batches of 5 rows");
    expect(whole.err).not.toContain("micro-batches");
    const losses = (out: string) =>
      JSON.parse(readFileSync(join(dir, out, "metrics.json"), "utf8")).epochs.map(
        (e: { valLoss: number }) => e.valLoss,
      );
    const want = losses("whole");
    losses("micro").forEach((got: number, k: number) => {
      expect(Math.abs(got - want[k])).toBeLessThan(1e-5 * want[k]);
    });
  });

  it("Ctrl-C writes a checkpoint and exits 130; --resume finishes with the same weights", async () => {
    if (!existsSync(join(dir, "m", "seed-0"))) await cli([...common, "--out", "m", "--seeds", "0,1"]);
    const controller = new AbortController();
    const first = await cli([...common, "--out", "cut", "--seed", "0"], controller.signal, (text) => {
      if (text.includes("epoch 1/2")) controller.abort();
    });
    expect(first.code).toBe(130);
    expect(first.err).toMatch(
      /interrupted at epoch 1, step 1 of 1; checkpoint written to .*checkpoint\.safetensors; run the same command with --resume/,
    );
    expect(existsSync(join(dir, "cut", "checkpoint.safetensors"))).toBe(true);
    const second = await cli([...common, "--out", "cut", "--seed", "0", "--resume"]);
    expect(second.code).toBe(0);
    expect(existsSync(join(dir, "cut", "checkpoint.safetensors"))).toBe(false);
    const a = readFileSync(join(dir, "cut", "weights.safetensors"));
    const b = readFileSync(join(dir, "m", "seed-0", "weights.safetensors"));
    expect(a.equals(b)).toBe(true);
    const again = await cli([...common, "--out", "cut", "--seed", "0", "--resume"]);
    expect([again.code, again.err]).toEqual([0, expect.stringContaining("already trained")]);
  });

  it("--data is the flag's name (--dataset its older alias): the same seed gives the same weights", async () => {
    if (!existsSync(join(dir, "m", "seed-0"))) await cli([...common, "--out", "m", "--seeds", "0,1"]);
    const rest = common.slice(2);
    const r = await cli(["--data", trainFile, ...rest, "--out", "via-data", "--seed", "0", "--quiet"]);
    expect(r.code).toBe(0);
    const a = readFileSync(join(dir, "via-data", "weights.safetensors"));
    expect(a.equals(readFileSync(join(dir, "m", "seed-0", "weights.safetensors")))).toBe(true);
    const none = await cli(rest);
    expect([none.code, none.err]).toEqual([2, expect.stringContaining("pass --data <name|path>")]);
  });

  it("--resume with another --normalize is refused, naming the setting", async () => {
    const controller = new AbortController();
    const first = await cli([...common, "--out", "norm", "--seed", "0"], controller.signal, (text) => {
      if (text.includes("epoch 1/2")) controller.abort();
    });
    expect(first.code).toBe(130);
    const second = await cli([
      ...common,
      "--out",
      "norm",
      "--seed",
      "0",
      "--resume",
      "--normalize",
      "minmax",
    ]);
    expect(second.code).toBe(2);
    expect(second.err).toMatch(/other settings:[\s\S]*normalize: zscore → minmax/);
    expect(existsSync(join(dir, "norm", "weights.safetensors"))).toBe(false);
  });

  it("--seeds 1e30 exits 2 and creates nothing", async () => {
    const { code, err } = await cli([...common, "--out", "big", "--seeds", "0,1e30"]);
    expect(code).toBe(2);
    expect(err).toContain('--seeds must be an integer ≥ 0, got "1e30"');
    expect(existsSync(join(dir, "big"))).toBe(false);
  });

  it("--out an existing file, or inside a file: exit 2 before training", async () => {
    writeFileSync(join(dir, "afile"), "x");
    for (const out of ["afile", "afile/sub"]) {
      const { code, err } = await cli([...common, "--out", out]);
      expect(code).toBe(2);
      expect(err).toMatch(/fix:/);
    }
    expect(readFileSync(join(dir, "afile"), "utf8")).toBe("x");
  });

  it("a 1-case file and an unlabelled file: exit 2 naming the file and the fix", async () => {
    const text = readFileSync(trainFile, "utf8").split("\n");
    const data = text.indexOf("@data");
    writeFileSync(join(dir, "One_TRAIN.ts"), `${text.slice(0, data + 2).join("\n")}\n`);
    const one = await cli(["--dataset", join(dir, "One_TRAIN.ts"), "--out", "one"]);
    expect(one.code).toBe(2);
    expect(one.err).toMatch(/One_TRAIN\.ts: need at least 2 training cases, got 1\n {2}fix: /);
    const unlabelled = text
      .map((line) => (line.startsWith("@classLabel") ? "@classLabel false" : line.replace(/:(up|down)$/, "")))
      .join("\n");
    writeFileSync(join(dir, "Nolab_TRAIN.ts"), unlabelled);
    const none = await cli(["--dataset", join(dir, "Nolab_TRAIN.ts"), "--out", "nolab"]);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/Nolab_TRAIN\.ts: the TRAIN data has no class labels[\s\S]*fix: /);
  });
});
