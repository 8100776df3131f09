/**
 * The stage pipeline of `tspatch study` (DESIGN.md "Outputs of a study"):
 * data → model → evaluation → pairs → sweeps (one stage per component kind) → statistics →
 * results → the caller's final stages (figures and report.html, from the report layer). Each stage writes its outputs atomically and is recorded in stages.json, so
 * `--resume` skips finished stages (a sweep interrupted mid-way resumes from its checkpoint of
 * finished pairs). Pre-flight diagnostics run inside the stages that have what they need
 * (output width: evaluation; patch sanity, saturation, design and pair dependence: pairs; no-op
 * patches: statistics, from the effects tables so a merged run finds the same) and are collected
 * into results.json's `diagnostics`. The optional stability and baselines stages (after
 * statistics, when configured) each write their typed results.json section to the state directory,
 * as does the sensitivity stage (the head analysis under other metrics and pair strategies); these
 * run in an unsharded study or after `tspatch merge`, never in a shard.
 */

import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../atomic-write.js";
import type { Dataset } from "../data/dataset.js";
import { indexToLabel, type LabelMap } from "../data/labels.js";
import { type LoadOptions, loadDataset } from "../data/registry.js";
import { dependenceFindings, designFindings, MIN_UNITS } from "../diagnostics/design.js";
import { type Finding, formatFinding } from "../diagnostics/finding.js";
import { outputWidthFindings } from "../diagnostics/output-width.js";
import { patchSanity } from "../diagnostics/patch-sanity.js";
import { saturationFindings } from "../diagnostics/saturation.js";
import { inputError } from "../errors.js";
import type { HookedTST } from "../model/hooked-tst.js";
import type { HookName } from "../model/hooks.js";
import { importPth } from "../model/import-pth.js";
import { fixedGradientRows, GRADIENT_ROWS_CAP } from "../model/memory-cost.js";
import { loadModel, saveModel } from "../model/model-dir.js";
import { buildPairs } from "../patching/build-pairs.js";
import { effectsLongCsv, parseEffectsLong } from "../patching/effects-long.js";
import { type ModelInputs, modelInputs } from "../patching/inputs.js";
import { makePairs, type PairSet, pairsFromList } from "../patching/pairs.js";
import { parsePairsFile } from "../patching/pairs-file.js";
import { presetComponents } from "../patching/presets.js";
import { sideBySideCheckpoints, sweepSideBySide } from "../patching/side-by-side.js";
import { cacheHooksFor, pairBaselines } from "../patching/sweep.js";
import type { Pair } from "../patching/types.js";
import { DEFAULT_SESOI, type EffectMetricName } from "../stats/importance.js";
import { checkpointPathOf, trainModel } from "../train/train-model.js";
import { version } from "../version.js";
import { alignmentSummary, noOpFindings } from "./alignment-summary.js";
import { analyzeKind, unitOf } from "./analysis.js";
import { KIND_FILES, METRIC_COLUMNS, type StudyConfig } from "./config.js";
import {
  type PositionUnitSample,
  positionPairs,
  positionUnitsPlan,
  samplePositionUnits,
} from "./position-units.js";
import { reproduction } from "./reproduction.js";
import {
  type AlignmentSummary,
  type AnalysisPlan,
  type BaselinesSection,
  type DataCard,
  type DirectionResults,
  type ModelCard,
  type PairsSummary,
  parseResults,
  RESULTS_SCHEMA_NAME,
  RESULTS_SCHEMA_VERSION,
  type ReproductionSection,
  resultsJson,
  type SensitivitySection,
  type StabilitySection,
  type StudyDirection,
  type StudyFinding,
  type StudyResults,
} from "./results-schema.js";
import { baselinesSection, stabilitySection } from "./robustness-stages.js";
import { acquireRunLock } from "./run-lock.js";
import { sensitivitySection } from "./sensitivity.js";
import { StageManifest } from "./stage-manifest.js";
import { statsCsv } from "./stats-csv.js";

export type Progress = ((done: number, total: number, detail?: string) => void) & { finish(): void };

/** A subset of the work units: the chunks of pairs whose number ≡ index (mod count). */
export interface Shard {
  index: number;
  count: number;
}

