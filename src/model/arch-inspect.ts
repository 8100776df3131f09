import { SINUSOIDAL_TOLERANCE, sinusoidalDistance } from "./arch-import.js";
import type { ReferenceTensor } from "./reference-keys.js";

/** A checkpoint's tensors grouped by module, and a component map when the key pattern is known. */
export interface CheckpointInspection {
  /** Module prefix (a numbered layer, or the first key part) → its tensors, in checkpoint order. */
  readonly groups: readonly {
    readonly prefix: string;
    readonly tensors: readonly { key: string; shape: readonly number[] }[];
  }[];
  readonly tensors: number;
  readonly values: number;
  /** Which known pattern was recognised, or null (no suggestion). */
  readonly recognised: string | null;
  /** A map in the JSON form of docs/arch-map.md (field order as documented), or null. */
  readonly suggestedMap: Record<string, unknown> | null;
  /** What the weights cannot tell, to check against the model's code before importing. */
  readonly notes: readonly string[];
}

/**
 * Groups a state dict's keys by module and, when it recognises nn.TransformerEncoder layers (a
 * stock model, mvts_transformer, the study's TST), suggests a component map. The suggestion
 * comes from key names and shapes only: the notes list what it had to guess.
 *
 * @example
 * const info = inspectStateDict(readPth("model.pth"));
 * console.log(JSON.stringify(info.suggestedMap, null, 2), info.notes.join("\n"));
 */
export function inspectStateDict(sd: ReadonlyMap<string, ReferenceTensor>): CheckpointInspection {
  const groups = new Map<string, { key: string; shape: readonly number[] }[]>();
  let values = 0;
  for (const [key, t] of sd) {
    const m = /^(.*?\.\d+)\./.exec(key);
    const prefix = m ? m[1] : key.includes(".") ? key.slice(0, key.indexOf(".")) : key;
    groups.set(prefix, [...(groups.get(prefix) ?? []), { key, shape: t.shape }]);
    values += t.data.length;
  }
  const suggestion = suggestMap(sd);
  return {
    groups: [...groups].map(([prefix, tensors]) => ({ prefix, tensors })),
    tensors: sd.size,
    values,
    ...suggestion,
  };
}

