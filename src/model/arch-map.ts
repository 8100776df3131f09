import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { inputError } from "../errors.js";
import { readTextFile } from "../fs-error.js";
import {
  ACTIVATIONS,
  type Activation,
  NORM_KINDS,
  type NormKind,
  OUTPUT_ACTIVATIONS,
  type OutputActivation,
  POOLINGS,
  type Pooling,
} from "./config.js";

/**
 * A component map (docs/arch-map.md): which state-dict keys of a PyTorch checkpoint are which part
 * of the model family, and which family options the model uses. Keys inside a layer are relative
 * to `layers` with `{l}` replaced by the layer index; every other key is absolute.
 */
export interface ArchMap {
  readonly description: string | null;
  /** Attention heads (weights cannot tell them); `--heads` overrides. */
  readonly heads: number | null;
  /** Time steps S when the weights cannot tell them (sinusoidal/no positions, a longer table); `--seq-len` overrides. */
  readonly seqLen: number | null;
  readonly stem: StemMap;
  /** The stem output is multiplied by it; "sqrt_d_model" = √dModel (mvts_transformer). */
  readonly embedScale: number | "sqrt_d_model";
  /** Key of a learned CLS token ([D] or one-row 3-D), or null. */
  readonly cls: string | null;
  readonly pos: PosMap;
  /** Key prefix of layer l, containing `{l}` (e.g. `encoder.layers.{l}`). */
  readonly layers: string;
  readonly attn: AttnMap;
  readonly mlp: { readonly in: string; readonly out: string };
  readonly norm1: string;
  readonly norm2: string;
  readonly normFirst: boolean;
  readonly normKind: NormKind;
  readonly activation: Activation;
  readonly outputActivation: OutputActivation;
  /** Key of the norm after the last layer, or null. */
  readonly finalNorm: string | null;
  readonly pool: Pooling;
  /** The classifier: one Linear (`hidden` null) or Linear → activation → Linear. */
  readonly head: { readonly hidden: string | null; readonly out: string };
  /** Layout of a 3-D positional table or CLS token: [1, T, D] when true, [T, 1, D] when false. */
  readonly batchFirst: boolean;
  /** Keys (globs, `*` = any characters) that are not weights of the forward pass and are left out. */
  readonly ignore: readonly string[];
}

export type StemMap =
  | { readonly kind: "linear"; readonly key: string }
  | {
      readonly kind: "patch";
      readonly key: string;
      readonly len: number;
      readonly stride: number;
      /** How a window is flattened by the model: step-major `i·C + c`, or channel-major `c·len + i` (unfold, Conv1d). */
      readonly order: "step_major" | "channel_major";
    }
  | { readonly kind: "conv"; readonly conv: string; readonly bn: string };

export type PosMap =
  | { readonly kind: "learned"; readonly key: string }
  /** `key`: a buffer holding the table, checked against the family's and then left out. */
  | { readonly kind: "sinusoidal"; readonly key: string | null }
  | { readonly kind: "none" };

export type AttnMap =
  /** nn.MultiheadAttention: `<key>.in_proj_weight|in_proj_bias`, `<key>.out_proj.weight|bias`. */
  | { readonly kind: "fused"; readonly key: string }
  /** Four Linear modules (`.weight`, `.bias`), relative to the layer. */
  | {
      readonly kind: "separate";
      readonly q: string;
      readonly k: string;
      readonly v: string;
      readonly out: string;
    };

/** The family's norm epsilon (PyTorch's default); a map may state it to have it checked. */
const FAMILY_EPS = 1e-5;

const TOP_FIELDS = [
  "$schema",
  "description",
  "heads",
  "seq_len",
  "stem",
  "embed_scale",
  "cls",
  "pos",
  "layers",
  "attn",
  "mlp",
  "norm1",
  "norm2",
  "norm_first",
  "norm_kind",
  "norm_eps",
  "activation",
  "output_activation",
  "final_norm",
  "pool",
  "head",
  "batch_first",
  "ignore",
] as const;

type Json = Record<string, unknown>;

/**
 * Validates a parsed component map; any unknown field, wrong type or unknown value is an
 * InputError naming the field and what it accepts.
 *
 * @example
 * const map = parseArchMap(JSON.parse(readFileSync("maps/torch-encoder.json", "utf8")), "maps/torch-encoder.json");
 * map.layers; // "encoder.layers.{l}"
 */
