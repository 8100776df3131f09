import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { importArchStateDict } from "../../src/model/arch-import.js";
import { inspectStateDict } from "../../src/model/arch-inspect.js";
import { type ArchMap, parseArchMap, readArchMap, shippedArchMaps } from "../../src/model/arch-map.js";
import { type PthTensor, readPth } from "../../src/model/pth.js";
import { importReferenceStateDict } from "../../src/model/reference-keys.js";
import { inputErrorOf } from "./fixture-helpers.js";

const stock = (name: string) => fileURLToPath(new URL(`../fixtures/stock/${name}.pth`, import.meta.url));
const referenceDir = new URL("../../../shared/models/reference/", import.meta.url);

/** The shipped map's JSON, edited. */
function mapWith(name: string, edit: (raw: Record<string, unknown>) => void): ArchMap {
  const raw = JSON.parse(
    readFileSync(fileURLToPath(new URL(`../../maps/${name}.json`, import.meta.url)), "utf8"),
  );
  edit(raw);
  return parseArchMap(raw, `${name}.json`);
}

describe("shipped maps", () => {
  it("every map in maps/ parses, and each stock fixture imports through its own", () => {
    expect(shippedArchMaps()).toEqual([
      "mvts-transformer",
      "study-tst",
      "torch-encoder",
      "torch-encoder-pre-norm",
      "torch-encoder-seq-first",
    ]);
    for (const name of shippedArchMaps()) expect(readArchMap(name).map.layers).toContain("{l}");
  });

  it("the fused in_proj is split into W_Q, W_K, W_V row blocks; mvts's √D scale and flatten head", () => {
    const sd = readPth(stock("mvts_transformer"));
    const { config, weights } = importArchStateDict(sd, readArchMap("mvts-transformer").map, { heads: 4 });
    const inProj = sd.get("transformer_encoder.layers.1.self_attn.in_proj_weight")!.data;
    const D = config.dModel;
    expect(weights.get("blocks.1.attn.W_K")).toEqual(inProj.slice(D * D, 2 * D * D));
    expect(weights.get("blocks.1.ln2.running_var")).toEqual(
      sd.get("transformer_encoder.layers.1.norm2.running_var")!.data,
    );
    expect(config).toMatchObject({
      stem: "linear",
      embedScale: 4,
      pool: "flatten",
      normKind: "batch",
      act: "gelu",
      outputAct: "gelu",
      seqLen: 10,
      layers: 2,
    });
  });

  it("a Conv1d patch stem is reordered step-major; separate q/k/v/out projections; no positions", () => {
    const sd = readPth(stock("patch_separate_qkv"));
    const map = readArchMap(
      fileURLToPath(new URL("../fixtures/stock/patch_separate_qkv.map.json", import.meta.url)),
    );
    const { config, weights } = importArchStateDict(sd, map.map, {});
    expect(config).toMatchObject({
      stem: "patch",
      patchLen: 4,
      patchStride: 2,
      pos: "none",
      pool: "last",
      norm: "pre",
    });
    expect(config).toMatchObject({ finalNorm: true, act: "gelu", channels: 3, seqLen: 10, heads: 4 });
    const conv = sd.get("patch_embed.weight")!; // [D, C, len]
    const [, C, P] = conv.shape;
    const W = weights.get("embed.W_in")!; // [D, len·C], step-major
    for (const [d, c, i] of [
      [0, 0, 0],
      [5, 2, 3],
      [15, 1, 2],
    ]) {
      expect(W[d * P * C + i * C + c]).toBe(conv.data[d * C * P + c * P + i]);
    }
    expect(weights.get("blocks.1.attn.W_V")).toEqual(sd.get("blocks.1.attn.v_proj.weight")!.data);
    expect(weights.get("blocks.0.attn.b_O")).toEqual(sd.get("blocks.0.attn.o_proj.bias")!.data);
    expect(weights.get("ln_final.weight")).toEqual(sd.get("ln_out.weight")!.data);
  });

  it("a Linear patch stem, step-major or channel-major, gives the same W_in as the Conv1d it equals", () => {
    const file = fileURLToPath(new URL("../fixtures/stock/patch_separate_qkv.map.json", import.meta.url));
    const sd = readPth(stock("patch_separate_qkv"));
    const conv = sd.get("patch_embed.weight")!;
    const [D, C, P] = conv.shape;
    const want = importArchStateDict(sd, readArchMap(file).map, {}).weights.get("embed.W_in")!;
    for (const order of ["step_major", "channel_major"] as const) {
      const data = new Float32Array(D * P * C);
      for (let d = 0; d < D; d++) {
        for (let c = 0; c < C; c++) {
          for (let i = 0; i < P; i++) {
            const at = order === "step_major" ? i * C + c : c * P + i;
            data[d * P * C + at] = conv.data[d * C * P + c * P + i];
          }
        }
      }
      const linear = new Map(sd);
      linear.set("patch_embed.weight", { shape: [D, P * C], data, dtype: "float32" });
      const raw = JSON.parse(readFileSync(file, "utf8"));
      raw.stem.order = order;
      const { weights } = importArchStateDict(linear, parseArchMap(raw, file), {});
      expect(weights.get("embed.W_in"), order).toEqual(want);
    }
  });

  it("a positional table longer than the series is cut to its first rows (--seq-len)", () => {
    const sd = readPth(stock("torch_encoder"));
    const { config, weights } = importArchStateDict(sd, readArchMap("torch-encoder").map, {
      heads: 4,
      seqLen: 6,
    });
    expect(config.seqLen).toBe(6);
    expect(weights.get("pos_embed.W_pos")).toEqual(sd.get("pos_embedding")!.data.slice(0, 6 * 16));
  });
});