function suggestMap(
  sd: ReadonlyMap<string, ReferenceTensor>,
): Pick<CheckpointInspection, "recognised" | "suggestedMap" | "notes"> {
  const keys = [...sd.keys()];
  const shape = (key: string) => sd.get(key)?.shape;
  // nn.TransformerEncoderLayer / mvts's TransformerBatchNormEncoderLayer: <prefix>.<l>.self_attn.in_proj_weight
  const layerKey = keys.map((k) => /^(.*)\.0\.self_attn\.in_proj_weight$/.exec(k)).find((m) => m !== null);
  if (layerKey === undefined) {
    return {
      recognised: null,
      suggestedMap: null,
      notes: [
        "no nn.TransformerEncoderLayer keys (<prefix>.0.self_attn.in_proj_weight) found: write the map by hand (docs/arch-map.md)",
      ],
    };
  }
  const layersPrefix = layerKey[1];
  const L0 = `${layersPrefix}.0`;
  const D = shape(`${L0}.self_attn.out_proj.weight`)?.[0] ?? shape(`${L0}.self_attn.in_proj_weight`)![1];
  const inLayers = (k: string) => k.startsWith(`${layersPrefix}.`);
  const outside = keys.filter((k) => !inLayers(k));
  const notes: string[] = [
    'heads: not in the weights; pass --heads N (or add "heads": N), as in nn.MultiheadAttention(d_model, N)',
  ];
  const map: Record<string, unknown> = {};

  const mvts = sd.has("project_inp.weight") && sd.has("output_layer.weight");
  const study = sd.has("conv1.weight") && sd.has("bn1.weight") && sd.has("pos_enc");
  const recognised = study
    ? "the study's TST (conv stem, learned positions, post-norm, max-pool)"
    : mvts
      ? "mvts_transformer's TSTransformerEncoderClassiregressor"
      : `nn.TransformerEncoder layers at ${layersPrefix}.{l}`;

  // stem
  if (study) map.stem = { kind: "conv", conv: "conv{i}", bn: "bn{i}" };
  else {
    const stem = outside.find((k) => k.endsWith(".weight") && shape(k)!.length === 2 && shape(k)![0] === D);
    const stemKey = stem?.slice(0, -".weight".length);
    map.stem = { kind: "linear", key: stemKey ?? "REPLACE: the input projection's key" };
    notes.push(
      stem === undefined
        ? "stem: no [d_model, channels] Linear found before the layers; give the input projection's key"
        : `stem: ${stemKey} taken as a per-step Linear; if it projects patches, use { "kind": "patch", "key": "${stemKey}", "len": …, "stride": … }`,
    );
  }
  if (mvts) {
    map.embed_scale = "sqrt_d_model";
    notes.push("embed_scale: mvts_transformer multiplies the projection by √d_model");
  }

  // CLS token and positions
  const cls = outside.find((k) => /cls/i.test(k) && sd.get(k)!.data.length === D);
  if (cls !== undefined) map.cls = cls;
  const pos = outside.find(
    (k) => /pos|(^|\.)pe$/i.test(k) && shape(k)!.at(-1) === D && shape(k)!.length >= 2,
  );
  let batchFirst = true;
  if (pos === undefined) {
    map.pos = { kind: "none" };
    notes.push(
      'pos: no positional table found; if the model adds a fixed sinusoidal one, use { "kind": "sinusoidal" }',
    );
  } else {
    const s = shape(pos)!;
    if (s.length === 3 && s[1] === 1 && s[0] !== 1) batchFirst = false;
    map.pos = {
      kind:
        /(^|\.)pe$/.test(pos) &&
        sinusoidalDistance(sd.get(pos)!.data, sd.get(pos)!.data.length / D, D) <= SINUSOIDAL_TOLERANCE
          ? "sinusoidal"
          : "learned",
      key: pos,
    };
  }

  map.layers = `${layersPrefix}.{l}`;
  map.attn = "self_attn";
  map.mlp = { in: "linear1", out: "linear2" };
  map.norm1 = "norm1";
  map.norm2 = "norm2";
  const encoderPrefix = layersPrefix.endsWith(".layers")
    ? layersPrefix.slice(0, -".layers".length)
    : layersPrefix;
  const finalNorm = sd.has(`${encoderPrefix}.norm.weight`) ? `${encoderPrefix}.norm` : null;
  map.norm_first = finalNorm !== null;
  notes.push(
    finalNorm !== null
      ? `norm_first: true guessed from the final norm ${finalNorm} (usual with pre-norm); check norm_first= in the model's code`
      : "norm_first: false (post-norm, PyTorch's default); weights cannot tell it: check norm_first= in the model's code",
  );
  map.norm_kind = sd.has(`${L0}.norm1.running_mean`) ? "batch" : "layer";
  map.activation = mvts ? "gelu" : "relu";
  notes.push(
    `activation: ${map.activation} ${mvts ? "(mvts_transformer's default)" : "(PyTorch's default)"}; weights cannot tell it: check activation= in the model's code`,
  );
  if (mvts) {
    map.output_activation = "gelu";
    notes.push("output_activation: gelu, applied by mvts_transformer before the output layer");
  }
  if (finalNorm !== null) map.final_norm = finalNorm;

  // head: the Linear(s) after the layers, in checkpoint order
  const after = keys
    .slice(keys.findLastIndex(inLayers) + 1)
    .filter((k) => !k.startsWith(`${encoderPrefix}.norm.`));
  const heads = after
    .filter((k) => k.endsWith(".weight") && shape(k)!.length === 2)
    .map((k) => k.slice(0, -".weight".length));
  const pooledWidth = heads.length > 0 ? shape(`${heads[0]}.weight`)![1] : D;
  if (study) map.pool = "max";
  else if (pooledWidth !== D && pooledWidth % D === 0) {
    map.pool = "flatten";
    notes.push(
      `pool: flatten, since the head takes ${pooledWidth} = ${pooledWidth / D} tokens × d_model values`,
    );
  } else {
    map.pool = cls !== undefined ? "cls" : "mean";
    notes.push(
      `pool: ${map.pool} guessed; weights cannot tell it: max, mean, cls or last, as the model's forward pools`,
    );
  }
  if (heads.length === 0) map.head = "REPLACE: the classifier's key";
  else if (heads.length === 1) map.head = heads[0];
  else map.head = { hidden: heads[0], out: heads.at(-1) };
  if (heads.length > 2)
    notes.push(`head: ${heads.length} Linear layers after the encoder; the family has one or two`);
  map.batch_first = batchFirst;
  if (pos !== undefined && shape(pos)!.length === 3) {
    notes.push(`batch_first: ${batchFirst}, from the layout of ${pos} [${shape(pos)}]`);
  }
  return { recognised, suggestedMap: map, notes };
}