export interface StudyOptions {
  config: StudyConfig;
  /** Output directory (absolute). */
  out: string;
  resume?: boolean;
  shard?: Shard | null;
  /** Where datasets are found (cwd, env, data dir) and whether they may be downloaded. */
  data?: Omit<LoadOptions, "split">;
  signal?: AbortSignal;
  /** A progress bar for a long stage. */
  progress?: (stage: string, unit: string) => Progress;
  /** One line per stage started or skipped. */
  log?: (line: string) => void;
  /**
   * Stages after `results` that read it (the report's figures and HTML): given by the caller,
   * since study/ does not import the layers above it. Recorded and resumed like the others.
   */
  finalStages?: readonly FinalStage[];
  /** Each diagnostic finding that is not `info`, as one line, when its stage finds it. */
  warn?: (line: string) => void;
  /**
   * Bytes the training stage stays within (the caller's `--memory-budget`): its batches run in
   * micro-batches when they do not fit, to the same weights up to float32 rounding. Absent: none.
   */
  trainMemoryBudget?: number;
  /**
   * Rows per runtime call (and the model on a runtime that fits) under a memory budget; the
   * caller's `--memory-budget`. Absent: 256 rows, the default runtime. Results do not depend on it
   * beyond float rounding of batched runs, so it is not part of the configuration.
   */
  memoryPlan?: (model: HookedTST, masked: boolean) => StudyMemoryPlan;
}

/** What the study takes of a memory plan (the CLI's `planMemory` result satisfies it). */
export interface StudyMemoryPlan {
  model: HookedTST;
  rows: number;
  note: string;
  binds: boolean;
  /** Pairs per sweep chunk (at most `cap`, a power of two) whose cached activations fit. */
  pairsPerChunk(hooks: readonly HookName[], cap: number): number;
  /** Rows per call (at most `cap`) of a backward graph: the baselines' AtP, IG and saliency. */
  gradientRows(masked: boolean, cap: number): number;
  /** Whether a sweep's two halves' runtime calls fit at once. */
  halvesFit: boolean;
}

/** The plan the stages run on: without a memory plan, the default rows on the model as loaded. */
type PlannedRuns = Pick<StudyMemoryPlan, "model" | "rows"> &
  Partial<Pick<StudyMemoryPlan, "pairsPerChunk" | "gradientRows" | "halvesFit">>;

/** A stage that reads the finished results (e.g. the report). */
export interface FinalStage {
  name: string;
  run(out: string, results: StudyResults): Promise<void>;
}

export interface StudyRun {
  out: string;
  /** Null for a shard (its results come from `tspatch merge`). */
  results: StudyResults | null;
  /** Wall seconds per stage of this run (skipped stages keep their earlier time). */
  timings: Record<string, number>;
  /** Stages skipped because they were already done. */
  skipped: string[];
}

/** Pairs per sweep chunk: the unit of checkpoints and of shards. */
const PAIRS_PER_CHUNK = 16;

/** Rows per runtime call without a memory budget (the sweep command's default). */
const DEFAULT_BATCH_ROWS = 256;

/** The internal state files of a study (not part of the documented outputs). */
const STATE = ".study";

/** The units of the head × time-step sweep, drawn by the pairs stage (shared by every shard). */
export const POSITION_UNITS_FILE = `${STATE}/position-units.json`;

/** config.json's text: the configuration without the shard (every shard writes the same one). */
export function configText(config: StudyConfig): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}

export function stageNames(config: StudyConfig, shard: Shard | null): string[] {
  const sweeps = config.kinds.map((k) => `sweep:${k}`);
  const head = ["data", "model", "evaluation", "pairs", ...sweeps];
  const optional = (["sensitivity", "stability", "baselines"] as const).filter((s) => config[s]);
  return shard === null ? [...head, "statistics", ...optional, "results"] : head;
}

/**
 * Run (or resume) a study.
 *
 * @example
 * const run = await runStudy({ config: quickScale(defaultStudyConfig()), out: "/tmp/runs/jv" });
 * run.results?.directions[0].kinds[0].counts.corrected;
 */
export async function runStudy(options: StudyOptions): Promise<StudyRun> {
  const { config, out } = options;
  const shard = options.shard ?? null;
  mkdirSync(join(out, STATE), { recursive: true });
  const release = acquireRunLock(out);
  try {
    const text = configText(config);
    const manifest = StageManifest.open(
      out,
      shard === null ? text : `${text}shard ${shard.index}/${shard.count}\n`,
      options.resume ?? false,
    );
    writeFileAtomic(join(out, "config.json"), text);
    const study = new StudyState(options);
    const skipped: string[] = [];
    const finals = shard === null ? (options.finalStages ?? []) : [];
    for (const stage of [...stageNames(config, shard), ...finals.map((f) => f.name)]) {
      options.log?.(manifest.isDone(stage) ? `${stage}: done earlier, skipped` : `${stage} …`);
      const final = finals.find((f) => f.name === stage);
      const outcome = await manifest.run(stage, () =>
        final === undefined ? study.run(stage) : final.run(out, study.readResults()),
      );
      if (outcome === "skipped") skipped.push(stage);
    }
    const timings = manifest.timings();
    writeFileAtomic(
      join(out, "timings.json"),
      `${JSON.stringify({ stages: timings, total_seconds: sum(Object.values(timings)), finished: new Date().toISOString() }, null, 2)}\n`,
    );
    if (shard !== null) {
      writeFileAtomic(
        join(out, "shard.json"),
        `${JSON.stringify({ shard: `${shard.index}/${shard.count}` })}\n`,
      );
    }
    const results = shard === null ? study.readResults() : null;
    return { out, results, timings, skipped };
  } finally {
    release();
  }
}

