import { execFile } from "node:child_process";
import {
  closeSync,
  cpSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryIO } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/main.js";
import { InputError } from "../../src/errors.js";
import { importPth } from "../../src/model/import-pth.js";
import { loadModel, saveModel } from "../../src/model/model-dir.js";
import { paramShapes } from "../../src/model/param-names.js";
import { readPth } from "../../src/model/pth.js";
import { importReferenceStateDict } from "../../src/model/reference-keys.js";
import { decodeSafetensors, readSafetensors, writeSafetensors } from "../../src/model/safetensors.js";
import { readCheckpoint, writeCheckpoint } from "../../src/train/checkpoint.js";
import { openZip } from "../../src/zip-archive.js";
import { writeZip, zerosDeflated } from "../zip-writer.js";

// Crafted and tiny checkpoints written by scripts/fixtures/hostile_pth_fixtures.py.
const HOSTILE = fileURLToPath(new URL("../fixtures/pth/hostile/", import.meta.url));
const REPO = fileURLToPath(new URL("../../", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "tspatch-hostile-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function loadPth(path: string) {
  return importReferenceStateDict(readPth(path), { file: path });
}

function inputErrorOf(f: () => unknown): InputError {
  try {
    f();
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return error;
  }
  throw new Error("expected an InputError");
}

async function cli(...argv: string[]) {
  const io = memoryIO();
  const code = await runCli(argv, io);
  return { code, out: io.out.join(""), err: io.err.join("") };
}

describe("crafted .pth pickles are refused with the tensor and the fault named", () => {
  const cases: [string, RegExp][] = [
    ["stride_string", /tensor "w": its stride\[0\] is the string "a", not a non-negative integer/],
    ["stride_negative", /tensor "w": its stride\[0\] is the number -1/],
    ["offset_float", /tensor "w": its storage offset is the number 1\.5/],
    ["size_bool", /tensor "w": its size\[0\] is the bool true/],
    ["size_huge_int", /data\.pkl is not a readable pickle/],
    ["size_dict", /tensor "w": its size is a dict with keys a, not a tuple of integers/],
    ["size_list_proto", /tensor "w": its size is a list with a prototype set on it by BUILD/],
    [
      "storage_type_dtype",
      /data\.pkl is not a readable pickle \(Cannot assign to read only property 'dtype'/,
    ],
    ["storage_type_proto_dtype", /data\.pkl is not a readable pickle \(Cannot assign to read only property/],
    ["size_2e40_stride0", /tensor "w": size \[1099511627776\] declares more than 16777216 values/],
    ["size_2e29_stride0", /tensor "w": size \[536870912\] declares more than 16777216 values/],
    ["storage_numel_lies", /storage data\/0 has 16 bytes, expected 1000000 × 4/],
    ["storage_key_path", /tensor "w": has a storage key the string "\.\.\/\.\.\/x"/],
    ["storage_not_a_type", /tensor "w": has a persistent id that is not \('storage', torch\.<Type>Storage/],
    ["root_list_proto", /holds a list with a prototype set on it by BUILD, not a state dict/],
    ["root_dict_opcode", /holds a dict with attributes or a prototype set on it/],
    ["value_not_tensor", /entry "w" is a tuple\/list, not a tensor/],
    ["key_not_string", /has a key the number 3; a state dict's keys are tensor names/],
  ];
  it("through the CLI: import-pth exits 2 with the message and no stack", async () => {
    for (const name of [
      "stride_string",
      "size_dict",
      "storage_type_dtype",
      "root_list_proto",
      "size_2e40_stride0",
    ]) {
      const r = await cli(
        "import-pth",
        join(HOSTILE, `crafted_${name}.pth`),
        "--out",
        join(tmp, `cli-${name}`),
      );
      expect(r.code, name).toBe(2);
      expect(r.err, name).toMatch(new RegExp(`crafted_${name}\\.pth: `));
      expect(r.err, name).not.toMatch(/internal error|\n\s+at /);
    }
  });

  for (const [name, message] of cases) {
    it(name, () => {
      const error = inputErrorOf(() => loadPth(join(HOSTILE, `crafted_${name}.pth`)));
      expect(error.message).toMatch(message);
      expect(error.message).toContain(`crafted_${name}.pth: `);
    });
  }
});

describe("non-finite weights are refused on load, naming the tensor", () => {
  it("the tiny checkpoint itself loads (the fixtures differ only in the bad value)", () => {
    const { config, weights } = loadPth(join(HOSTILE, "tiny.pth"));
    expect(config).toMatchObject({ channels: 2, seqLen: 6, classes: 3, dModel: 8, ff: 16 });
    expect([...weights.keys()]).toEqual(paramShapes(config).map((p) => p.name));
    const shapes = JSON.parse(readFileSync(join(HOSTILE, "tiny.json"), "utf8")) as Record<string, number[]>;
    expect(shapes["transformer_encoder.layers.2.linear1.weight"]).toEqual([16, 8]);
  });

  it("a .pth with NaN or Inf: import-pth exits 2 naming the tensor and writes nothing", async () => {
    for (const [file, message] of [
      ["tiny_nan.pth", /classifier\.bias has 1 non-finite value \(NaN at index 1\)/],
      ["tiny_inf.pth", /conv1\.weight has 1 non-finite value \(Infinity at index 0\)/],
    ] as const) {
      const out = join(tmp, `import-${file}`);
      const r = await cli("import-pth", join(HOSTILE, file), "--out", out);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(message);
      expect(() => readFileSync(join(out, "config.json"))).toThrow();
    }
  });

  it("a weights.safetensors with NaN: loadModel and export refuse it naming the tensor", async () => {
    const dir = join(tmp, "nan-model");
    saveModel(importPth(join(HOSTILE, "tiny.pth")).model, dir);
    const { tensors, metadata } = readSafetensors(join(dir, "weights.safetensors"));
    const bias = tensors.get("unembed.b_U")!.data as Float32Array;
    bias[2] = Number.NaN;
    writeSafetensors(join(dir, "weights.safetensors"), tensors, metadata);
    expect(inputErrorOf(() => loadModel(dir)).message).toMatch(
      /weights\.safetensors: weights are not finite: unembed\.b_U has 1 non-finite value \(NaN at index 2\)/,
    );
    const r = await cli("export", "--model", dir, "--onnx", join(tmp, "nan.onnx"));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unembed\.b_U/);
  });
});

describe("config.json is checked against its schema, naming the field", () => {
  const dir = join(tmp, "config-model");
  let good: Record<string, unknown>;
  beforeAll(() => {
    saveModel(importPth(join(HOSTILE, "tiny.pth")).model, dir);
    good = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  });
  const preprocess = {
    layout: "cases×time×channels",
    channels: 2,
    missing: "error",
    resampleLength: null,
    normalize: { method: "zscore", shift: [0, 1], scale: [1, 2], constantChannels: [] },
    padLength: 6,
    fittedOn: "toy",
  };
  /** config.json as the tests edit it (any field may be set to anything). */
  type Editable = Record<string, unknown> & { config: Record<string, unknown> };
  const cases: [string, (c: Editable) => void, RegExp][] = [
    [
      "config: null",
      (c) => Object.assign(c, { config: null }),
      /config must be an object, got null \(config\)/,
    ],
    [
      "kernels: 5",
      (c) => (c.config.kernels = 5),
      /config\.kernels must be a list of three positive integers, got 5/,
    ],
    [
      "convChannels: {}",
      (c) => (c.config.convChannels = {}),
      /config\.convChannels must be a list of three positive integers, got \{\}/,
    ],
    ['heads: "8"', (c) => (c.config.heads = "8"), /config\.heads must be a positive integer, got "8"/],
    [
      "channels missing",
      (c) => delete c.config.channels,
      /config\.channels must be a positive integer, got nothing/,
    ],
    ["dropout 2", (c) => (c.config.dropout = 2), /config\.dropout must be a number in \[0, 1\), got 2/],
    ["kernels even", (c) => (c.config.kernels = [4, 3, 3]), /kernels must be odd.*\(config\.kernels\)/],
    ["version 99", (c) => (c.version = 99), /written by a newer tspatch/],
    ["format", (c) => (c.format = "x"), /format must be "tspatch-model", got "x"/],
    ['provenance: "x"', (c) => (c.provenance = "x"), /provenance must be an object/],
    ["labelMap: 3", (c) => (c.labelMap = 3), /not a label map.*\(labelMap\)/],
    ["preprocess: 5", (c) => (c.preprocess = 5), /preprocess must be an object, got 5/],
    [
      "preprocess.missing",
      (c) => (c.preprocess = { ...preprocess, missing: "drop" }),
      /preprocess\.missing must be one of "error", "interpolate", got "drop"/,
    ],
    [
      "preprocess.resampleLength",
      (c) => (c.preprocess = { ...preprocess, resampleLength: "6" }),
      /preprocess\.resampleLength must be a positive integer, got "6"/,
    ],
    [
      "preprocess.normalize.scale",
      (c) => (c.preprocess = { ...preprocess, normalize: { ...preprocess.normalize, scale: [1, 0] } }),
      /preprocess\.normalize\.scale must be a list of 2 finite numbers \(non-zero\)/,
    ],
  ];
  for (const [label, edit, message] of cases) {
    it(label, () => {
      const broken = structuredClone(good) as Editable;
      edit(broken);
      const variant = join(tmp, `config-${label.replace(/\W+/g, "_")}`);
      cpSync(dir, variant, { recursive: true });
      writeFileSync(join(variant, "config.json"), JSON.stringify(broken));
      const error = inputErrorOf(() => loadModel(variant));
      expect(error.message).toMatch(message);
      expect(error.message).toContain("config.json");
    });
  }

  it("a valid preprocess section loads", () => {
    const variant = join(tmp, "config-good-preprocess");
    cpSync(dir, variant, { recursive: true });
    writeFileSync(join(variant, "config.json"), JSON.stringify({ ...good, preprocess }));
    expect(loadModel(variant).model.preprocess?.normalize.scale).toEqual([1, 2]);
  });

  it("a config.json of 20 MiB is refused before it is read", () => {
    const variant = join(tmp, "config-huge");
    cpSync(dir, variant, { recursive: true });
    sparseFile(join("config-huge", "config.json"), 20 << 20);
    expect(inputErrorOf(() => loadModel(variant)).message).toMatch(
      /config\.json: holds more than 16777216 bytes/,
    );
  });

  it("a weights file larger than the config needs is refused before it is read", () => {
    const variant = join(tmp, "config-big-weights");
    cpSync(dir, variant, { recursive: true });
    sparseFile(join("config-big-weights", "weights.safetensors"), 64 << 20);
    expect(inputErrorOf(() => loadModel(variant)).message).toMatch(
      /weights\.safetensors: holds more than the \d+ bytes its tensors can need/,
    );
  });
});

/** A weights file of `entries` F32 tensors that all claim the same 4.4 MB span. */
function overlappingSafetensors(entries: number): Uint8Array {
  const count = 1_100_000;
  const header: Record<string, unknown> = {};
  for (let i = 0; i < entries; i++) {
    header[`t${i}`] = { dtype: "F32", shape: [count], data_offsets: [0, 4 * count] };
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + 4 * count);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

/** tiny.pth with its first storage replaced by 1.5 GiB of zeros in 1.5 MB; `declared` is the size its headers give. */
function bombPth(declared: "lie" | "truth"): Uint8Array {
  const bytes = readFileSync(join(HOSTILE, "tiny.pth"));
  const zip = openZip(bytes, { maxTotalBytes: 1 << 24 }, "tiny.pth");
  const storage = [...zip.entries.keys()].find((n) => n.endsWith("/data/0"))!;
  const zeros = zerosDeflated(1.5 * 2 ** 30);
  return writeZip(
    [...zip.entries.keys()].map((name) =>
      name === storage
        ? {
            name,
            deflated: zeros,
            declaredSize: declared === "lie" ? zip.entries.get(name)!.size : 1.5 * 2 ** 30,
          }
        : { name, data: zip.read(name) },
    ),
  );
}

describe("memory amplification: sizes are checked against the bytes present before allocating", () => {
  it("3,000 safetensors entries over one 4.4 MB span: refused at the overlap check, nothing copied", () => {
    const before = process.memoryUsage().arrayBuffers;
    const error = inputErrorOf(() => decodeSafetensors(overlappingSafetensors(3000), "weights.safetensors"));
    expect(error.message).toMatch(/tensor data overlaps the previous tensor/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 << 20);
  });

  it("a .pth listing 5,000 entries is refused before they are read", () => {
    const entries = Array.from({ length: 5000 }, (_, i) => ({ name: `archive/data/${i}` }));
    expect(inputErrorOf(() => loadPth(writePth("many.pth", writeZip(entries)))).message).toMatch(
      /lists 5000 entries, more than the 4096/,
    );
  });

  it("a data.pkl over 256 KiB is refused before it is unpickled", () => {
    expect(
      inputErrorOf(() => loadPth(writePth("big-pickle.pth", dictsPickle((256 << 10) + 1)))).message,
    ).toMatch(/has a data\.pkl larger than 262144 bytes/);
  });

  it("a .pth zip bomb is refused: by its declared size, or when it unpacks past it", () => {
    expect(inputErrorOf(() => loadPth(writePth("bomb-truth.pth", bombPth("truth")))).message).toMatch(
      /unpacks to more than 64 MiB \(".*\/data\/0" declares 1536 MiB\)/,
    );
    expect(inputErrorOf(() => loadPth(writePth("bomb-lie.pth", bombPth("lie")))).message).toMatch(
      /"\S*\/data\/0" unpacks to more than the \d+ bytes it declares \(corrupt, or a zip bomb\)/,
    );
  });

  it("peak RSS of rejecting each hostile file, measured in a child process, stays under 300 MB", async () => {
    const files: [string, string, string][] = [
      ["baseline (imports only)", "baseline", ""],
      [
        "534-byte .pth asking for 2 GiB (size 2^29, stride 0)",
        "pth",
        join(HOSTILE, "crafted_size_2e29_stride0.pth"),
      ],
      ["1.5 MB .pth zip bomb, sizes declared truly", "pth", writePth("bomb-truth.pth", bombPth("truth"))],
      ["1.5 MB .pth zip bomb, sizes declared falsely", "pth", writePth("bomb-lie.pth", bombPth("lie"))],
      [
        "4.4 MB weights.safetensors, 3,000 overlapping entries",
        "safetensors",
        writePth("overlap.safetensors", overlappingSafetensors(3000)),
      ],
      ["600 MiB .ts (sparse file)", "data", sparseFile("big_TRAIN.ts", 600 << 20)],
      ["/dev/zero as a .pth (a device without an end)", "pth", "/dev/zero"],
      [
        "a 256 KiB data.pkl of EMPTY_DICT opcodes (one Map each)",
        "pth",
        writePth("dicts.pth", dictsPickle(256 << 10)),
      ],
    ];
    const run = promisify(execFile);
    const results: { label: string; outcome: string; peakRssMB: number }[] = [];
    for (let i = 0; i < files.length; i += 2) {
      const batch = files.slice(i, i + 2).map(async ([label, kind, path]) => {
        const { stdout } = await run(
          process.execPath,
          ["--import", "tsx", "test/model/peak-rss-child.ts", kind, path],
          {
            cwd: REPO,
            env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE" },
          },
        );
        return { label, ...(JSON.parse(stdout) as { outcome: string; peakRssMB: number }) };
      });
      results.push(...(await Promise.all(batch)));
    }
    console.log(
      results
        .map((r) => `${r.peakRssMB.toFixed(0).padStart(5)} MB  ${r.outcome.padEnd(10)}  ${r.label}`)
        .join("\n"),
    );
    for (const r of results.slice(1)) {
      expect(r.outcome, r.label).toBe("InputError");
      expect(r.peakRssMB, r.label).toBeLessThan(300);
    }
  });
});

/** A .pth whose data.pkl of `bytes` bytes is EMPTY_DICT opcodes: the densest allocation a pickle can ask for. */
function dictsPickle(bytes: number): Uint8Array {
  const pkl = new Uint8Array(bytes).fill(0x7d);
  pkl.set([0x80, 2]);
  pkl[bytes - 1] = 0x2e;
  return writeZip([{ name: "archive/data.pkl", data: pkl, deflate: true }]);
}

function writePth(name: string, bytes: Uint8Array): string {
  const path = join(tmp, name);
  writeFileSync(path, bytes);
  return path;
}

function sparseFile(name: string, bytes: number): string {
  const path = join(tmp, name);
  const fd = openSync(path, "w");
  ftruncateSync(fd, bytes);
  closeSync(fd);
  return path;
}

describe("a training checkpoint is checked before a resume reads it", () => {
  const position = {
    settings: {
      batchSize: 4,
      lr: 0.001,
      weightDecay: 0,
      valFraction: 0,
      patience: 5,
      seed: 1,
      normalize: "zscore",
      modelSetup: "0",
      threads: 1,
    },
    data: "abc",
    epoch: 1,
    stepInEpoch: 0,
    globalStep: 3,
    partial: { lossSum: 0, correct: 0, seen: 0, seconds: 0 },
    history: [],
    best: null,
    epochsSinceBest: 0,
    numBatchesTracked: {},
    elapsedSeconds: 1,
  };
  const write = (name: string, pos: unknown, value = 0.5) => {
    const path = join(tmp, name);
    writeCheckpoint(path, {
      position: pos as typeof position,
      params: new Map([["unembed.b_U", Float32Array.of(1, value)]]),
      optimizer: { step: 3, expAvg: new Map(), expAvgSq: new Map() },
      best: null,
    });
    return path;
  };

  it("a valid one reads back", () => {
    expect(readCheckpoint(write("ok.safetensors", position)).position).toEqual(position);
  });

  for (const [label, pos, field] of [
    ["position null", null, "position"],
    ["settings missing", { ...position, settings: undefined }, "position.settings"],
    ["epoch a string", { ...position, epoch: "1" }, "position.epoch"],
    ["history an object", { ...position, history: {} }, "position.history"],
  ] as const) {
    it(label, () => {
      expect(inputErrorOf(() => readCheckpoint(write("bad.safetensors", pos))).message).toMatch(
        new RegExp(`the checkpoint's ${field.replace(".", "\\.")} record is missing or of the wrong type`),
      );
    });
  }

  it("NaN weights", () => {
    expect(
      inputErrorOf(() => readCheckpoint(write("nan.safetensors", position, Number.NaN))).message,
    ).toMatch(/unembed\.b_U has 1 non-finite value \(NaN at index 1\)/);
  });
});
