import type { LabelMapKind } from "../data/labels.js";
import type { Runtime } from "../runtime/session.js";
import { HookedTST } from "./hooked-tst.js";
import { type LabelSource, resolveLabelMap } from "./label-map-rule.js";
import { readPth } from "./pth.js";
import { cachedReferenceImport } from "./pth-cache.js";
import { importReferenceStateDict } from "./reference-keys.js";

export interface ImportPthOptions {
  /**
   * Class index ↔ label: "dense" (0..K-1 in label order), "int" (index = int(label), the
   * reference's convention), or "auto" (default): the rule of {@link resolveLabelMap}.
   */
  labelMap?: LabelMapKind | "auto";
  /** Data the checkpoint was trained on (or of the same kind): gives the labels. */
  data?: LabelSource;
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
 * inferred from the tensor shapes, and a label map resolved from the data when
 * given (resolveLabelMap: the one rule; saveModel stores the result).
 *
 * @example
 * const ds = await loadDataset("PenDigits", { split: "test" });
 * const { model, note } = importPth("TST_pendigits.pth", { data: ds });
 */
export function importPth(file: string, options: ImportPthOptions = {}): ImportPthResult {
  const { config, weights } = cachedReferenceImport(file, () =>
    importReferenceStateDict(readPth(file), { file }),
  );
  const { labelMap, note } = resolveLabelMap(config.classes, options.data, { kind: options.labelMap, file });
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