function sum(values: number[]): number {
  return Number(values.reduce((a, b) => a + b, 0).toFixed(3));
}

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

function onnxruntimeVersion(): string {
  const require = createRequire(import.meta.url);
  return (require("onnxruntime-node/package.json") as { version: string }).version;
}

interface DataState {
  card: DataCard;
  sha256: Record<string, string>;
}

interface EvaluationState {
  accuracy: number;
  n: number;
  misclassified: number;
  confusion: number[][];
  pTrue: number[];
  /** Predicted class index per row. */
  predicted: number[];
}

interface PairsState {
  strategy: string;
  counts: Record<string, number>;
  pairs: Pair[];
}

/** The study's stages and the state they pass on (each read back from disk when resumed). */
class StudyState {
  private readonly config: StudyConfig;
  private readonly out: string;
  private datasetCache: Dataset | null = null;
  private modelCache: HookedTST | null = null;
  private plannedCache: PlannedRuns | null = null;

  constructor(private readonly options: StudyOptions) {
    this.config = options.config;
    this.out = options.out;
  }

  async run(stage: string): Promise<void> {
    if (stage === "data") return this.dataStage();
    if (stage === "model") return this.modelStage();
    if (stage === "evaluation") return this.evaluationStage();
    if (stage === "pairs") return this.pairsStage();
    if (stage.startsWith("sweep:")) return this.sweepStage(stage.slice(6) as StudyConfig["kinds"][number]);
    if (stage === "statistics") return this.statisticsStage();
    if (stage === "sensitivity") return this.sensitivityStage();
    if (stage === "stability" || stage === "baselines") return this.robustnessStage(stage);
    if (stage === "results") return this.resultsStage();
    throw new Error(`unknown stage ${stage}`);
  }

  private path(...parts: string[]): string {
    return join(this.out, ...parts);
  }

  private writeJson(file: string, value: unknown): void {
    writeFileAtomic(this.path(file), `${JSON.stringify(value, null, 2)}\n`);
  }

  private readJson<T>(file: string): T {
    return JSON.parse(readFileSync(this.path(file), "utf8")) as T;
  }

  private async dataset(): Promise<Dataset> {
    if (this.datasetCache === null) {
      this.datasetCache = await loadDataset(this.config.dataset, {
        ...this.options.data,
        split: this.config.split,
      });
    }
    return this.datasetCache;
  }

  private async dataStage(): Promise<void> {
    const analysed = await this.dataset();
    const other = await loadDataset(this.config.dataset, {
      ...this.options.data,
      split: this.config.split === "test" ? "train" : "test",
    }).catch(() => null);
    const splits: Record<string, number> = { [this.config.split]: analysed.cases };
    const hashes: Record<string, string> = {};
    if (analysed.file) hashes[basenameOf(analysed.file)] = sha256(analysed.file);
    if (other !== null) {
      splits[this.config.split === "test" ? "train" : "test"] = other.cases;
      if (other.file) hashes[basenameOf(other.file)] = sha256(other.file);
    }
    const counts = analysed.labelMap.classes.map((c) => analysed.labels.filter((l) => l === c).length);
    let min = Infinity;
    let max = 0;
    for (const n of analysed.lengths) {
      min = Math.min(min, n);
      max = Math.max(max, n);
    }
    const card: DataCard = {
      name: analysed.name,
      splits: Object.fromEntries(Object.entries(splits).sort(([a], [b]) => (a < b ? -1 : 1))),
      analysis_split: this.config.split,
      classes: analysed.labelMap.classes,
      class_counts: counts,
      channels: analysed.channels,
      lengths: { min, max, model: max },
      normalisation: "",
    };
    this.writeJson(`${STATE}/data.json`, { card, sha256: hashes } satisfies DataState);
  }

