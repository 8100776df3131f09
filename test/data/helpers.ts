import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root. */
export const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

/** The bundled JapaneseVowels folder (always present). */
export const BUNDLED_JV = join(ROOT, "datasets", "JapaneseVowels");

/**
 * The workspace's shared UEA files (PenDigits, LSST), outside the repository.
 * Tests that need them are skipped on machines without them (e.g. a fresh CI clone).
 */
export const SHARED = process.env.TSPATCH_SHARED_DATASETS ?? resolve(ROOT, "..", "shared", "datasets");

export function sharedFile(dataset: string, split: "TRAIN" | "TEST"): string {
  return join(SHARED, dataset, `${dataset}_${split}.ts`);
}

export function hasShared(dataset: string): boolean {
  return existsSync(sharedFile(dataset, "TRAIN")) && existsSync(sharedFile(dataset, "TEST"));
}

export function tempDir(prefix = "tspatch-data-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Label counts of a dataset as "label:count" in label-map order. */
export function countsOf(labels: readonly string[], classes: readonly string[]): string {
  return classes.map((c) => `${c}:${labels.filter((l) => l === c).length}`).join(" ");
}
