import { inputError } from "../errors.js";
import { type ArchMap, ONNX_ROUTE_HINT } from "./arch-map.js";
import { makeConfig, pooledWidth, type TSTConfig, tokenCount } from "./config.js";
import { assertFiniteWeights } from "./finite-weights.js";
import { numel, paramShapes } from "./param-names.js";
import { sinusoidalTable } from "./pooling.js";
import type { ReferenceImport, ReferenceTensor } from "./reference-keys.js";

/** What the map cannot say and the weights cannot tell; command-line flags win over the map's fields. */
export interface ArchImportOptions {
  heads?: number;
  seqLen?: number;
  /** The checkpoint's and the map's names, for messages. */
  file?: string;
  mapFile?: string;
}

/** One checkpoint tensor the map names: where it goes and the shape(s) it must have. */
interface Expected {
  readonly key: string;
  /** The map field that names it (for messages). */
  readonly field: string;
  /** Accepted shapes (layouts of the same values); a 0 accepts any length of at least `minRows` there. */
  readonly shapes: readonly (readonly number[])[];
  /** Rows a 0 in `shapes` needs at least (a positional table longer than the tokens). */
  readonly minRows?: number;
  /** Canonical name(s) and how to take the values out of the tensor. */
  readonly target: (data: Float32Array, shape: readonly number[]) => [string, Float32Array][];
  /** `num_batches_tracked`: written by newer PyTorch only. */
  readonly optional?: boolean;
}

/**
 * Maps a PyTorch state dict through a component map to a family config and canonical weights
 * (src/model/param-names.ts). Every problem is collected and reported in one InputError: a key the
 * map names that the checkpoint lacks, a shape that disagrees (with the map field that named the
 * key and the shape expected), and keys the map does not account for, which mean a part the
 * family cannot express.
 *
 * @example
 * const { map } = readArchMap("torch-encoder");
 * const { config, weights } = importArchStateDict(readPth("model.pth"), map, { heads: 4, file: "model.pth" });
 */
export function importArchStateDict(
  stateDict: ReadonlyMap<string, ReferenceTensor>,
  map: ArchMap,
  options: ArchImportOptions = {},
): ReferenceImport {
  const file = options.file;
  const where = options.mapFile === undefined ? "" : ` (map ${options.mapFile})`;
  const layerKey = (l: number, rel: string) => join(map.layers.replace("{l}", String(l)), rel);
  const layers = countLayers(stateDict, map, file, where);
  const config = inferConfig(stateDict, map, layers, layerKey, options, where);
  const expected = expectedTensors(config, map, layerKey);

  const problems: string[] = [];
  const used = new Set<string>();
  const source = new Map<string, Float32Array>();
  for (const e of expected) {
    used.add(e.key);
    const t = stateDict.get(e.key);
    if (t === undefined) {
      if (!e.optional)
        problems.push(`missing key ${e.key} (map field ${e.field}; expected shape [${e.shapes[0]}])`);
      continue;
    }
    if (!e.shapes.some((s) => fitsShape(t.shape, s, e.minRows ?? 0))) {
      const accepted = e.shapes.map((s) => `[${s.map((d) => (d === 0 ? `≥${e.minRows}` : d))}]`).join(" or ");
      problems.push(`wrong shape for ${e.key} (map field ${e.field}): [${t.shape}], expected ${accepted}`);
      continue;
    }
    for (const [name, values] of e.target(t.data, t.shape)) source.set(name, values);
  }
  const leftover = [...stateDict.keys()].filter(
    (k) => !used.has(k) && !k.endsWith(".num_batches_tracked") && !map.ignore.some((g) => globMatch(g, k)),
  );
  if (problems.length > 0 || leftover.length > 0) {
    throw mismatchError(problems, leftover, stateDict, config, file, where);
  }
  if (map.pos.kind === "sinusoidal" && map.pos.key !== null) {
    checkSinusoidalBuffer(stateDict.get(map.pos.key)!, config, map.pos.key, file);
  }
  assertFiniteWeights(
    expected.filter((e) => stateDict.has(e.key)).map((e) => [e.key, stateDict.get(e.key)!.data]),
    file,
  );
  const weights = new Map<string, Float32Array>();
  for (const { name, shape } of paramShapes(config)) {
    const data = source.get(name);
    if (data === undefined || data.length !== numel(shape)) {
      throw new Error(
        `internal: the arch import produced ${data?.length ?? "no"} values for ${name} [${shape}]`,
      );
    }
    weights.set(name, data.slice());
  }
  return { config, weights };
}

