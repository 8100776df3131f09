import type { Dataset } from "../data/dataset.js";
import { buildLabelMap, type LabelMap, type LabelMapKind } from "../data/labels.js";
import { inputError } from "../errors.js";
import type { Runtime } from "../runtime/session.js";
import { HookedTST } from "./hooked-tst.js";
import { readPth } from "./pth.js";
import { importReferenceStateDict } from "./reference-keys.js";

export interface ImportPthOptions {
  /**
   * Class index ↔ label: "dense" (0..K-1 in label order), "int" (index = int(label), the
   * reference's convention), or "auto" (default): dense when the checkpoint's K equals the data's
   * class count, else int.
   */
  labelMap?: LabelMapKind | "auto";
  /** Data the checkpoint was trained on (or of the same kind): gives the labels. */
  data?: Pick<Dataset, "labels" | "declaredLabels" | "file" | "name">;
  runtime?: Runtime;
}

export interface ImportPthResult {
  model: HookedTST;
  /** One line for the user when the int(label) map was detected and applied. */
  note: string | null;
}

/**
 * Import a reference PyTorch checkpoint (`torch.save(model.state_dict())` of
 * the reference TST): raw inputs (no normalisation, as the reference), config
 * inferred from the tensor shapes, and a label map from the data when given.
 *
 * @example
 * const ds = await loadDataset("PenDigits", { split: "test" });
 * const { model, note } = importPth("TST_pendigits.pth", { data: ds });
 */
export function importPth(file: string, options: ImportPthOptions = {}): ImportPthResult {
  const { config, weights } = importReferenceStateDict(readPth(file), { file });
  const { labelMap, note } = chooseLabelMap(config.classes, file, options);
  const model = new HookedTST(
    config,
    weights,
    {
      preprocess: null,
      labelMap,
      provenance: { source: "import-pth", file, labelMap: labelMap?.kind ?? null },
    },
    options.runtime,
  );
  return { model, note };
}

function chooseLabelMap(
  outputs: number,
  file: string,
  options: ImportPthOptions,
): { labelMap: LabelMap | null; note: string | null } {
  const data = options.data;
  const kind = options.labelMap ?? "auto";
  if (data === undefined || data.labels.every((l) => l === "")) {
    if (kind === "int" || kind === "dense") {
      throw inputError(`--label-map ${kind} needs the labels of the data the checkpoint was trained on`, {
        file,
        hint: "pass --data <name|file> as well",
      });
    }
    return { labelMap: null, note: null };
  }
  const dense = buildLabelMap(data.labels, { declared: data.declaredLabels });
  const tryInt = (): LabelMap | null => {
    try {
      return buildLabelMap(data.labels, { kind: "int", declared: data.declaredLabels });
    } catch {
      return null;
    }
  };
  const where = `${outputs} outputs in the checkpoint, ${dense.outputs} classes in ${data.file ?? data.name}`;
  if (kind === "dense" || (kind === "auto" && dense.outputs === outputs)) {
    if (dense.outputs !== outputs) {
      throw inputError(`label map "dense" does not fit: ${where}`, { file, hint: "use --label-map int" });
    }
    return { labelMap: dense, note: null };
  }
  const int = tryInt();
  if (int === null || int.outputs > outputs) {
    throw inputError(`the checkpoint does not fit the data's labels: ${where}`, {
      file,
      hint:
        int === null
          ? "the labels are not integers, so the int(label) map cannot apply either; check the data"
          : `the largest label is ${int.outputs - 1}; check that the checkpoint belongs to this data`,
    });
  }
  const labelMap = { ...int, outputs };
  const note =
    kind === "int"
      ? null
      : `label map: ${where}: using class index = int(label) (the reference's convention); outputs without a label are never a true class`;
  return { labelMap, note };
}