  private async modelStage(): Promise<void> {
    const dir = this.path("model");
    const source = this.config.model;
    if (source === "train") {
      const bar = this.options.progress?.("train", "steps");
      try {
        await trainModel({
          dataset: this.config.dataset,
          out: dir,
          seed: this.config.seeds.train,
          epochs: this.config.training.epochs,
          patience: this.config.training.patience,
          batchSize: this.config.training.batchSize,
          architecture: this.config.training.architecture,
          memoryBudget: this.options.trainMemoryBudget,
          onMicroBatch: (rows, batchSize) =>
            this.options.log?.(`train: batches of ${batchSize} in micro-batches of ${rows} rows`),
          resume: existsSync(checkpointPathOf(dir)),
          signal: this.options.signal,
          onProgress: bar,
          data: this.options.data,
          exportOnnx: false,
        });
      } finally {
        bar?.finish();
      }
      return;
    }
    if (!existsSync(source)) {
      throw inputError("no such model directory or file", {
        file: source,
        hint: "give --model train, a model directory (config.json + weights.safetensors) or a .pth checkpoint",
      });
    }
    mkdirSync(dir, { recursive: true });
    if (/\.(pth|pt)$/i.test(source)) {
      const { model } = importPth(source, { data: await this.dataset() });
      saveModel(model, dir);
      return;
    }
    const { model } = loadModel(source);
    for (const file of ["config.json", "weights.safetensors", "metrics.json"]) {
      if (existsSync(join(source, file))) copyFileSync(join(source, file), join(dir, `${file}.tmp`));
    }
    // Renames after every copy: a killed copy never leaves a model directory that looks complete.
    for (const file of ["config.json", "weights.safetensors", "metrics.json"]) {
      if (existsSync(join(dir, `${file}.tmp`))) {
        writeFileAtomic(join(dir, file), readFileSync(join(dir, `${file}.tmp`)));
        rmSync(join(dir, `${file}.tmp`));
      }
    }
    void model;
  }

  private async model(): Promise<HookedTST> {
    if (this.modelCache === null) {
      const dataset = await this.dataset();
      this.modelCache = loadModel(this.path("model"), { data: dataset }).model;
    }
    return this.modelCache;
  }

  /** The model and rows per runtime call under the caller's memory budget (planned once). */
  private async planned(): Promise<PlannedRuns> {
    if (this.plannedCache === null) {
      const model = await this.model();
      const plan = this.options.memoryPlan?.(model, (await this.inputs()).mask !== null);
      if (plan?.binds) this.options.log?.(plan.note);
      this.plannedCache = plan === undefined ? { model, rows: DEFAULT_BATCH_ROWS } : plan;
    }
    return this.plannedCache;
  }

  /** Record a stage's diagnostic findings (read back into results.json) and print the warnings. */
  private recordFindings(stage: string, findings: readonly Finding[]): void {
    for (const f of findings) if (f.severity !== "info") this.options.warn?.(formatFinding(f));
    const stored: StudyFinding[] = findings.map((f) => ({ stage, ...f, detail: { ...f.detail } }));
    this.writeJson(findingsFile(stage), stored);
  }

  private async inputs(): Promise<ModelInputs> {
    const model = await this.model();
    const dataset = await this.dataset();
    if (dataset.channels !== model.config.channels) {
      throw inputError(
        `the model expects ${model.config.channels} channels, the data has ${dataset.channels}`,
        { file: dataset.file, hint: "give the dataset the model was trained on (--dataset)" },
      );
    }
    return modelInputs(model, dataset);
  }

  private async evaluationStage(): Promise<void> {
    const { model, rows: block } = await this.planned();
    const inputs = await this.inputs();
    const K = model.config.classes;
    const S = model.config.seqLen;
    const C = model.config.channels;
    const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
    const pTrue: number[] = [];
    const predictedRows: number[] = [];
    const lines = ["row,true_label,predicted_label,correct,p_true,p_predicted"];
    const logitRows: Float64Array[] = [];
    let correct = 0;
    for (let r0 = 0; r0 < inputs.rows; r0 += block) {
      const r1 = Math.min(inputs.rows, r0 + block);
      const { logits } = await model.run(inputs.x.subarray(r0 * S * C, r1 * S * C), {
        mask: inputs.mask?.subarray(r0 * S, r1 * S) ?? null,
      });
      for (let r = r0; r < r1; r++) {
        const row = Float64Array.from(logits.subarray((r - r0) * K, (r - r0 + 1) * K));
        logitRows.push(row);
        const p = softmax(row);
        let predicted = 0;
        for (let k = 1; k < K; k++) if (p[k] > p[predicted]) predicted = k;
        const y = inputs.trueClass[r];
        if (y >= 0) confusion[y][predicted]++;
        if (y === predicted) correct++;
        pTrue.push(y >= 0 ? p[y] : Number.NaN);
        predictedRows.push(predicted);
        lines.push(
          [
            r,
            csvCell(labelOf(inputs.labelMap, y) ?? ""),
            csvCell(labelOf(inputs.labelMap, predicted) ?? String(predicted)),
            y === predicted,
            y >= 0 ? p[y] : "",
            p[predicted],
          ].join(","),
        );
      }
    }
    writeFileAtomic(this.path("predictions.csv"), `${lines.join("\n")}\n`);
    this.recordFindings("evaluation", outputWidthFindings(K, inputs.trueClass, logitRows));
    const labelled = inputs.trueClass.filter((y) => y >= 0).length;
    this.writeJson(`${STATE}/evaluation.json`, {
      accuracy: labelled === 0 ? 0 : correct / labelled,
      n: labelled,
      misclassified: labelled - correct,
      confusion,
      pTrue: pTrue.map((p) => (Number.isFinite(p) ? p : null)),
      predicted: predictedRows,
    });
  }