function countLayers(
  sd: ReadonlyMap<string, ReferenceTensor>,
  map: ArchMap,
  file: string | undefined,
  where: string,
): number {
  const [before, after] = map.layers.split("{l}");
  const pattern = new RegExp(`^${escapeRegExp(before)}(0|[1-9]\\d*)${escapeRegExp(after)}\\.`);
  let layers = 0;
  for (const key of sd.keys()) {
    const m = pattern.exec(key);
    if (m) layers = Math.max(layers, Number(m[1]) + 1);
  }
  if (layers === 0) {
    throw inputError(`no key of the checkpoint matches the map's layers "${map.layers}.*"${where}`, {
      file,
      field: "layers",
      hint: `keys found: ${sample([...sd.keys()])}; run \`tspatch import-pth <file.pth> --inspect\` for a suggested map`,
    });
  }
  return layers;
}

function inferConfig(
  sd: ReadonlyMap<string, ReferenceTensor>,
  map: ArchMap,
  layers: number,
  layerKey: (l: number, rel: string) => string,
  options: ArchImportOptions,
  where: string,
): TSTConfig {
  const file = options.file;
  /** A dimension read from a tensor the map names; a missing tensor is an error naming the field. */
  const dim = (key: string, axis: number, field: string, what: string): number => {
    const t = sd.get(key);
    if (t === undefined || t.shape.length <= axis) {
      throw inputError(
        t === undefined
          ? `missing key ${key} (map field ${field}), needed for ${what}${where}`
          : `${key} (map field ${field}) has shape [${t.shape}], too few axes for ${what}${where}`,
        { file, field, hint: `${nearbyKeys(sd, key)}; fix the map's ${field}` },
      );
    }
    return t.shape[axis];
  };
  const attnOut = map.attn.kind === "fused" ? join(map.attn.key, "out_proj") : map.attn.out;
  const dModel = dim(`${layerKey(0, attnOut)}.weight`, 0, "attn", "d_model");
  const ff = dim(`${layerKey(0, map.mlp.in)}.weight`, 0, "mlp.in", "the feed-forward width");
  const classes = dim(`${map.head.out}.weight`, 0, "head", "the number of classes");
  const headHidden =
    map.head.hidden === null ? 0 : dim(`${map.head.hidden}.weight`, 0, "head.hidden", "the head's width");
  const headIn =
    map.head.hidden === null
      ? dim(`${map.head.out}.weight`, 1, "head", "the pooled width")
      : dim(`${map.head.hidden}.weight`, 1, "head.hidden", "the pooled width");

  const heads = options.heads ?? map.heads;
  if (heads === null) {
    throw inputError(`the number of attention heads is not given${where}`, {
      file,
      field: "heads",
      hint: 'pass --heads N, or put "heads": N in the map (weights cannot tell it: nn.MultiheadAttention(d_model, N))',
    });
  }

  const stem = map.stem;
  let channels: number;
  let conv: Pick<TSTConfig, "kernels" | "convChannels"> | undefined;
  if (stem.kind === "linear") channels = dim(`${stem.key}.weight`, 1, "stem.key", "the input channels");
  else if (stem.kind === "patch") {
    const w = sd.get(`${stem.key}.weight`);
    if (w !== undefined && w.shape.length === 3) channels = w.shape[1];
    else {
      const width = dim(`${stem.key}.weight`, 1, "stem.key", "the input channels");
      if (width % stem.len !== 0) {
        throw inputError(
          `${stem.key}.weight has ${width} inputs, not a multiple of stem.len ${stem.len}${where}`,
          { file, field: "stem.len", hint: "a patch stem's Linear takes patch_len × channels inputs" },
        );
      }
      channels = width / stem.len;
    }
  } else {
    const convKey = (i: number) => `${stem.conv.replace("{i}", String(i))}.weight`;
    channels = dim(convKey(1), 1, "stem.conv", "the input channels");
    const read = (axis: number) =>
      [1, 2, 3].map((i) => dim(convKey(i), axis, "stem.conv", "the conv stack")) as [number, number, number];
    conv = { kernels: read(2), convChannels: read(0) };
  }

  // tokens from the positional table or the flatten head; steps from the tokens unless given
  const cls = map.cls !== null ? 1 : 0;
  let tokensFromWeights: number | null = null;
  if (map.pos.kind === "learned") {
    const t = sd.get(map.pos.key);
    if (t === undefined)
      throw inputError(`missing key ${map.pos.key} (map field pos.key)${where}`, {
        file,
        field: "pos.key",
        hint: `keys found: ${sample([...sd.keys()])}`,
      });
    tokensFromWeights = t.shape.length === 2 ? t.shape[0] : map.batchFirst ? t.shape[1] : t.shape[0];
  }
  if (map.pool === "flatten") tokensFromWeights = headIn / dModel;
  let seqLen = options.seqLen ?? map.seqLen;
  if (seqLen === null) {
    if (stem.kind === "patch" || tokensFromWeights === null || !Number.isInteger(tokensFromWeights)) {
      throw inputError(`the number of time steps is not given and the weights cannot tell it${where}`, {
        file,
        field: "seq_len",
        hint: 'pass --seq-len S (the series length the model was trained on), or put "seq_len": S in the map',
      });
    }
    seqLen = tokensFromWeights - cls;
  }
  return makeConfig({
    channels,
    seqLen,
    classes,
    dModel,
    heads,
    layers,
    ff,
    ...(conv ?? {}),
    stem: stem.kind,
    patchLen: stem.kind === "patch" ? stem.len : 0,
    patchStride: stem.kind === "patch" ? stem.stride : 0,
    embedScale: map.embedScale === "sqrt_d_model" ? Math.sqrt(dModel) : map.embedScale,
    cls: map.cls !== null,
    pos: map.pos.kind,
    norm: map.normFirst ? "pre" : "post",
    normKind: map.normKind,
    finalNorm: map.finalNorm !== null,
    act: map.activation,
    outputAct: map.outputActivation,
    pool: map.pool,
    headHidden,
  });
}