export function parseArchMap(raw: unknown, file: string): ArchMap {
  const fail = (field: string, message: string, hint?: string) =>
    inputError(`arch map: ${message}`, { file, field, hint: hint ?? "see docs/arch-map.md for the schema" });
  const obj = (value: unknown, field: string): Json => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw fail(field, `${field} must be an object, got ${describe(value)}`);
    }
    return value as Json;
  };
  const only = (o: Json, allowed: readonly string[], where: string) => {
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k)) {
        const path = where === "" ? k : `${where}.${k}`;
        throw fail(
          path,
          `unknown field "${path}"`,
          `known fields${where === "" ? "" : ` of ${where}`}: ${allowed.join(", ")}`,
        );
      }
    }
  };
  const key = (value: unknown, field: string, empty = false): string => {
    if (typeof value !== "string" || (!empty && value === "")) {
      throw fail(
        field,
        `${field} must be a state-dict key${empty ? "" : " (non-empty string)"}, got ${describe(value)}`,
      );
    }
    return value;
  };
  const keyOrNull = (value: unknown, field: string): string | null =>
    value === undefined || value === null ? null : key(value, field);
  const choice = <T extends string>(
    value: unknown,
    field: string,
    allowed: readonly T[],
    fallback?: T,
  ): T => {
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
      throw fail(
        field,
        `${field} must be one of ${allowed.map((a) => `"${a}"`).join(", ")}, got ${describe(value)}`,
      );
    }
    return value as T;
  };
  const bool = (value: unknown, field: string, fallback: boolean): boolean => {
    if (value === undefined) return fallback;
    if (typeof value !== "boolean")
      throw fail(field, `${field} must be true or false, got ${describe(value)}`);
    return value;
  };
  const positive = (value: unknown, field: string): number => {
    if (!Number.isInteger(value) || (value as number) < 1) {
      throw fail(field, `${field} must be a positive integer, got ${describe(value)}`);
    }
    return value as number;
  };
  const positiveOrNull = (value: unknown, field: string): number | null =>
    value === undefined || value === null ? null : positive(value, field);

  const top = obj(raw, "the map");
  only(top, TOP_FIELDS, "");
  for (const required of ["stem", "pos", "layers", "pool", "head"] as const) {
    if (top[required] === undefined) {
      throw fail(required, `"${required}" is required`);
    }
  }
  const description = top.description === undefined ? null : key(top.description, "description");

  const stemRaw = obj(top.stem, "stem");
  const stemKind = choice(stemRaw.kind, "stem.kind", ["linear", "patch", "conv"] as const);
  let stem: StemMap;
  if (stemKind === "linear") {
    only(stemRaw, ["kind", "key"], "stem");
    stem = { kind: "linear", key: key(stemRaw.key, "stem.key") };
  } else if (stemKind === "patch") {
    only(stemRaw, ["kind", "key", "len", "stride", "order"], "stem");
    const len = positive(stemRaw.len, "stem.len");
    stem = {
      kind: "patch",
      key: key(stemRaw.key, "stem.key"),
      len,
      stride: stemRaw.stride === undefined ? len : positive(stemRaw.stride, "stem.stride"),
      order: choice(stemRaw.order, "stem.order", ["step_major", "channel_major"] as const, "step_major"),
    };
  } else {
    only(stemRaw, ["kind", "conv", "bn"], "stem");
    stem = {
      kind: "conv",
      conv: template(key(stemRaw.conv ?? "conv{i}", "stem.conv"), "{i}", "stem.conv", fail),
      bn: template(key(stemRaw.bn ?? "bn{i}", "stem.bn"), "{i}", "stem.bn", fail),
    };
  }

  let embedScale: number | "sqrt_d_model" = 1;
  if (top.embed_scale !== undefined) {
    const v = top.embed_scale;
    if (v === "sqrt_d_model") embedScale = v;
    else if (typeof v === "number" && Number.isFinite(v) && v > 0) embedScale = v;
    else
      throw fail(
        "embed_scale",
        `embed_scale must be a positive number or "sqrt_d_model", got ${describe(v)}`,
      );
  }

  const posRaw = obj(top.pos, "pos");
  const posKind = choice(posRaw.kind, "pos.kind", ["learned", "sinusoidal", "none"] as const);
  let pos: PosMap;
  if (posKind === "learned") {
    only(posRaw, ["kind", "key"], "pos");
    pos = { kind: "learned", key: key(posRaw.key, "pos.key") };
  } else if (posKind === "sinusoidal") {
    only(posRaw, ["kind", "key"], "pos");
    pos = { kind: "sinusoidal", key: keyOrNull(posRaw.key, "pos.key") };
  } else {
    only(posRaw, ["kind"], "pos");
    pos = { kind: "none" };
  }

  const layers = template(key(top.layers, "layers"), "{l}", "layers", fail);

  let attn: AttnMap = { kind: "fused", key: "self_attn" };
  if (typeof top.attn === "string") attn = { kind: "fused", key: key(top.attn, "attn") };
  else if (top.attn !== undefined) {
    const a = obj(top.attn, "attn");
    only(a, ["key", "q", "k", "v", "out"], "attn");
    if (a.key !== undefined) {
      if (a.q !== undefined || a.k !== undefined || a.v !== undefined || a.out !== undefined) {
        throw fail(
          "attn",
          "attn has both key (a fused in_proj) and q/k/v/out (separate projections)",
          "give one of the two forms",
        );
      }
      attn = { kind: "fused", key: key(a.key, "attn.key") };
    } else {
      attn = {
        kind: "separate",
        q: key(a.q, "attn.q"),
        k: key(a.k, "attn.k"),
        v: key(a.v, "attn.v"),
        out: key(a.out, "attn.out"),
      };
    }
  }

  let mlp = { in: "linear1", out: "linear2" };
  if (top.mlp !== undefined) {
    const m = obj(top.mlp, "mlp");
    only(m, ["in", "out"], "mlp");
    mlp = { in: key(m.in ?? "linear1", "mlp.in"), out: key(m.out ?? "linear2", "mlp.out") };
  }

  if (top.norm_eps !== undefined && top.norm_eps !== FAMILY_EPS) {
    throw inputError(
      `the model family cannot express norm_eps ${describe(top.norm_eps)}: its norms use ${FAMILY_EPS} (PyTorch's default)`,
      { file, field: "norm_eps", hint: ONNX_ROUTE_HINT },
    );
  }

  let head: ArchMap["head"];
  if (typeof top.head === "string") head = { hidden: null, out: key(top.head, "head") };
  else {
    const h = obj(top.head, "head");
    only(h, ["hidden", "out"], "head");
    head = { hidden: key(h.hidden, "head.hidden"), out: key(h.out, "head.out") };
  }

  const pool = choice(top.pool, "pool", POOLINGS);
  const cls = keyOrNull(top.cls, "cls");
  if (pool === "cls" && cls === null) {
    throw fail("pool", `pool "cls" needs the CLS token's key in "cls"`);
  }

  let ignore: string[] = [];
  if (top.ignore !== undefined) {
    if (!Array.isArray(top.ignore))
      throw fail("ignore", `ignore must be a list of key globs, got ${describe(top.ignore)}`);
    ignore = top.ignore.map((g, i) => key(g, `ignore[${i}]`));
  }

  return {
    description,
    heads: positiveOrNull(top.heads, "heads"),
    seqLen: positiveOrNull(top.seq_len, "seq_len"),
    stem,
    embedScale,
    cls,
    pos,
    layers,
    attn,
    mlp,
    norm1: key(top.norm1 ?? "norm1", "norm1"),
    norm2: key(top.norm2 ?? "norm2", "norm2"),
    normFirst: bool(top.norm_first, "norm_first", false),
    normKind: choice(top.norm_kind, "norm_kind", NORM_KINDS, "layer"),
    activation: choice(top.activation, "activation", ACTIVATIONS, "relu"),
    outputActivation: choice(top.output_activation, "output_activation", OUTPUT_ACTIVATIONS, "none"),
    finalNorm: keyOrNull(top.final_norm, "final_norm"),
    pool,
    head,
    batchFirst: bool(top.batch_first, "batch_first", true),
    ignore,
  };
}

