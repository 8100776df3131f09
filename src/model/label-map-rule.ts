import type { Dataset } from "../data/dataset.js";
import { buildLabelMap, type LabelMap, type LabelMapKind } from "../data/labels.js";
import { inputError } from "../errors.js";

/** The labels a label map is resolved from: every label seen and the declared ones. */
export type LabelSource = Pick<Dataset, "labels" | "declaredLabels" | "file" | "name">;

export interface ResolvedLabelMap {
  /** Null when there are no labels to map (the model then works on class indices only). */
  labelMap: LabelMap | null;
  /** One line for the user when the int(label) map was chosen without being asked for. */
  note: string | null;
}

/**
 * The one rule that ties a dataset's labels to a model's outputs (every command and the
 * library use it; a model directory stores its result, so it is resolved once):
 *
 * 1. a model that carries a label map (every model directory written by `train`, and by
 *    `import-pth` given data) uses it as it is;
 * 2. a model without one (a PyTorch `.pth`) gets it from the data's labels, declared and seen:
 *    a. outputs = number of classes → `dense` (class i = the i-th label, numeric labels sorted
 *       numerically);
 *    b. else, every label a non-negative integer and the largest ≤ outputs − 1 → `int`
 *       (class = int(label), the published reference's convention), with a one-line note;
 *    c. else an InputError (exit 2) asking for `--label-map dense|int`.
 *
 * An explicit `kind` is checked instead of guessed: `dense` needs at most `outputs` classes
 * (outputs past the last class have no label), `int` integer labels up to `outputs − 1`.
 *
 * @example
 * resolveLabelMap(10, { labels: ["1", "9"], declaredLabels: null, name: "jv" }).labelMap;
 * // { kind: "int", classes: ["1", "9"], outputs: 10 } (and a note)
 */
export function resolveLabelMap(
  outputs: number,
  data: LabelSource | undefined,
  options: { kind?: LabelMapKind | "auto"; file?: string } = {},
): ResolvedLabelMap {
  const { file } = options;
  const kind = options.kind ?? "auto";
  if (data === undefined || data.labels.every((l) => l === "")) {
    if (kind !== "auto") {
      throw inputError(`--label-map ${kind} needs the labels of the data the checkpoint was trained on`, {
        file,
        hint: "pass --data <name|file> as well",
      });
    }
    return { labelMap: null, note: null };
  }
  const labels = data.labels.filter((l) => l !== "");
  const dense = buildLabelMap(labels, { declared: data.declaredLabels });
  const where = `${outputs} outputs in the checkpoint, ${dense.outputs} classes in ${data.file ?? data.name}`;
  if (kind === "dense" || (kind === "auto" && dense.outputs === outputs)) {
    if (dense.outputs > outputs) {
      throw inputError(`label map "dense" does not fit: ${where}`, {
        file,
        hint: "check that the checkpoint belongs to this data",
      });
    }
    return { labelMap: { ...dense, outputs }, note: null };
  }
  const int =
    kind === "int" ? buildLabelMap(labels, { kind: "int", declared: data.declaredLabels }) : intMap();
  if (int !== null && int.outputs <= outputs) {
    const note =
      kind === "int"
        ? null
        : `label map: ${where}: using class index = int(label) (the reference's convention); outputs without a label are never a true class`;
    return { labelMap: { ...int, outputs }, note };
  }
  const why =
    int === null
      ? "the labels are not all non-negative integers"
      : `the largest label, ${int.outputs - 1}, is past the last output (${outputs - 1})`;
  throw inputError(
    `${kind === "int" ? 'label map "int" does not fit' : "cannot tell which output is which class"}: ${where}; ${why}`,
    {
      file,
      hint:
        "say how the checkpoint numbers its classes: tspatch import-pth <file.pth> --out <dir> --data <data> " +
        "--label-map dense (class i = the i-th label) or int (class = int(label)), then use --model <dir>",
    },
  );

  function intMap(): LabelMap | null {
    const integers = [...(data?.declaredLabels ?? []), ...labels].every((l) => /^\s*\+?\d+\s*$/.test(l));
    return integers ? buildLabelMap(labels, { kind: "int", declared: data?.declaredLabels }) : null;
  }
}
