import type { Command } from "commander";
import { InputError, inputError } from "../errors.js";
import {
  ACTIVATIONS,
  makeConfig,
  NORM_KINDS,
  NORM_PLACEMENTS,
  OUTPUT_ACTIVATIONS,
  POOLINGS,
  POSITIONAL_ENCODINGS,
  type TSTConfig,
} from "../model/config.js";
import { parseNumericFlag } from "./numeric-flag.js";

/** The architecture flags as commander gives them (all optional: absent = the study's TST). */
export interface ArchitectureFlags {
  layers?: string;
  heads?: string;
  dModel?: string;
  ff?: string;
  stem?: string;
  pos?: string;
  norm?: string;
  normKind?: string;
  finalNorm?: boolean;
  act?: string;
  outputAct?: string;
  pool?: string;
  cls?: boolean;
  headHidden?: string;
  embedScale?: string;
  dropout?: string;
}

export type Architecture = Partial<Omit<TSTConfig, "channels" | "seqLen" | "classes">>;

const STEM_FORMS = "linear, conv or patch:<len>,<stride> (e.g. patch:8,4)";

/** Which flag sets each config field (to name the flag when the combination is refused). */
const FLAG_OF: Record<string, string> = {
  layers: "--layers",
  heads: "--heads",
  dModel: "--d-model",
  ff: "--ff",
  stem: "--stem",
  patchLen: "--stem",
  patchStride: "--stem",
  pos: "--pos",
  norm: "--norm",
  normKind: "--norm-kind",
  finalNorm: "--final-norm",
  act: "--act",
  outputAct: "--output-act",
  pool: "--pool",
  cls: "--cls",
  headHidden: "--head-hidden",
  embedScale: "--embed-scale",
  dropout: "--dropout",
};

/** Fixes worded in flags where the config's own hint speaks of fields. */
const FLAG_HINTS: Record<string, string> = {
  pool: "add --cls, or pool by max, mean, last or flatten",
  patchLen: "use a patch length up to the series length, e.g. --stem patch:8,4",
};

/**
 * Add the model-family flags to a command (`train`, and `study` when it trains).
 *
 * @example
 * addArchitectureOptions(program.command("train"));
 */
export function addArchitectureOptions(command: Command): Command {
  return command
    .option("--layers <n>", "encoder layers (default 3)")
    .option("--heads <n>", "attention heads per layer; must divide --d-model (default 8)")
    .option("--d-model <n>", "width of the residual stream (default 128)")
    .option("--ff <n>", "width of the feed-forward block (default 256)")
    .option("--stem <kind>", `input stem: ${STEM_FORMS} (default conv, the study's)`)
    .option("--pos <kind>", `positional encoding: ${POSITIONAL_ENCODINGS.join("|")} (default learned)`)
    .option("--norm <where>", "post (norm after each residual add, default) or pre (norm_first)")
    .option("--norm-kind <kind>", "layer (LayerNorm, default) or batch (BatchNorm over features)")
    .option("--final-norm", "a norm after the last encoder layer (usual with --norm pre)")
    .option("--act <fn>", `feed-forward activation: ${ACTIVATIONS.join("|")} (default relu)`)
    .option("--output-act <fn>", `applied before pooling: ${OUTPUT_ACTIVATIONS.join("|")} (default none)`)
    .option("--pool <how>", `pooling over tokens: ${POOLINGS.join("|")} (default max)`)
    .option("--cls", "prepend a learned CLS token (needed by --pool cls)")
    .option("--head-hidden <n>", "a hidden layer of n units in the classifier head (default 0: none)")
    .option("--embed-scale <x>", "multiply the stem output by x, or by √d_model with 'sqrt' (default 1)")
    .option("--dropout <p>", "dropout probability in the encoder layers (default 0.1)");
}

/**
 * The architecture the flags ask for (only the fields given; the rest keep the study's defaults),
 * checked as far as it can be without the data: an InputError names the flag and its valid forms.
 *
 * @example
 * parseArchitectureFlags({ stem: "patch:8,4", pos: "sinusoidal", norm: "pre" });
 * // { stem: "patch", patchLen: 8, patchStride: 4, pos: "sinusoidal", norm: "pre" }
 */