  /** Pairs are rebuilt (deterministic) wherever needed: noised pairs bring their noisy inputs. */
  private async buildPairs(): Promise<{ inputs: ModelInputs; set: PairsState }> {
    const model = await this.model();
    const inputs = await this.inputs();
    const c = this.config;
    const list =
      c.pairsFile === null
        ? undefined
        : parsePairsFile(readFileSync(c.pairsFile, "utf8"), c.pairsFile, inputs.rows, {
            dataset: inputs.dataset.file ?? inputs.dataset.name,
          });
    const options = {
      direction: c.direction,
      seed: c.seeds.pairs,
      maxSourcesPerTarget: c.maxSourcesPerTarget,
      maxTargetsPerClass: c.maxTargetsPerClass ?? undefined,
    };
    if (c.strategy !== "noised" || list !== undefined) {
      // The evaluation stage's predictions decide which inputs are (mis)classified.
      const { predicted } = this.readJson<EvaluationState>(`${STATE}/evaluation.json`);
      const rows = { trueClass: inputs.trueClass, predicted };
      const made =
        list === undefined
          ? makePairs(c.strategy as "misclassified" | "cross-class", rows, options)
          : pairsFromList(list, rows, options);
      return { inputs, set: { strategy: made.strategy, counts: { ...made.counts }, pairs: [...made.pairs] } };
    }
    const built = await buildPairs(model, inputs, { ...options, strategy: c.strategy, snrDb: c.snrDb });
    return {
      inputs: built.inputs,
      set: {
        strategy: built.pairs.strategy,
        counts: { ...built.pairs.counts },
        pairs: [...built.pairs.pairs],
      },
    };
  }

  private async pairsStage(): Promise<void> {
    const { inputs, set } = await this.buildPairs();
    if (set.pairs.length === 0) {
      throw inputError(`the ${set.strategy} strategy found no pairs (${JSON.stringify(set.counts)})`, {
        field: "--strategy",
        hint:
          set.strategy === "misclassified"
            ? "the model misclassifies no input of this split: use --strategy cross-class or noised"
            : "check --dataset and the strategy's options",
      });
    }
    const lines = ["pair_id,direction,source,target,true_label"];
    for (const p of set.pairs) {
      lines.push(
        [p.id, p.direction, p.source, p.target, csvCell(labelOf(inputs.labelMap, p.trueClass) ?? "")].join(
          ",",
        ),
      );
    }
    writeFileAtomic(this.path("pairs.csv"), `${lines.join("\n")}\n`);
    this.writeJson(`${STATE}/pairs.json`, set);
    if (this.config.kinds.includes("head_position")) {
      // Drawn here, from the full pair list, so every shard sweeps the same units.
      const samples = samplePositionUnits(
        set.pairs,
        this.directions(),
        this.config.maxPositionUnits,
        this.config.seeds.pairs,
        (unit, pair) => (this.config.poolDirections ? pair.trueClass : inputs.trueClass[unit]),
      );
      this.writeJson(POSITION_UNITS_FILE, samples);
    }
    const { model, rows: batchRows } = await this.planned();
    const design = { ...set, strategy: set.strategy as PairSet["strategy"] };
    // Patch sanity on a few pairs for every kind swept: a broken patch has no result to report.
    const components = this.config.kinds.flatMap((k) =>
      presetComponents(model.config, KIND_FILES[k].preset, this.config.headMode),
    );
    const sanity = await patchSanity(model, inputs, set.pairs, components, {
      lengths: inputs.lengths,
      batchRows,
      signal: this.options.signal,
    });
    // The study's unit is the misclassified input: the target when denoising, the source when noising.
    const units = { denoise: "target", noise: "source" } as const;
    // Saturation needs every pair's unpatched logits: one run per distinct input.
    const baselines = await pairBaselines(model, inputs, set.pairs, {
      batchRows,
      signal: this.options.signal,
    });
    this.recordFindings("pairs", [
      ...sanity,
      ...saturationFindings(baselines, undefined, "study --metric logit_diff"),
      ...designFindings(design, MIN_UNITS, units),
      ...dependenceFindings(set.pairs, units),
    ]);
    const broken = sanity.filter((f) => f.severity === "error");
    if (broken.length > 0) {
      throw inputError(`patch sanity failed: ${broken.map((f) => f.message).join("; ")}`, {
        file: this.path("model"),
        hint: "the patched model does not behave as patching requires; check the model's graph (tspatch inspect) and report the failing check",
      });
    }
  }

