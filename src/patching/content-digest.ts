import { createHash } from "node:crypto";
import type { Dataset } from "../data/dataset.js";
import type { HookedTST } from "../model/hooked-tst.js";

/**
 * SHA-256 of what a model computes with: its config, input preprocessing, label map and every
 * weight (by name, in name order). Two files with the same digest give the same results, so a
 * checkpoint can name its model by content instead of by path.
 *
 * @example
 * modelDigest(model); // "3f9c…" (64 hex digits)
 */
export function modelDigest(model: HookedTST): string {
  const hash = createHash("sha256");
  hash.update(JSON.stringify([model.config, model.preprocess, model.labelMap]));
  for (const name of [...model.params.keys()].sort()) {
    const w = model.params.get(name)!;
    hash.update(name);
    hash.update(new Uint8Array(w.buffer, w.byteOffset, w.byteLength));
  }
  return hash.digest("hex");
}

/**
 * SHA-256 of a dataset's content: shape, values, lengths and labels (not its file name).
 *
 * @example
 * datasetDigest(dataset); // "a01b…"
 */
export function datasetDigest(data: Dataset): string {
  const hash = createHash("sha256");
  hash.update(JSON.stringify([data.cases, data.channels, data.maxLength, data.labels, data.classes]));
  for (const a of [data.values, data.lengths, data.labelIndex])
    hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return hash.digest("hex");
}