/**
 * Where a model outside the family goes: tspatch patches only graphs it builds itself, and
 * `tspatch export` writes ONNX for those (README "Models"); it does not read ONNX.
 */
export const ONNX_ROUTE_HINT =
  "tspatch can patch only models of its family (docs/arch-map.md lists what it expresses); " +
  "for another architecture, export it from PyTorch with torch.onnx.export and patch it with an ONNX-level tool " +
  "(tspatch reads no ONNX models: its `export` writes ONNX only for models of the family)";

/** Names of the maps shipped in the package's `maps/` folder. */
export function shippedArchMaps(): string[] {
  return readdirSync(MAPS_DIR)
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -".json".length))
    .sort();
}

const MAPS_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "maps");

/**
 * Reads a component map from a JSON file, or a shipped map by name (`torch-encoder`, …).
 *
 * @example
 * const map = readArchMap("mvts-transformer"); // maps/mvts-transformer.json
 */
export function readArchMap(nameOrFile: string): { map: ArchMap; file: string } {
  const shipped = /^[a-z0-9-]+$/.test(nameOrFile) && shippedArchMaps().includes(nameOrFile);
  const file = shipped ? join(MAPS_DIR, `${nameOrFile}.json`) : nameOrFile;
  if (!shipped && /^[a-z0-9-]+$/.test(nameOrFile) && !existsSync(file)) {
    throw inputError(`no arch map "${nameOrFile}"`, {
      field: "--arch",
      hint: `give a map file, or a shipped map: ${shippedArchMaps().join(", ")}`,
    });
  }
  const text = readTextFile(file);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw inputError(`arch map is not JSON: ${(error as Error).message}`, { file });
  }
  return { map: parseArchMap(raw, file), file };
}

function template(
  value: string,
  placeholder: string,
  field: string,
  fail: (field: string, message: string, hint?: string) => Error,
): string {
  if (value.split(placeholder).length !== 2) {
    throw fail(field, `${field} must contain ${placeholder} exactly once, got "${value}"`);
  }
  return value;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
