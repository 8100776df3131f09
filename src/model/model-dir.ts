/**
 * A model directory: `config.json` (TSTConfig, preprocessing, label map,
 * provenance), `weights.safetensors` (canonical parameter names, float32),
 * optional `metrics.json`. Every file is written atomically (temporary file +
 * rename), weights before config, so a directory with a config.json is complete.
 */
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../atomic-write.js";
import { FileTooLarge, readFileBounded } from "../bounded-read.js";
import type { LabelMapKind } from "../data/labels.js";
import { inputError } from "../errors.js";
import type { Runtime } from "../runtime/session.js";
import {
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  type ModelConfigFile,
  parseModelConfigFile,
} from "./config-file.js";
import { assertFiniteWeights } from "./finite-weights.js";
import { HookedTST } from "./hooked-tst.js";
import { importPth } from "./import-pth.js";
import type { LabelSource } from "./label-map-rule.js";
import { numel, paramShapes } from "./param-names.js";
import { readSafetensors, type StoredTensor, writeSafetensors } from "./safetensors.js";

/** A config.json holds a label map of at most a few thousand classes: kilobytes. */
const MAX_CONFIG_BYTES = 16 << 20;

export { MODEL_FORMAT, MODEL_FORMAT_VERSION, type ModelConfigFile } from "./config-file.js";

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
  let raw: unknown;
  try {
    // a config is a few kB; the bound keeps a huge or endless file from being read whole
    raw = JSON.parse(new TextDecoder().decode(readFileBounded(configPath, MAX_CONFIG_BYTES)));
  } catch (error) {
    if (error instanceof FileTooLarge) {
      throw inputError(`holds more than ${MAX_CONFIG_BYTES} bytes, more than a model config can`, {
        file: configPath,
        hint: "config.json is written by tspatch train / import-pth; re-create the model directory",
      });
    }
    throw inputError(`is not valid JSON (${(error as Error).message})`, { file: configPath });
  }
  const { config, preprocess, labelMap, provenance } = parseModelConfigFile(raw, configPath);
  const shapes = paramShapes(config);
  const { tensors } = readSafetensors(weightsPath, {
    maxTensorBytes: shapes.reduce((sum, { shape }) => sum + 4 * numel(shape), 0),
  });
  const problems: string[] = [];
  const params = new Map<string, Float32Array>();
  const expected = new Set<string>();
  for (const { name, shape } of shapes) {
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
  assertFiniteWeights(params, weightsPath);
  return new HookedTST(config, params, { preprocess, labelMap, provenance }, runtime);
}
