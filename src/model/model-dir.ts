/**
 * A model directory: `config.json` (TSTConfig, preprocessing, label map,
 * provenance), `weights.safetensors` (canonical parameter names, float32),
 * optional `metrics.json`. Every file is written atomically (temporary file +
 * rename), weights before config, so a directory with a config.json is complete.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../atomic-write.js";
import { type LabelMapKind, parseLabelMap } from "../data/labels.js";
import type { PreprocessSpec } from "../data/preprocess.js";
import { InputError, inputError } from "../errors.js";
import type { Runtime } from "../runtime/session.js";
import { makeConfig, type TSTConfig, type TSTConfigInput } from "./config.js";
import { HookedTST } from "./hooked-tst.js";
import { importPth } from "./import-pth.js";
import type { LabelSource } from "./label-map-rule.js";
import { paramShapes } from "./param-names.js";
import { readSafetensors, type StoredTensor, writeSafetensors } from "./safetensors.js";

export const MODEL_FORMAT = "tspatch-model";
export const MODEL_FORMAT_VERSION = 1;

/** What config.json holds. */
export interface ModelConfigFile {
  format: typeof MODEL_FORMAT;
  version: number;
  config: TSTConfig;
  preprocess: PreprocessSpec | null;
  labelMap: ReturnType<typeof parseLabelMap> | null;
  provenance: Record<string, unknown>;
}

/**
 * Write a model directory (created if needed).
 *
 * @example
 * saveModel(model, "models/jv", { metrics: { testAccuracy: 0.98 } });
 */
export function saveModel(model: HookedTST, dir: string, options: { metrics?: unknown } = {}): void {
  mkdirSync(dir, { recursive: true });
  const tensors = new Map<string, StoredTensor>();
  for (const { name, shape } of paramShapes(model.config)) {
    tensors.set(name, { dtype: "F32", shape, data: model.params.get(name) as Float32Array });
  }
  writeSafetensors(join(dir, "weights.safetensors"), tensors, { format: MODEL_FORMAT });
  if (options.metrics !== undefined)
    writeFileAtomic(join(dir, "metrics.json"), `${JSON.stringify(options.metrics, null, 2)}\n`);
  const file: ModelConfigFile = {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    config: model.config,
    preprocess: model.preprocess,
    labelMap: model.labelMap,
    provenance: model.provenance,
  };
  writeFileAtomic(join(dir, "config.json"), `${JSON.stringify(file, null, 2)}\n`);
}

export interface LoadModelOptions {
  /** For a `.pth`: the data it belongs to (labels decide the label map, see resolveLabelMap). */
  data?: LabelSource;
  labelMap?: LabelMapKind | "auto";
  runtime?: Runtime;
}

export interface LoadedModel {
  model: HookedTST;
  /** A line for the user when a `.pth` import applied the int(label) map. */
  note: string | null;
}

/**
 * Load a model directory, or a reference `.pth` checkpoint imported on the fly
 * (raw inputs, no normalisation).
 *
 * @example
 * const { model } = loadModel("models/jv");
 * const { model: ref, note } = loadModel("TST_lsst.pth", { data: lsstTest });
 */
export function loadModel(path: string, options: LoadModelOptions = {}): LoadedModel {
  if (!existsSync(path)) {
    throw inputError("no such model directory or file", {
      file: path,
      hint: "give a model directory (config.json + weights.safetensors) or a PyTorch .pth checkpoint",
    });
  }
  if (statSync(path).isFile()) {
    if (/\.(pth|pt)$/i.test(path) || !/\.(json|safetensors)$/i.test(path)) {
      return importPth(path, { data: options.data, labelMap: options.labelMap, runtime: options.runtime });
    }
    throw inputError("is a file of a model directory, not a model", {
      file: path,
      hint: "give the directory that holds config.json and weights.safetensors",
    });
  }
  return { model: loadModelDir(path, options.runtime), note: null };
}

function loadModelDir(dir: string, runtime?: Runtime): HookedTST {
  const configPath = join(dir, "config.json");
  const weightsPath = join(dir, "weights.safetensors");
  for (const p of [configPath, weightsPath]) {
    if (!existsSync(p)) {
      throw inputError(`the model directory has no ${p.slice(dir.length + 1)}`, {
        file: dir,
        hint: "a model directory holds config.json and weights.safetensors (written by tspatch train or import-pth)",
      });
    }
  }
  let raw: Partial<ModelConfigFile>;
  try {
    raw = JSON.parse(readFileSync(configPath, "utf8")) as Partial<ModelConfigFile>;
  } catch (error) {
    throw inputError(`is not valid JSON (${(error as Error).message})`, { file: configPath });
  }
  if (
    raw === null ||
    typeof raw !== "object" ||
    raw.format !== MODEL_FORMAT ||
    typeof raw.config !== "object"
  ) {
    throw inputError(
      `is not a tspatch model config (expected "format": "${MODEL_FORMAT}" and a "config" object)`,
      {
        file: configPath,
      },
    );
  }
  let config: TSTConfig;
  try {
    config = makeConfig(raw.config as TSTConfigInput);
  } catch (error) {
    if (error instanceof InputError) throw inputError(error.message, { file: configPath, field: "config" });
    throw error;
  }
  const labelMap = raw.labelMap == null ? null : parseLabelMap(raw.labelMap, configPath);
  if (labelMap !== null && labelMap.outputs !== config.classes) {
    throw inputError(`label map has ${labelMap.outputs} outputs, the model ${config.classes}`, {
      file: configPath,
      field: "labelMap.outputs",
    });
  }
  const preprocess = raw.preprocess ?? null;
  if (preprocess !== null) checkPreprocess(preprocess, config, configPath);
  const { tensors } = readSafetensors(weightsPath);
  const problems: string[] = [];
  const params = new Map<string, Float32Array>();
  const expected = new Set<string>();
  for (const { name, shape } of paramShapes(config)) {
    expected.add(name);
    const t = tensors.get(name);
    if (t === undefined) problems.push(`missing ${name} (expected shape [${shape}])`);
    else if (t.dtype !== "F32") problems.push(`${name} is ${t.dtype}, expected F32`);
    else if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      problems.push(`wrong shape for ${name}: [${t.shape}], expected [${shape}]`);
    } else params.set(name, t.data as Float32Array);
  }
  for (const [name, t] of tensors) if (!expected.has(name)) problems.push(`unexpected ${name} [${t.shape}]`);
  if (problems.length > 0) {
    throw inputError(`weights do not match config.json:\n  ${problems.join("\n  ")}`, {
      file: weightsPath,
      hint: "config.json and weights.safetensors must come from the same model",
    });
  }
  return new HookedTST(
    config,
    params,
    { preprocess, labelMap, provenance: (raw.provenance as Record<string, unknown>) ?? {} },
    runtime,
  );
}

function checkPreprocess(p: PreprocessSpec, config: TSTConfig, file: string): void {
  const n = p?.normalize;
  const ok =
    p !== null &&
    typeof p === "object" &&
    p.channels === config.channels &&
    n !== undefined &&
    Array.isArray(n.shift) &&
    Array.isArray(n.scale) &&
    n.shift.length === config.channels &&
    n.scale.length === config.channels &&
    [...n.shift, ...n.scale].every(Number.isFinite) &&
    n.scale.every((s) => s !== 0);
  if (!ok) {
    throw inputError(
      `preprocess must have channels ${config.channels} and normalize.shift/scale of ${config.channels} finite numbers (scale non-zero)`,
      { file, field: "preprocess" },
    );
  }
}