  private async sweepStage(kind: StudyConfig["kinds"][number]): Promise<void> {
    const { model, rows: batchRows, pairsPerChunk, halvesFit } = await this.planned();
    const { inputs, set } = await this.buildPairs();
    const stored = this.readJson<PairsState>(`${STATE}/pairs.json`);
    if (JSON.stringify(stored.pairs) !== JSON.stringify(set.pairs)) {
      throw inputError("the pairs differ from the ones this study recorded", {
        file: this.path("pairs.csv"),
        hint: "the model or data changed since the pairs stage; start the study again in a new --out",
      });
    }
    const swept =
      kind === "head_position"
        ? positionPairs(set.pairs, this.readJson<PositionUnitSample[]>(POSITION_UNITS_FILE))
        : set.pairs;
    const shard = this.options.shard ?? null;
    // A shard's work units are whole chunks of the single run: a chunk is computed in the same
    // runtime batches either way, so the merged effects are bit-identical to a single run's.
    const pairs =
      shard === null
        ? swept
        : swept.filter((_, i) => Math.floor(i / PAIRS_PER_CHUNK) % shard.count === shard.index);
    const { file, preset } = KIND_FILES[kind];
    const components = presetComponents(model.config, preset, this.config.headMode);
    // A power of two ≤ 16 under a budget: the chunks still tile the shards' 16-pair units.
    const pairsPerBatch =
      pairsPerChunk?.(cacheHooksFor(model, components), PAIRS_PER_CHUNK) ?? PAIRS_PER_CHUNK;
    if (pairsPerBatch < PAIRS_PER_CHUNK)
      this.options.log?.(`sweep ${kind}: ${pairsPerBatch} pairs per chunk`);
    mkdirSync(this.path("effects"), { recursive: true });
    const checkpoint = this.path(STATE, `sweep-${kind}.checkpoint`);
    const bar = this.options.progress?.(`sweep ${kind}`, "pairs");
    try {
      // Two halves side by side (side-by-side.ts), one after the other when a memory budget has
      // no room for both; always on single-threaded sessions, so that a shard's chunks (too few
      // to split) give the single run's bytes, on any number of cores.
      const sides = { threads: halvesFit === false ? 1 : undefined, singleThreaded: true };
      const options = {
        components,
        recoveryBasis: set.strategy === "cross-class" ? ("logit_diff" as const) : ("p_true" as const),
        checkpoint,
        fingerprint: configText(this.config),
        pairsPerBatch,
        batchRows,
        signal: this.options.signal,
        onProgress: bar,
      };
      const result = await sweepSideBySide(model, inputs, pairs, options, sides);
      writeFileAtomic(this.path(file), effectsLongCsv(result.rows, inputs.labelMap));
    } finally {
      bar?.finish();
    }
    for (const file of sideBySideCheckpoints(checkpoint)) rmSync(file, { force: true });
  }

  private directions(): StudyDirection[] {
    if (this.config.poolDirections) return ["pooled"];
    return this.config.direction === "both" ? ["denoise", "noise"] : [this.config.direction];
  }

  plan(): AnalysisPlan {
    const c = this.config;
    const pooled = c.poolDirections;
    return {
      metric: c.metric,
      test: c.test,
      correction: c.correction,
      alpha: c.alpha,
      family: pooled
        ? "the components of one kind of one dataset, directions pooled (compatibility)"
        : "the components of one kind (e.g. the 24 heads) of one dataset and one direction",
      family_scope: c.familyPooled || pooled ? "pooled" : "per-direction",
      directions: this.directions(),
      unit: pooled
        ? { pooled: "one pair in one direction (the published study's unit; pairs share inputs)" }
        : {
            denoise: "the target input (misclassified), effects averaged over its sources",
            noise: "the source input (misclassified), effects averaged over the targets it was patched into",
          },
      unit_aggregation: pooled ? "none" : "mean",
      alternative: "two-sided",
      bootstrap_resamples: c.bootstrapResamples,
      permutation_resamples: c.bootstrapResamples,
      sesoi: c.sesoi ?? DEFAULT_SESOI[METRIC_COLUMNS[c.metric] as EffectMetricName],
      head_mode: c.headMode,
      compatibility: {
        pairs_file: c.pairsFile === null ? null : basenameOf(c.pairsFile),
        head_slice: c.headMode === "slice",
        pool_directions: c.poolDirections,
        family_pooled: c.familyPooled,
      },
      ...(c.kinds.includes("head_position")
        ? {
            head_position_units: positionUnitsPlan(
              c.maxPositionUnits,
              c.seeds.pairs,
              this.readJson<PositionUnitSample[]>(POSITION_UNITS_FILE),
            ),
          }
        : {}),
    };
  }

  private effects(kind: StudyConfig["kinds"][number]) {
    const file = this.path(KIND_FILES[kind].file);
    return parseEffectsLong(readFileSync(file, "utf8"), file);
  }

