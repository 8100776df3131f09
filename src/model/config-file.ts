import { DATASET_LAYOUT } from "../data/dataset.js";
import { type LabelMap, parseLabelMap } from "../data/labels.js";
import { MISSING_POLICIES, NORMALIZE_METHODS, type PreprocessSpec } from "../data/preprocess.js";
import { InputError, inputError } from "../errors.js";
import {
  ACTIVATIONS,
  makeConfig,
  NORM_KINDS,
  NORM_PLACEMENTS,
  OUTPUT_ACTIVATIONS,
  POOLINGS,
  POSITIONAL_ENCODINGS,
  STEMS,
  type TSTConfig,
} from "./config.js";

export const MODEL_FORMAT = "tspatch-model";
export const MODEL_FORMAT_VERSION = 1;

/** What a model directory's config.json holds. */
export interface ModelConfigFile {
  format: typeof MODEL_FORMAT;
  version: number;
  config: TSTConfig;
  preprocess: PreprocessSpec | null;
  labelMap: LabelMap | null;
  provenance: Record<string, unknown>;
}

/**
 * Checks parsed config.json against its schema, field by field: every value read has the type and
 * range the model needs, so a hand-edited or foreign file is an InputError naming the field and the
 * expected type, never a TypeError later.
 *
 * @example
 * const file = parseModelConfigFile(JSON.parse(readFileSync("models/jv/config.json", "utf8")), "models/jv/config.json");
 * file.config.heads; // 8
 */
export function parseModelConfigFile(raw: unknown, file: string): ModelConfigFile {
  const hint =
    "config.json is written by tspatch train / import-pth; re-create the model directory, or fix the field";
  const fail = (field: string, expected: string, value: unknown) =>
    inputError(`${field} must be ${expected}, got ${show(value)}`, { file, field, hint });
  const root = object(raw, "the file", fail);
  if (root.format !== MODEL_FORMAT) throw fail("format", JSON.stringify(MODEL_FORMAT), root.format);
  const version = integer(root.version, "version", fail, 1);
  if (version > MODEL_FORMAT_VERSION) {
    throw inputError(`was written by a newer tspatch (model format version ${version})`, {
      file,
      field: "version",
      hint: `update tspatch; this version reads model format ${MODEL_FORMAT_VERSION}`,
    });
  }

  const c = object(root.config, "config", fail);
  const optionalInteger = (key: string) =>
    c[key] === undefined ? undefined : integer(c[key], `config.${key}`, fail, 1);
  const triple = (key: string): [number, number, number] | undefined => {
    const v = c[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length !== 3)
      throw fail(`config.${key}`, "a list of three positive integers", v);
    return v.map((x, i) => integer(x, `config.${key}[${i}]`, fail, 1)) as [number, number, number];
  };
  const optionalCount = (key: string) =>
    c[key] === undefined ? undefined : integer(c[key], `config.${key}`, fail, 0);
  const optionalChoice = <T extends string>(key: string, allowed: readonly T[]) =>
    c[key] === undefined ? undefined : oneOf(c[key], allowed, `config.${key}`, fail);
  const optionalBoolean = (key: string) => {
    const v = c[key];
    if (v !== undefined && typeof v !== "boolean") throw fail(`config.${key}`, "true or false", v);
    return v as boolean | undefined;
  };
  const embedScale = c.embedScale;
  if (
    embedScale !== undefined &&
    !(typeof embedScale === "number" && Number.isFinite(embedScale) && embedScale > 0)
  ) {
    throw fail("config.embedScale", "a positive number", embedScale);
  }
  const dropout = c.dropout;
  if (dropout !== undefined && !(typeof dropout === "number" && dropout >= 0 && dropout < 1)) {
    throw fail("config.dropout", "a number in [0, 1)", dropout);
  }
  let config: TSTConfig;
  try {
    config = makeConfig({
      channels: integer(c.channels, "config.channels", fail, 1),
      seqLen: integer(c.seqLen, "config.seqLen", fail, 1),
      classes: integer(c.classes, "config.classes", fail, 1),
      dModel: optionalInteger("dModel"),
      heads: optionalInteger("heads"),
      layers: optionalInteger("layers"),
      ff: optionalInteger("ff"),
      dropout: dropout as number | undefined,
      kernels: triple("kernels"),
      convChannels: triple("convChannels"),
      stem: optionalChoice("stem", STEMS),
      patchLen: optionalCount("patchLen"),
      patchStride: optionalCount("patchStride"),
      embedScale: embedScale as number | undefined,
      cls: optionalBoolean("cls"),
      pos: optionalChoice("pos", POSITIONAL_ENCODINGS),
      norm: optionalChoice("norm", NORM_PLACEMENTS),
      normKind: optionalChoice("normKind", NORM_KINDS),
      finalNorm: optionalBoolean("finalNorm"),
      act: optionalChoice("act", ACTIVATIONS),
      outputAct: optionalChoice("outputAct", OUTPUT_ACTIVATIONS),
      pool: optionalChoice("pool", POOLINGS),
      headHidden: optionalCount("headHidden"),
    });
  } catch (error) {
    if (error instanceof InputError && error.file === undefined) {
      throw inputError(error.message, { file, field: `config.${error.field ?? ""}`, hint });
    }
    throw error;
  }

  const preprocess = root.preprocess == null ? null : preprocessSpec(root.preprocess, config, fail);
  let labelMap: LabelMap | null = null;
  if (root.labelMap != null) {
    labelMap = parseLabelMap(root.labelMap, file);
    if (labelMap.outputs !== config.classes) {
      throw fail("labelMap.outputs", `config.classes (${config.classes})`, labelMap.outputs);
    }
  }
  const provenance = root.provenance === undefined ? {} : object(root.provenance, "provenance", fail);
  return { format: MODEL_FORMAT, version, config, preprocess, labelMap, provenance };
}

