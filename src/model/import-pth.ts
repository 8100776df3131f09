import type { LabelMapKind } from "../data/labels.js";
import type { Runtime } from "../runtime/session.js";
import { importArchStateDict } from "./arch-import.js";
import type { ArchMap } from "./arch-map.js";
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
  /**
   * A component map (docs/arch-map.md, {@link readArchMap}) for a checkpoint that is not the
   * reference TST; without one the reference architecture's keys are expected.
   */
  arch?: { map: ArchMap; file: string };
  /** With `arch`: attention heads and time steps, where the map and the weights do not say. */
  heads?: number;
  seqLen?: number;
}

export interface ImportPthResult {
  model: HookedTST;
  /** One line for the user when the int(label) map was detected and applied. */
  note: string | null;
}

/**
 * Import a PyTorch checkpoint (`torch.save(model.state_dict())`): of the reference TST, or of
 * any model of the family through a component map (`arch`). Raw inputs (no normalisation, as
 * the checkpoint was trained), config inferred from the tensor shapes, and a label map resolved
 * from the data when given (resolveLabelMap: the one rule; saveModel stores the result).
 *
 * @example
 * const ds = await loadDataset("PenDigits", { split: "test" });
 * const { model, note } = importPth("TST_pendigits.pth", { data: ds });
 */
export function importPth(file: string, options: ImportPthOptions = {}): ImportPthResult {
  // The study's checkpoints go through the on-disk cache of imported weights; a component map's
  // import depends on the map and flags too, and stays uncached.
  const { config, weights } =
    options.arch === undefined
      ? cachedReferenceImport(file, () => importReferenceStateDict(readPth(file), { file }))
      : importArchStateDict(readPth(file), options.arch.map, {
          file,
          mapFile: options.arch.file,
          heads: options.heads,
          seqLen: options.seqLen,
        });
  const { labelMap, note } = resolveLabelMap(config.classes, options.data, { kind: options.labelMap, file });
  const model = new HookedTST(
    config,
    weights,
    {
      preprocess: null,
      labelMap,
      provenance: {
        source: "import-pth",
        file,
        labelMap: labelMap?.kind ?? null,
        ...(options.arch === undefined ? {} : { arch: options.arch.file }),
      },
    },
    options.runtime,
  );
  return { model, note };
}