  private async statisticsStage(): Promise<void> {
    const plan = this.plan();
    const metric = METRIC_COLUMNS[this.config.metric];
    const data = this.readJson<DataState>(`${STATE}/data.json`);
    const evaluation = this.readJson<EvaluationState>(`${STATE}/evaluation.json`);
    const pairs = this.readJson<PairsState>(`${STATE}/pairs.json`).pairs;
    const effects = new Map(this.config.kinds.map((k) => [k, this.effects(k)]));
    const directions: DirectionResults[] = this.directions().map((direction) => {
      const inDirection = pairs.filter((p) => direction === "pooled" || p.direction === direction);
      const kinds = this.config.kinds.map((kind) =>
        analyzeKind(effects.get(kind) ?? [], kind, direction, plan, {
          metric,
          seed: this.config.seeds.stats,
          family: familyText(kind, data.card.name, direction),
        }),
      );
      return {
        direction,
        n_units:
          direction === "pooled"
            ? inDirection.length
            : new Set(inDirection.map((p) => unitOf(direction, p))).size,
        baseline_p_true: meanTargetPTrue(pairs, direction, evaluation),
        kinds,
      };
    });
    writeFileAtomic(this.path("stats.csv"), statsCsv(directions, plan.alpha));
    const alignment = alignmentSummary(effects);
    // From the effects tables, so a merged run finds what a single run finds.
    this.recordFindings("statistics", noOpFindings(effects));
    const repro =
      this.config.pairsFile !== null && effects.has("head")
        ? reproduction(effects.get("head") ?? [], data.card.name, plan, {
            denoise: meanTargetPTrue(pairs, "denoise", evaluation),
            noise: meanTargetPTrue(pairs, "noise", evaluation),
          })
        : null;
    this.writeJson(`${STATE}/statistics.json`, { directions, reproduction: repro, alignment });
  }

  /** The head analysis under the other metrics and pair strategies (sensitivity.ts). */
  private async sensitivityStage(): Promise<void> {
    const { inputs, set } = await this.buildPairs();
    const heads = this.config.kinds.includes("head") ? this.effects("head") : null;
    const section = await sensitivitySection(await this.model(), inputs, this.config, this.plan(), {
      studyPairs: set.pairs,
      studyHeadLines: heads,
      predicted: this.readJson<EvaluationState>(`${STATE}/evaluation.json`).predicted,
      batchRows: (await this.planned()).rows,
      signal: this.options.signal,
      progress: this.options.progress,
    });
    this.writeJson(`${STATE}/sensitivity.json`, section);
  }

  private async robustnessStage(stage: "stability" | "baselines"): Promise<void> {
    const { inputs, set } = await this.buildPairs();
    const make = stage === "stability" ? stabilitySection : baselinesSection;
    // Under a memory budget: the planned model and rows, and the backward graphs' own rows.
    const { model, rows, gradientRows } = await this.planned();
    const masked = inputs.mask !== null;
    // Without a budget, a bound that depends only on the model's shape (results stay the same on
    // any machine) keeps a backward call on a long series from holding tens of GiB; where it does
    // not bind (short series) each method keeps its own rows, as before.
    const backwardRows = (): number | undefined => {
      if (gradientRows !== undefined) return gradientRows(masked, GRADIENT_ROWS_CAP);
      const fixed = fixedGradientRows(model.config, masked, GRADIENT_ROWS_CAP);
      return fixed < GRADIENT_ROWS_CAP ? fixed : undefined;
    };
    // Stability runs no backward graph: only the baselines pay for the training graph's cost.
    const sizes = { batchRows: rows, gradientRows: stage === "baselines" ? backwardRows() : undefined };
    this.writeJson(`${STATE}/${stage}.json`, await make(model, inputs, set.pairs, this.config, sizes));
  }

