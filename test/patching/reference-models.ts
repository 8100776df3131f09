import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadDataset } from "../../src/data/registry.js";
import type { HookedTST } from "../../src/model/hooked-tst.js";
import { loadModel } from "../../src/model/model-dir.js";
import type { InputTable } from "../../src/patching/engine.js";
import { type ModelInputs, modelInputs } from "../../src/patching/inputs.js";

/** The shared folder with the reference checkpoints and datasets (next to the repo). */
export const SHARED = process.env.TSPATCH_SHARED ?? join(import.meta.dirname, "..", "..", "..", "shared");

export const REFERENCE: Record<string, { pth: string; data: string; fixture: string }> = {
  JapaneseVowels: {
    pth: "TST_japanesevowels.pth",
    data: "JapaneseVowels/JapaneseVowels_eq_TEST.ts",
    fixture: "japanesevowels.json",
  },
  PenDigits: { pth: "TST_pendigits.pth", data: "PenDigits/PenDigits_TEST.ts", fixture: "pendigits.json" },
  LSST: { pth: "TST_lsst.pth", data: "LSST/LSST_TEST.ts", fixture: "lsst.json" },
};

export const haveShared = existsSync(join(SHARED, "models", "reference", "examples.json"));

const loaded = new Map<string, Promise<{ model: HookedTST; inputs: ModelInputs }>>();

/** A reference checkpoint and its TEST data, made ready for patching (loaded once per test file). */
export function referenceModel(dataset: string): Promise<{ model: HookedTST; inputs: ModelInputs }> {
  let entry = loaded.get(dataset);
  if (entry === undefined) {
    entry = (async () => {
      const ref = REFERENCE[dataset];
      const ds = await loadDataset(join(SHARED, "datasets", ref.data));
      const { model } = loadModel(join(SHARED, "models", "reference", ref.pth), { data: ds });
      return { model, inputs: modelInputs(model, ds) };
    })();
    loaded.set(dataset, entry);
  }
  return entry;
}

/** Largest absolute difference between two nested number arrays of the same shape. */
export function maxAbsDiff(a: unknown, b: unknown): number {
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return Infinity;
    return a.reduce((m: number, v, i) => Math.max(m, maxAbsDiff(v, b[i])), 0);
  }
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b))
    return maxAbsDiff(Array.from(a as Float32Array), Array.from(b as Float32Array));
  return Math.abs((a as number) - (b as number));
}

/**
 * Synthetic inputs of the given real lengths, zero-padded to `S` steps with the padding mask
 * (1 = real step); `valueAt(i)` fills the flat rows × S × C values before padding.
 */
export function paddedTable(
  lengths: readonly number[],
  S: number,
  C: number,
  valueAt: (i: number) => number,
): InputTable {
  const x = Float32Array.from({ length: lengths.length * S * C }, (_, i) => valueAt(i));
  const mask = new Uint8Array(lengths.length * S);
  lengths.forEach((n, r) => {
    mask.fill(1, r * S, r * S + n);
    x.fill(0, (r * S + n) * C, (r + 1) * S * C);
  });
  return { x, mask, rows: lengths.length };
}
