import { createHash } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../atomic-write.js";
import { readFileBounded } from "../bounded-read.js";
import { parsedCacheDir } from "../data/parsed-cache.js";
import { sourceDigest } from "../source-digest.js";
import type { TSTConfig } from "./config.js";
import { PTH_LIMITS } from "./pth.js";
import type { ReferenceImport } from "./reference-keys.js";
import { decodeSafetensors, encodeSafetensors, type StoredTensor } from "./safetensors.js";

/**
 * A disk cache of imported reference checkpoints: a `.pth` is a zip of pickled tensors whose
 * import (unzip, unpickle, key mapping, finite checks) took 4–5× as long as loading the same
 * model from a model directory, on every command that was given the `.pth`. The config and
 * canonical weights are kept as safetensors in `<cache>/parsed`, keyed by the checkpoint's bytes
 * and the model layer's source (every module in this folder). The label map is not cached: it
 * depends on the data and is resolved each time. TSPATCH_PARSED_CACHE=0 turns it off.
 *
 * @example
 * const { config, weights } = cachedReferenceImport(file, () => importReferenceStateDict(readPth(file), { file }));
 */
export function cachedReferenceImport(file: string, load: () => ReferenceImport): ReferenceImport {
  const dir = parsedCacheDir();
  if (dir === null) return load();
  let bytes: Uint8Array;
  try {
    // Bounded as the importer reads it: a device or a huge file is refused by it, not read here.
    bytes = readFileBounded(file, PTH_LIMITS.maxFileBytes);
  } catch {
    return load(); // the importer says what is wrong with the file
  }
  const key = createHash("sha256")
    .update(sourceDigest(import.meta.url))
    .update(bytes)
    .digest("hex");
  const path = join(dir, `${key}.safetensors`);
  try {
    const { tensors, metadata } = decodeSafetensors(readFileSync(path), path);
    const order = JSON.parse(metadata.order) as string[];
    const weights = new Map<string, Float32Array>();
    for (const name of order) {
      const t = tensors.get(name);
      if (t === undefined || !(t.data instanceof Float32Array)) throw new Error(`no ${name}`);
      weights.set(name, t.data);
    }
    return { config: JSON.parse(metadata.config) as TSTConfig, weights };
  } catch {
    // Missing or damaged: import and (re)write it.
  }
  const imported = load();
  try {
    const tensors = new Map<string, StoredTensor>(
      [...imported.weights].map(([name, data]) => [name, { dtype: "F32", shape: [data.length], data }]),
    );
    const metadata = {
      config: JSON.stringify(imported.config),
      order: JSON.stringify([...imported.weights.keys()]),
    };
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(path, encodeSafetensors(tensors, metadata));
  } catch {
    // An unwritable cache costs only the speed-up.
  }
  return imported;
}