  private async resultsStage(): Promise<void> {
    const c = this.config;
    const data = this.readJson<DataState>(`${STATE}/data.json`);
    const evaluation = this.readJson<EvaluationState>(`${STATE}/evaluation.json`);
    const pairs = this.readJson<PairsState>(`${STATE}/pairs.json`);
    const stats = this.readJson<{
      directions: DirectionResults[];
      reproduction: ReproductionSection | null;
      alignment?: AlignmentSummary | null;
    }>(`${STATE}/statistics.json`);
    // Findings of the stages that ran here (a merged run's sweeps ran in the shards: none).
    const findings = stageNames(c, null)
      .filter((stage) => existsSync(this.path(findingsFile(stage))))
      .flatMap((stage) => this.readJson<StudyFinding[]>(findingsFile(stage)));
    const model = await this.model();
    const cfg = model.config;
    const origin: ModelCard["origin"] =
      c.model === "train" ? "trained" : /\.(pth|pt)$/i.test(c.model) ? "pth" : "directory";
    const pre = model.preprocess;
    const card: DataCard = {
      ...data.card,
      lengths: { ...data.card.lengths, model: cfg.seqLen },
      normalisation: describeNormalisation(pre?.normalize.method, origin),
    };
    const results: StudyResults = {
      schema: RESULTS_SCHEMA_NAME,
      schema_version: RESULTS_SCHEMA_VERSION,
      manifest: {
        tspatch_version: version,
        onnxruntime_version: onnxruntimeVersion(),
        node_version: process.version,
        threads: model.runtime.threads,
        model_sha256: sha256(this.path("model", "weights.safetensors")),
        data_sha256: data.sha256,
        seeds: { ...c.seeds },
        config: JSON.parse(configText(c)) as Record<string, unknown>,
      },
      plan: this.plan(),
      data: card,
      model: {
        origin,
        architecture: {
          layers: cfg.layers,
          heads: cfg.heads,
          d_model: cfg.dModel,
          d_ff: cfg.ff,
          seq_len: cfg.seqLen,
          channels: cfg.channels,
          classes: cfg.classes,
        },
        accuracy: evaluation.accuracy,
        n_evaluated: evaluation.n,
        n_misclassified: evaluation.misclassified,
        confusion: evaluation.confusion,
        predictions_file: "predictions.csv",
      },
      pairs: {
        ...pairsSummary(pairs),
        ...(stats.alignment === undefined || stats.alignment === null ? {} : { alignment: stats.alignment }),
      },
      directions: stats.directions,
      ...(c.sensitivity
        ? { sensitivity: this.readJson<SensitivitySection>(`${STATE}/sensitivity.json`) }
        : {}),
      ...(c.stability ? { stability: this.readJson<StabilitySection>(`${STATE}/stability.json`) } : {}),
      ...(c.baselines ? { baselines: this.readJson<BaselinesSection>(`${STATE}/baselines.json`) } : {}),
      diagnostics: { findings },
      ...(stats.reproduction === null ? {} : { reproduction: stats.reproduction }),
    };
    writeFileAtomic(this.path("results.json"), resultsJson(results));
  }

  readResults(): StudyResults {
    const file = this.path("results.json");
    return parseResults(readFileSync(file, "utf8"), file);
  }
}

/** Where a stage's diagnostic findings are kept until the results stage collects them. */
function findingsFile(stage: string): string {
  return `${STATE}/findings-${stage.replace(":", "-")}.json`;
}

function familyText(kind: string, dataset: string, direction: StudyDirection): string {
  const what =
    kind === "head"
      ? "heads"
      : kind === "layer"
        ? "attention layers"
        : kind === "mlp"
          ? "MLPs"
          : "head × time-step cells";
  return `the ${what} of ${dataset}, ${direction === "pooled" ? "directions pooled (compatibility)" : `${direction} direction`}`;
}

/** Mean unpatched P(true) of a direction's target inputs (rows of the analysed split only). */
function meanTargetPTrue(
  pairs: readonly Pair[],
  direction: string,
  evaluation: EvaluationState,
): number | null {
  const values = pairs
    .filter((p) => direction === "pooled" || p.direction === direction)
    .map((p) => evaluation.pTrue[p.target])
    .filter((v): v is number => typeof v === "number");
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

function pairsSummary(state: PairsState): PairsSummary {
  const byDirection = (["denoise", "noise"] as const)
    .map((direction) => {
      const ps = state.pairs.filter((p) => p.direction === direction);
      if (ps.length === 0) return null;
      const count = (key: (p: Pair) => number) => {
        const m = new Map<number, number>();
        for (const p of ps) m.set(key(p), (m.get(key(p)) ?? 0) + 1);
        return m;
      };
      const sources = count((p) => p.source);
      const targets = count((p) => p.target);
      const maxS = Math.max(...sources.values());
      const maxT = Math.max(...targets.values());
      return {
        direction,
        n_pairs: ps.length,
        distinct_sources: sources.size,
        distinct_targets: targets.size,
        effective_n: direction === "noise" ? sources.size : targets.size,
        repeats: maxS > 1 || maxT > 1,
        max_pairs_per_source: maxS,
        max_pairs_per_target: maxT,
      };
    })
    .filter((d) => d !== null);
  return { strategy: state.strategy, counts: state.counts, by_direction: byDirection };
}

function describeNormalisation(normalize: string | undefined, origin: ModelCard["origin"]): string {
  if (origin === "pth") return "none (raw inputs, as the reference checkpoints were trained)";
  if (normalize === undefined || normalize === "none") return "none";
  return `${normalize} per channel, fitted on TRAIN, inside the model graph`;
}

function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let k = 0; k < logits.length; k++) max = Math.max(max, logits[k]);
  const p = new Float64Array(logits.length);
  let s = 0;
  for (let k = 0; k < logits.length; k++) {
    p[k] = Math.exp(logits[k] - max);
    s += p[k];
  }
  for (let k = 0; k < p.length; k++) p[k] /= s;
  return p;
}

function csvCell(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function basenameOf(path: string): string {
  return resolve(path).split(/[\\/]/).pop() ?? path;
}

/** A class index's label, or undefined without a label map (unlabelled data and model). */
function labelOf(labelMap: LabelMap | null, index: number): string | undefined {
  return labelMap === null ? undefined : indexToLabel(labelMap, index);
}