describe.runIf(existsSync(referenceDir))("the study's map on the reference checkpoints", () => {
  for (const file of ["TST_japanesevowels.pth", "TST_pendigits.pth", "TST_lsst.pth"]) {
    it(`${file}: the same config and bit-identical weights as the reference import`, () => {
      const sd = readPth(new URL(file, referenceDir).pathname);
      const want = importReferenceStateDict(sd, { file });
      const got = importArchStateDict(sd, readArchMap("study-tst").map, { file });
      expect(got.config).toEqual(want.config);
      expect([...got.weights.keys()]).toEqual([...want.weights.keys()]);
      for (const [name, data] of want.weights) {
        expect(Buffer.from(got.weights.get(name)!.buffer).equals(Buffer.from(data.buffer)), name).toBe(true);
      }
    });
  }

  it("--inspect recognises the study's TST and suggests the study's map", () => {
    const info = inspectStateDict(readPth(new URL("TST_pendigits.pth", referenceDir).pathname));
    expect(info.recognised).toContain("study's TST");
    const { description, heads, ...shipped } = JSON.parse(
      readFileSync(fileURLToPath(new URL("../../maps/study-tst.json", import.meta.url)), "utf8"),
    );
    expect(description).toBeTypeOf("string");
    expect(heads).toBe(8);
    expect(info.suggestedMap).toEqual(shipped);
  });
});