/** Every tensor the map names for this config, with its accepted shapes and canonical target. */
function expectedTensors(
  config: TSTConfig,
  map: ArchMap,
  layerKey: (l: number, rel: string) => string,
): Expected[] {
  const { dModel: D, ff: F, classes: K, channels: C } = config;
  const T = tokenCount(config);
  const out: Expected[] = [];
  const as = (name: string) => (data: Float32Array) => [[name, data]] as [string, Float32Array][];
  const add = (
    key: string,
    field: string,
    shapes: number[][],
    target: Expected["target"],
    optional = false,
    minRows?: number,
  ) => out.push({ key, field, shapes, target, optional, minRows });
  const linear = (prefix: string, field: string, outDim: number, inDim: number, w: string, b: string) => {
    add(`${prefix}.weight`, field, [[outDim, inDim]], as(w));
    add(`${prefix}.bias`, field, [[outDim]], as(b));
  };
  const norm = (prefix: string, field: string, ours: string) => {
    const names =
      config.normKind === "batch" ? ["weight", "bias", "running_mean", "running_var"] : ["weight", "bias"];
    for (const n of names) add(`${prefix}.${n}`, field, [[D]], as(`${ours}.${n}`));
    if (config.normKind === "batch") add(`${prefix}.num_batches_tracked`, field, [[]], () => [], true);
  };
  // a table of at least T rows (max_len ≥ T), 2-D or 3-D with the batch axis where batch_first says
  const table = [[0, D], map.batchFirst ? [1, 0, D] : [0, 1, D]];

  const stem = map.stem;
  if (stem.kind === "linear") linear(stem.key, "stem.key", D, C, "embed.W_in", "embed.b_in");
  else if (stem.kind === "patch") {
    const L = stem.len;
    add(
      `${stem.key}.weight`,
      "stem.key",
      [
        [D, L * C],
        [D, C, L],
      ],
      (data, shape) => [
        [
          "embed.W_in",
          shape.length === 3 || stem.order === "channel_major" ? channelToStepMajor(data, D, C, L) : data,
        ],
      ],
    );
    add(`${stem.key}.bias`, "stem.key", [[D]], as("embed.b_in"));
  } else {
    let inChannels = C;
    for (let i = 1; i <= 3; i++) {
      const c = config.convChannels[i - 1];
      const convKey = stem.conv.replace("{i}", String(i));
      const bnKey = stem.bn.replace("{i}", String(i));
      add(
        `${convKey}.weight`,
        "stem.conv",
        [[c, inChannels, config.kernels[i - 1]]],
        as(`embed.conv${i}.weight`),
      );
      add(`${convKey}.bias`, "stem.conv", [[c]], as(`embed.conv${i}.bias`));
      for (const n of ["weight", "bias", "running_mean", "running_var"])
        add(`${bnKey}.${n}`, "stem.bn", [[c]], as(`embed.bn${i}.${n}`));
      add(`${bnKey}.num_batches_tracked`, "stem.bn", [[]], () => [], true);
      inChannels = c;
    }
  }
  if (map.cls !== null) add(map.cls, "cls", [[D], [1, 1, D]], as("embed.cls"));
  if (map.pos.kind === "learned") {
    // a table longer than the tokens (max_len) is cut to its first T rows, as the model's forward does
    add(map.pos.key, "pos.key", table, (data) => [["pos_embed.W_pos", data.subarray(0, T * D)]], false, T);
  } else if (map.pos.kind === "sinusoidal" && map.pos.key !== null) {
    add(map.pos.key, "pos.key", table, () => [], false, T);
  }
  for (let l = 0; l < config.layers; l++) {
    const b = `blocks.${l}.`;
    if (map.attn.kind === "fused") {
      const a = map.attn.key;
      const split = (kind: "W" | "b", size: number) => (data: Float32Array) =>
        ["Q", "K", "V"].map(
          (n, j) =>
            [`${b}attn.${kind}_${n}`, data.subarray(j * size, (j + 1) * size)] as [string, Float32Array],
        );
      add(layerKey(l, `${a}.in_proj_weight`), "attn", [[3 * D, D]], split("W", D * D));
      add(layerKey(l, `${a}.in_proj_bias`), "attn", [[3 * D]], split("b", D));
      linear(layerKey(l, `${a}.out_proj`), "attn", D, D, `${b}attn.W_O`, `${b}attn.b_O`);
    } else {
      for (const [n, rel] of [
        ["Q", map.attn.q],
        ["K", map.attn.k],
        ["V", map.attn.v],
        ["O", map.attn.out],
      ] as const) {
        const field = `attn.${n === "O" ? "out" : n.toLowerCase()}`;
        linear(layerKey(l, rel), field, D, D, `${b}attn.W_${n}`, `${b}attn.b_${n}`);
      }
    }
    norm(layerKey(l, map.norm1), "norm1", `${b}ln1`);
    linear(layerKey(l, map.mlp.in), "mlp.in", F, D, `${b}mlp.W_in`, `${b}mlp.b_in`);
    linear(layerKey(l, map.mlp.out), "mlp.out", D, F, `${b}mlp.W_out`, `${b}mlp.b_out`);
    norm(layerKey(l, map.norm2), "norm2", `${b}ln2`);
  }
  if (map.finalNorm !== null) norm(map.finalNorm, "final_norm", "ln_final");
  const pooled = pooledWidth(config);
  if (map.head.hidden === null) linear(map.head.out, "head", K, pooled, "unembed.W_U", "unembed.b_U");
  else {
    const H = config.headHidden;
    linear(map.head.hidden, "head.hidden", H, pooled, "unembed.W_hidden", "unembed.b_hidden");
    linear(map.head.out, "head.out", K, H, "unembed.W_U", "unembed.b_U");
  }
  return out;
}

