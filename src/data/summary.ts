import type { Dataset } from "./dataset.js";

/** What `tspatch datasets info` reports for one file. */
export interface DatasetSummary {
  name: string;
  file?: string;
  format: Dataset["format"];
  cases: number;
  channels: number;
  length: { min: number; max: number };
  /** Classes in label-map order, with the number of cases of each. */
  classes: { label: string; count: number }[];
  /** Number of missing values (`?`). */
  missing: number;
  /** Per channel, over real (unpadded, non-missing) steps; null when a channel has no value. */
  valueRange: ({ min: number; max: number } | null)[];
}

/**
 * Counts and ranges of a dataset, JSON-ready.
 *
 * @example
 * summarizeDataset(train).classes; // [{ label: "6", count: 34 }, { label: "15", count: 123 }, ...]
 */
export function summarizeDataset(dataset: Dataset): DatasetSummary {
  let minLength = Number.POSITIVE_INFINITY;
  let maxLength = 0;
  for (const n of dataset.lengths) {
    if (n < minLength) minLength = n;
    if (n > maxLength) maxLength = n;
  }
  const counts = new Map<string, number>();
  for (const label of dataset.labelMap.classes) counts.set(label, 0);
  for (const label of dataset.labels) if (label !== "") counts.set(label, (counts.get(label) ?? 0) + 1);
  const C = dataset.channels;
  const min = new Array<number>(C).fill(Number.POSITIVE_INFINITY);
  const max = new Array<number>(C).fill(Number.NEGATIVE_INFINITY);
  for (let i = 0; i < dataset.cases; i++) {
    for (let t = 0; t < dataset.lengths[i]; t++) {
      const base = (i * dataset.maxLength + t) * C;
      for (let c = 0; c < C; c++) {
        const v = dataset.values[base + c];
        if (v < min[c]) min[c] = v; // NaN compares false: skipped
        if (v > max[c]) max[c] = v;
      }
    }
  }
  return {
    name: dataset.name,
    file: dataset.file,
    format: dataset.format,
    cases: dataset.cases,
    channels: C,
    length: { min: dataset.cases === 0 ? 0 : minLength, max: maxLength },
    classes: [...counts].map(([label, count]) => ({ label, count })),
    missing: dataset.missing,
    valueRange: min.map((lo, c) =>
      lo <= max[c] ? { min: shortestFloat32(lo), max: shortestFloat32(max[c]) } : null,
    ),
  };
}

/**
 * The shortest decimal that reads back as the same float32, so 1.860936 is not
 * reported as 1.8609360456466675 (its exact double value).
 */
export function shortestFloat32(value: number): number {
  if (!Number.isFinite(value)) return value;
  const target = Math.fround(value);
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(target.toPrecision(digits));
    if (Math.fround(candidate) === target) return candidate;
  }
  return target;
}