describe("--inspect suggestions on the stock fixtures", () => {
  for (const [fixture, map] of [
    ["torch_encoder", "torch-encoder"],
    ["torch_encoder_seq_first", "torch-encoder-seq-first"],
    ["mvts_transformer", "mvts-transformer"],
  ] as const) {
    it(`${fixture}: the suggestion is the shipped ${map} map`, () => {
      const info = inspectStateDict(readPth(stock(fixture)));
      const { description: _, ...shipped } = JSON.parse(
        readFileSync(fileURLToPath(new URL(`../../maps/${map}.json`, import.meta.url)), "utf8"),
      );
      expect(info.suggestedMap).toEqual(shipped);
      expect(info.notes.some((n) => n.startsWith("heads:"))).toBe(true);
    });
  }

  it("groups keys by module: one group per numbered layer", () => {
    const info = inspectStateDict(readPth(stock("torch_encoder")));
    expect(info.groups.map((g) => g.prefix)).toEqual([
      "pos_embedding",
      "input_proj",
      "encoder.layers.0",
      "encoder.layers.1",
      "classifier",
    ]);
  });

  it("a checkpoint without encoder layers: no suggestion, a note saying why", () => {
    const sd = new Map<string, PthTensor>([
      ["fc.weight", { shape: [2, 3], data: new Float32Array(6), dtype: "float32" }],
    ]);
    const info = inspectStateDict(sd);
    expect(info.suggestedMap).toBeNull();
    expect(info.notes[0]).toMatch(/no nn.TransformerEncoderLayer keys/);
  });
});