/** One InputError for every problem: missing keys and wrong shapes, then the parts the map leaves out. */
function mismatchError(
  problems: string[],
  leftover: string[],
  sd: ReadonlyMap<string, ReferenceTensor>,
  config: TSTConfig,
  file: string | undefined,
  where: string,
): Error {
  const lines = [...problems];
  if (leftover.length > 0) {
    lines.push(
      `${leftover.length} key${leftover.length === 1 ? "" : "s"} the map does not account for, i.e. parts the model family cannot express:`,
      ...groupByModule(leftover).map(
        ([module, keys]) =>
          `  ${module}: ${keys.map((k) => `${k.slice(module.length + 1)} [${sd.get(k)!.shape}]`).join(", ")}`,
      ),
    );
  }
  const inferred =
    `inferred ${config.layers} layers, d_model ${config.dModel}, ff ${config.ff}, ` +
    `${config.channels} channels, ${config.seqLen} steps, ${config.classes} classes`;
  const onlyLeftover = problems.length === 0;
  return inputError(
    `${onlyLeftover ? "the checkpoint has parts outside the model family" : "the checkpoint does not fit the map"}${where} (${inferred}):\n  ${lines.join("\n  ")}`,
    {
      file,
      field: onlyLeftover ? undefined : "arch",
      hint: onlyLeftover
        ? `if a listed key is not used by the forward pass, list it in the map's "ignore"; otherwise ${ONNX_ROUTE_HINT}`
        : "fix the map's key names (run `tspatch import-pth <file.pth> --inspect` to see the checkpoint's keys and a suggested map)",
    },
  );
}

