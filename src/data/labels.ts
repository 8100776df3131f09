import { inputError } from "../errors.js";

/**
 * How label strings map to class indices (model outputs). Plain JSON, so it is
 * saved next to every model and re-applied to new input.
 *
 * - `dense`: indices 0..K-1, `outputs = K`. Numeric labels are sorted
 *   numerically (LSST: 6 < 15 < … < 95); otherwise the declared order is kept.
 * - `int`: index = the integer value of the label, `outputs = max + 1`. This is
 *   what the published reference checkpoints use (JapaneseVowels labels 1..9
 *   → 10 outputs, LSST → 96 outputs); unused outputs have no class.
 */
export interface LabelMap {
  kind: LabelMapKind;
  /** dense: the label of index i. int: the labels that occur, sorted numerically. */
  classes: string[];
  /** Number of model outputs. */
  outputs: number;
}

export type LabelMapKind = "dense" | "int";

export const LABEL_MAP_KINDS: readonly LabelMapKind[] = ["dense", "int"];

const INTEGER = /^[+-]?\d+$/;

function isNumericLabel(label: string): boolean {
  return label.trim() !== "" && Number.isFinite(Number(label));
}

/**
 * Build a label map from the declared label list (if any) and the labels seen.
 * Declared labels come first, in their order; labels seen but not declared are
 * appended in order of first appearance.
 *
 * @example
 * buildLabelMap(["15", "6", "95"]);            // { kind: "dense", classes: ["6", "15", "95"], outputs: 3 }
 * buildLabelMap(["1", "9"], { kind: "int" });  // { kind: "int", classes: ["1", "9"], outputs: 10 }
 */
export function buildLabelMap(
  labels: readonly string[],
  options: { kind?: LabelMapKind; declared?: readonly string[] | null } = {},
): LabelMap {
  const kind = options.kind ?? "dense";
  const seen = new Set<string>();
  const ordered: string[] = [];
  for (const label of [...(options.declared ?? []), ...labels]) {
    if (!seen.has(label)) {
      seen.add(label);
      ordered.push(label);
    }
  }
  const numeric = ordered.length > 0 && ordered.every(isNumericLabel);
  if (kind === "int") {
    const bad = ordered.find((label) => !INTEGER.test(label.trim()) || Number(label) < 0);
    if (bad !== undefined) {
      throw inputError(`label map "int" needs non-negative integer labels, found "${bad}"`, {
        field: "labelMap",
        hint: 'use the "dense" label map for this dataset',
      });
    }
    const sorted = ordered.slice().sort((a, b) => Number(a) - Number(b));
    const outputs = sorted.length === 0 ? 0 : Number(sorted[sorted.length - 1]) + 1;
    return { kind, classes: sorted, outputs };
  }
  if (kind !== "dense") {
    throw inputError(`unknown label map "${String(kind)}"`, {
      field: "labelMap",
      hint: 'use "dense" or "int"',
    });
  }
  const classes = numeric ? ordered.slice().sort((a, b) => Number(a) - Number(b)) : ordered;
  return { kind, classes, outputs: classes.length };
}

/** Where a label came from, for the error when the map does not know it. */
export interface LabelContext {
  file?: string;
  /** 1-based line of each label in `file` (0 = unknown). */
  lines?: ArrayLike<number>;
  hint?: string;
}

/**
 * Class index of `label`, or an InputError if the map does not know it.
 *
 * @example
 * labelToIndex({ kind: "dense", classes: ["6", "15"], outputs: 2 }, "15"); // 1
 */
export function labelToIndex(
  map: LabelMap,
  label: string,
  context: LabelContext & { line?: number } = {},
): number {
  const index = map.kind === "int" ? intIndex(map, label) : map.classes.indexOf(label);
  if (index < 0) {
    throw inputError(`label "${label}" is not in the label map (${map.classes.join(", ")})`, {
      file: context.file,
      line: context.line !== undefined && context.line > 0 ? context.line : undefined,
      field: "label",
      hint: context.hint ?? "the model was trained on a different class set; check the dataset",
    });
  }
  return index;
}

function intIndex(map: LabelMap, label: string): number {
  if (!map.classes.includes(label)) return -1;
  return Number(label);
}

/**
 * Label of class `index` (for the int map, indices no label maps to give
 * `undefined`).
 *
 * @example
 * indexToLabel({ kind: "int", classes: ["1", "9"], outputs: 10 }, 9); // "9"
 */
export function indexToLabel(map: LabelMap, index: number): string | undefined {
  if (map.kind === "int") return map.classes.find((label) => Number(label) === index);
  return map.classes[index];
}

/**
 * Class indices of many labels as an Int32Array.
 *
 * @example
 * encodeLabels(buildLabelMap(["b", "a"]), ["a", "b", "a"]); // Int32Array [1, 0, 1]
 */
export function encodeLabels(
  map: LabelMap,
  labels: readonly string[],
  context: LabelContext = {},
): Int32Array {
  const lookup = new Map<string, number>();
  for (const label of map.classes) lookup.set(label, labelToIndex(map, label));
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const index = lookup.get(labels[i]);
    out[i] =
      index === undefined ? labelToIndex(map, labels[i], { ...context, line: context.lines?.[i] }) : index;
  }
  return out;
}

/**
 * Check that a value read from JSON is a label map (e.g. from a model folder).
 *
 * @example
 * const map = parseLabelMap(JSON.parse(readFileSync("labels.json", "utf8")), "labels.json");
 */
export function parseLabelMap(value: unknown, file?: string): LabelMap {
  const v = value as Partial<LabelMap> | null;
  const ok =
    v !== null &&
    typeof v === "object" &&
    (v.kind === "dense" || v.kind === "int") &&
    Array.isArray(v.classes) &&
    v.classes.every((c) => typeof c === "string") &&
    Number.isInteger(v.outputs);
  if (!ok) {
    throw inputError(
      "not a label map: expected { kind: 'dense'|'int', classes: string[], outputs: integer }",
      {
        file,
        field: "labelMap",
      },
    );
  }
  return {
    kind: v.kind as LabelMapKind,
    classes: [...(v.classes as string[])],
    outputs: v.outputs as number,
  };
}