describe("bad maps and checkpoints: InputError naming the field or key and what was expected", () => {
  const sd = () => readPth(stock("torch_encoder"));
  const map = readArchMap("torch-encoder").map;

  it("a map field with an unknown value, an unknown field, a missing required field, a wrong type", () => {
    let e = inputErrorOf(() => mapWith("torch-encoder", (m) => (m.pool = "attention")));
    expect(e.field).toBe("pool");
    expect(e.message).toMatch(/pool must be one of "max", "mean", "cls", "last", "flatten", got "attention"/);
    e = inputErrorOf(() => mapWith("torch-encoder", (m) => (m.norm_frist = true)));
    expect(e.field).toBe("norm_frist");
    expect(e.message).toMatch(/unknown field "norm_frist"[\s\S]*known fields: .*norm_first/);
    e = inputErrorOf(() => mapWith("torch-encoder", (m) => delete m.head));
    expect(e.message).toMatch(/"head" is required/);
    e = inputErrorOf(() => mapWith("torch-encoder", (m) => (m.stem = { kind: "embedding", key: "x" })));
    expect(e.field).toBe("stem.kind");
    e = inputErrorOf(() => mapWith("torch-encoder", (m) => (m.layers = "encoder.layers")));
    expect(e.message).toMatch(/layers must contain \{l\} exactly once/);
    e = inputErrorOf(() => mapWith("torch-encoder", (m) => (m.norm_first = "yes")));
    expect(e.message).toMatch(/norm_first must be true or false, got "yes"/);
    e = inputErrorOf(() => mapWith("torch-encoder", (m) => (m.pool = "cls")));
    expect(e.message).toMatch(/pool "cls" needs the CLS token's key/);
    e = inputErrorOf(() => mapWith("torch-encoder", (m) => (m.norm_eps = 1e-6)));
    expect(e.message).toMatch(/family cannot express norm_eps 0.000001/);
    expect(e.message).toMatch(/torch.onnx.export/);
  });

  it("a key the map names but the checkpoint lacks: the key, the map field and the shape expected", () => {
    const d = sd();
    d.delete("encoder.layers.1.linear2.bias");
    const e = inputErrorOf(() => importArchStateDict(d, map, { heads: 4, file: "m.pth" }));
    expect(e.message).toMatch(
      /missing key encoder\.layers\.1\.linear2\.bias \(map field mlp\.out; expected shape \[16\]\)/,
    );
    expect(e.file).toBe("m.pth");
  });

  it("a map naming a key the checkpoint lacks: the map field is named", () => {
    const wrong = mapWith("torch-encoder", (m) => (m.mlp = { in: "fc1", out: "linear2" }));
    const e = inputErrorOf(() => importArchStateDict(sd(), wrong, { heads: 4 }));
    expect(e.message).toMatch(/missing key encoder\.layers\.0\.fc1\.weight \(map field mlp\.in\)/);
  });

  it("a shape that disagrees with the map", () => {
    const d = sd();
    d.set("encoder.layers.0.norm2.weight", { shape: [15], data: new Float32Array(15), dtype: "float32" });
    const e = inputErrorOf(() => importArchStateDict(d, map, { heads: 4 }));
    expect(e.message).toMatch(
      /wrong shape for encoder\.layers\.0\.norm2\.weight \(map field norm2\): \[15\], expected \[16\]/,
    );
    // batch_first false expects the [T, 1, D] layout of the positional table
    const seqFirst = mapWith("torch-encoder", (m) => (m.batch_first = false));
    const e2 = inputErrorOf(() => importArchStateDict(sd(), seqFirst, { heads: 4, seqLen: 10 }));
    expect(e2.message).toMatch(
      /wrong shape for pos_embedding \(map field pos\.key\): \[1,10,16\], expected \[≥10,16\] or \[≥10,1,16\]/,
    );
  });

  it("keys the map does not account for (a custom attention): which part, and the ONNX route", () => {
    const d = sd();
    d.set("encoder.layers.0.self_attn.rel_pos_bias", {
      shape: [4, 19],
      data: new Float32Array(76),
      dtype: "float32",
    });
    const e = inputErrorOf(() => importArchStateDict(d, map, { heads: 4 }));
    expect(e.message).toMatch(/parts outside the model family/);
    expect(e.message).toMatch(/encoder\.layers\.0\.self_attn: rel_pos_bias \[4,19\]/);
    expect(e.message).toMatch(/torch\.onnx\.export/);
    expect(e.message).toMatch(/"ignore"/);
    // listed in "ignore", the key is left out and the rest imports
    const ignoring = mapWith("torch-encoder", (m) => (m.ignore = ["*.rel_pos_bias"]));
    expect(importArchStateDict(d, ignoring, { heads: 4 }).config.layers).toBe(2);
  });

  it("heads not given; steps the weights cannot tell; no key matching the layers template", () => {
    let e = inputErrorOf(() => importArchStateDict(sd(), map, {}));
    expect(e.field).toBe("heads");
    expect(e.message).toMatch(/fix: pass --heads N/);
    e = inputErrorOf(() => importArchStateDict(sd(), map, { heads: 5 }));
    expect(e.message).toMatch(/dModel 16 is not divisible by heads 5/);
    const seqFirst = readArchMap("torch-encoder-seq-first").map;
    e = inputErrorOf(() =>
      importArchStateDict(readPth(stock("torch_encoder_seq_first")), seqFirst, { heads: 4 }),
    );
    expect(e.field).toBe("seq_len");
    expect(e.message).toMatch(/--seq-len S/);
    const wrongLayers = mapWith("torch-encoder", (m) => (m.layers = "transformer.blocks.{l}"));
    e = inputErrorOf(() => importArchStateDict(sd(), wrongLayers, { heads: 4 }));
    expect(e.message).toMatch(
      /no key of the checkpoint matches the map's layers "transformer\.blocks\.\{l\}\.\*"/,
    );
    expect(e.message).toMatch(/--inspect/);
  });

  it("a sinusoidal buffer that is not the family's table", () => {
    const d = readPth(stock("torch_encoder_seq_first"));
    const pe = d.get("pos_encoder.pe")!;
    const data = pe.data.slice();
    data[16 * 3 + 5] += 0.01;
    d.set("pos_encoder.pe", { ...pe, data });
    const e = inputErrorOf(() =>
      importArchStateDict(d, readArchMap("torch-encoder-seq-first").map, { heads: 4, seqLen: 10 }),
    );
    expect(e.message).toMatch(
      /pos_encoder\.pe is not the sinusoidal table the family computes \(largest difference 1\.00e-2\)/,
    );
  });

  it("an unknown shipped map name lists the shipped ones", () => {
    const e = inputErrorOf(() => readArchMap("torch-encoderr"));
    expect(e.message).toMatch(/no arch map "torch-encoderr"[\s\S]*torch-encoder-pre-norm/);
  });
});