/** Keys grouped by their module (all but the last dot-part), in first-seen order. */
function groupByModule(keys: readonly string[]): [string, string[]][] {
  const groups = new Map<string, string[]>();
  for (const k of keys) {
    const module = k.includes(".") ? k.slice(0, k.lastIndexOf(".")) : k;
    groups.set(module, [...(groups.get(module) ?? []), k]);
  }
  return [...groups];
}

/**
 * A sinusoidal table saved as a buffer (mvts_transformer's FixedPositionalEncoding) must be the
 * table the family computes, or the imported model would differ from the checkpoint's.
 */
function checkSinusoidalBuffer(
  t: ReferenceTensor,
  config: TSTConfig,
  key: string,
  file: string | undefined,
): void {
  const worst = sinusoidalDistance(t.data, tokenCount(config), config.dModel);
  if (!(worst <= SINUSOIDAL_TOLERANCE)) {
    throw inputError(
      `${key} is not the sinusoidal table the family computes (largest difference ${worst.toExponential(2)})`,
      {
        file,
        field: "pos",
        hint: `if the model adds ${key} as it is, map it as { "kind": "learned", "key": "${key}" }`,
      },
    );
  }
}

/**
 * A table computed in float32 (as PyTorch modules do) is within ~1e-7·p of the exact one at
 * position p: 1e-4 allows tables of a thousand rows and still tells any other table apart.
 */
export const SINUSOIDAL_TOLERANCE = 1e-4;

/**
 * Largest difference between the first T rows of `data` ([≥T, D] row-major) and the family's
 * sinusoidal table ({@link sinusoidalTable}); Infinity when `data` has fewer than T rows.
 *
 * @example
 * sinusoidalDistance(table.data, 25, 64) <= SINUSOIDAL_TOLERANCE;
 */
export function sinusoidalDistance(data: ArrayLike<number>, T: number, D: number): number {
  if (data.length < T * D) return Number.POSITIVE_INFINITY;
  const want = sinusoidalTable(T, D);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(data[i] - want[i]));
  return worst;
}

/** [D, C, L] (Conv1d, or an unfold-ordered Linear) → [D, L·C], the family's step-major window order. */
function channelToStepMajor(data: Float32Array, D: number, C: number, L: number): Float32Array {
  const out = new Float32Array(D * L * C);
  for (let d = 0; d < D; d++) {
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < L; i++) out[d * L * C + i * C + c] = data[d * C * L + c * L + i];
    }
  }
  return out;
}

function join(prefix: string, rel: string): string {
  return prefix === "" ? rel : `${prefix}.${rel}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** `*` matches any run of characters; everything else literally. */
function globMatch(glob: string, key: string): boolean {
  return new RegExp(`^${glob.split("*").map(escapeRegExp).join(".*")}$`).test(key);
}

/**
 * The modules next to a missing key: the children of its nearest ancestor that has any keys
 * (`keys under encoder.layers.0: self_attn, linear1, …`), which is where a misnamed key usually is.
 */
function nearbyKeys(sd: ReadonlyMap<string, ReferenceTensor>, key: string): string {
  const parts = key.split(".");
  for (let n = parts.length - 1; n >= 1; n--) {
    const prefix = `${parts.slice(0, n).join(".")}.`;
    const children = new Set<string>();
    for (const k of sd.keys()) if (k.startsWith(prefix)) children.add(k.slice(prefix.length).split(".")[0]);
    if (children.size > 0) return `keys under ${prefix.slice(0, -1)}: ${[...children].join(", ")}`;
  }
  return `keys found: ${sample([...sd.keys()])}`;
}

function sample(keys: readonly string[]): string {
  return `${keys.slice(0, 8).join(", ")}${keys.length > 8 ? `, … (${keys.length} in all)` : ""}`;
}

/** Same rank and sizes; a 0 in `want` takes any size ≥ minRows. */
function fitsShape(got: readonly number[], want: readonly number[], minRows: number): boolean {
  return got.length === want.length && want.every((d, i) => (d === 0 ? got[i] >= minRows : got[i] === d));
}