type Fail = (field: string, expected: string, value: unknown) => InputError;

function preprocessSpec(raw: unknown, config: TSTConfig, fail: Fail): PreprocessSpec {
  const p = object(raw, "preprocess", fail);
  if (p.layout !== DATASET_LAYOUT) throw fail("preprocess.layout", JSON.stringify(DATASET_LAYOUT), p.layout);
  const channels = integer(p.channels, "preprocess.channels", fail, 1);
  if (channels !== config.channels)
    throw fail("preprocess.channels", `config.channels (${config.channels})`, channels);
  const missing = oneOf(p.missing, MISSING_POLICIES, "preprocess.missing", fail);
  const resampleLength =
    p.resampleLength === null ? null : integer(p.resampleLength, "preprocess.resampleLength", fail, 1);
  const n = object(p.normalize, "preprocess.normalize", fail);
  const method = oneOf(n.method, NORMALIZE_METHODS, "preprocess.normalize.method", fail);
  const numbers = (key: "shift" | "scale") => {
    const v = n[key];
    const field = `preprocess.normalize.${key}`;
    const what = `a list of ${channels} finite numbers${key === "scale" ? " (non-zero)" : ""}`;
    if (!Array.isArray(v) || v.length !== channels) throw fail(field, what, v);
    for (const x of v)
      if (typeof x !== "number" || !Number.isFinite(x) || (key === "scale" && x === 0))
        throw fail(field, what, v);
    return [...v] as number[];
  };
  const shift = numbers("shift");
  const scale = numbers("scale");
  const constant = n.constantChannels ?? [];
  if (!Array.isArray(constant))
    throw fail("preprocess.normalize.constantChannels", "a list of channel indices", constant);
  const constantChannels = constant.map((x, i) =>
    integer(x, `preprocess.normalize.constantChannels[${i}]`, fail, 0),
  );
  const padLength = integer(p.padLength, "preprocess.padLength", fail, 0);
  if (typeof p.fittedOn !== "string")
    throw fail("preprocess.fittedOn", "a string (the dataset name)", p.fittedOn);
  return {
    layout: DATASET_LAYOUT,
    channels,
    missing,
    resampleLength,
    normalize: { method, shift, scale, constantChannels },
    padLength,
    fittedOn: p.fittedOn,
  };
}

function object(value: unknown, field: string, fail: Fail): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw fail(field, "an object", value);
  return value as Record<string, unknown>;
}

function integer(value: unknown, field: string, fail: Fail, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw fail(
      field,
      min === 0 ? "a non-negative integer" : min === 1 ? "a positive integer" : `an integer ≥ ${min}`,
      value,
    );
  }
  return value;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string, fail: Fail): T {
  if (!allowed.includes(value as T))
    throw fail(field, `one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`, value);
  return value as T;
}

function show(value: unknown): string {
  if (value === undefined) return "nothing (the field is missing)";
  const json = JSON.stringify(value);
  return json.length > 60 ? `${json.slice(0, 57)}…` : json;
}