export function parseArchitectureFlags(flags: ArchitectureFlags): Architecture {
  const out: { -readonly [K in keyof Architecture]: Architecture[K] } = {};
  const int = (text: string, flag: string, min: number) =>
    parseNumericFlag(text, { flag, integer: true, min, max: 1 << 20 });
  const choice = <T extends string>(text: string, allowed: readonly T[], flag: string): T => {
    if (!(allowed as readonly string[]).includes(text)) {
      throw inputError(`unknown ${flag} "${text}"`, {
        field: flag,
        hint: `use one of ${allowed.join(", ")}`,
      });
    }
    return text as T;
  };
  if (flags.layers !== undefined) out.layers = int(flags.layers, "--layers", 1);
  if (flags.heads !== undefined) out.heads = int(flags.heads, "--heads", 1);
  if (flags.dModel !== undefined) out.dModel = int(flags.dModel, "--d-model", 1);
  if (flags.ff !== undefined) out.ff = int(flags.ff, "--ff", 1);
  if (flags.stem !== undefined) Object.assign(out, parseStem(flags.stem));
  if (flags.pos !== undefined) out.pos = choice(flags.pos, POSITIONAL_ENCODINGS, "--pos");
  if (flags.norm !== undefined) out.norm = choice(flags.norm, NORM_PLACEMENTS, "--norm");
  if (flags.normKind !== undefined) out.normKind = choice(flags.normKind, NORM_KINDS, "--norm-kind");
  if (flags.finalNorm) out.finalNorm = true;
  if (flags.act !== undefined) out.act = choice(flags.act, ACTIVATIONS, "--act");
  if (flags.outputAct !== undefined)
    out.outputAct = choice(flags.outputAct, OUTPUT_ACTIVATIONS, "--output-act");
  if (flags.pool !== undefined) out.pool = choice(flags.pool, POOLINGS, "--pool");
  if (flags.cls) out.cls = true;
  if (flags.headHidden !== undefined) out.headHidden = int(flags.headHidden, "--head-hidden", 0);
  if (flags.dropout !== undefined) {
    out.dropout = parseNumericFlag(flags.dropout, { flag: "--dropout", min: 0, below: 1 });
  }
  if (flags.embedScale !== undefined) {
    out.embedScale =
      flags.embedScale === "sqrt"
        ? Math.sqrt(out.dModel ?? makeConfig({ channels: 1, seqLen: 1, classes: 1 }).dModel)
        : parseNumericFlag(flags.embedScale, {
            flag: "--embed-scale",
            above: 0,
            hint: "a number > 0, or sqrt",
          });
  }
  // The combination, with a stand-in series length (the data decides the real one).
  architectureError(() =>
    makeConfig({ ...out, channels: 1, seqLen: Math.max(1, out.patchLen ?? 1), classes: 2 }),
  );
  return out;
}

/**
 * Run `build` (which makes a config from flags); a config InputError is re-thrown naming the flag
 * that sets the field. A promise is awaited the same way.
 *
 * @example
 * const config = architectureError(() => makeConfig({ ...architecture, channels, seqLen, classes }));
 */
export function architectureError<T>(build: () => T): T {
  try {
    const result = build();
    if (result instanceof Promise) {
      return result.catch((error: unknown) => {
        throw namedByFlag(error);
      }) as T;
    }
    return result;
  } catch (error) {
    throw namedByFlag(error);
  }
}

function namedByFlag(error: unknown): unknown {
  if (!(error instanceof InputError) || error.field === undefined || FLAG_OF[error.field] === undefined) {
    return error;
  }
  const flag = FLAG_OF[error.field];
  const message = error.message
    .split("\n")[0]
    .replace(` (${error.field})`, "")
    .replace(/^model config: /, "");
  return inputError(`${flag}: ${message}`, { field: flag, hint: FLAG_HINTS[error.field] ?? error.hint });
}

function parseStem(text: string): Architecture {
  if (text === "conv" || text === "linear") return { stem: text };
  const m = /^patch:(\d+),(\d+)$/.exec(text.trim());
  if (m !== null && Number(m[1]) >= 1 && Number(m[2]) >= 1) {
    return { stem: "patch", patchLen: Number(m[1]), patchStride: Number(m[2]) };
  }
  throw inputError(`unknown --stem "${text}"`, {
    field: "--stem",
    hint: `use ${STEM_FORMS}; a patch length and stride are positive integers`,
  });
}
