/**
 * A study's configuration: everything needed to re-run it (written as config.json), with the
 * analysis plan's defaults (DESIGN.md "Statistics, stated once") and the `--quick` scale.
 */

import type { TSTConfig } from "../model/config.js";
import type { StudyComponentKind, StudyCorrection, StudyMetric, StudyTest } from "./results-schema.js";

export interface StudyConfig {
  /** Dataset name or TRAIN/TEST file path. */
  dataset: string;
  /** Split analysed (evaluated, paired and patched). */
  split: "test" | "train";
  /** `train` (fresh model), a model directory, or a `.pth` checkpoint (absolute path). */
  model: string;
  strategy: "misclassified" | "cross-class" | "noised";
  direction: "denoise" | "noise" | "both";
  metric: StudyMetric;
  test: StudyTest;
  correction: StudyCorrection;
  alpha: number;
  headMode: "z" | "slice";
  /** Component kinds swept, in order. */
  kinds: StudyComponentKind[];
  /** Sources drawn per target. */
  maxSourcesPerTarget: number;
  /** Units per direction the head × time-step sweep runs on (null = all; position-units.ts). */
  maxPositionUnits: number | null;
  /** Targets per class (null = all). */
  maxTargetsPerClass: number | null;
  /** Seeds by purpose. */
  seeds: { train: number; pairs: number; stats: number };
  /** Training settings when `model` is `train`. */
  training: {
    epochs: number;
    patience: number;
    batchSize: number;
    /** Architecture of the trained model where it differs from the study's TST (absent: the TST). */
    architecture?: Partial<Omit<TSTConfig, "channels" | "seqLen" | "classes">>;
  };
  bootstrapResamples: number;
  /** Compatibility switches with the published study. */
  pairsFile: string | null;
  poolDirections: boolean;
  familyPooled: boolean;
  /** Smallest effect size of interest in the metric's units; null = the metric's default (stats' DEFAULT_SESOI). */
  sesoi: number | null;
  /** noised strategy: SNR in dB. */
  snrDb: number;
  quick: boolean;
  /** Optional stages: sensitivity to the metric and pair strategy, stability of the head ranking, baselines against exact patching. */
  sensitivity: boolean;
  stability: boolean;
  baselines: boolean;
}

/** The plan's defaults: ΔP(true), one-sample t, BH, both directions separately, true heads. */
export function defaultStudyConfig(): StudyConfig {
  return {
    dataset: "JapaneseVowels",
    split: "test",
    model: "train",
    strategy: "misclassified",
    direction: "both",
    metric: "dp_true",
    test: "t",
    correction: "bh",
    alpha: 0.05,
    headMode: "z",
    kinds: ["head", "layer", "mlp", "head_position"],
    maxSourcesPerTarget: 5,
    // The head × time-step sweep costs 24 × steps patched runs per pair: above 100 units it runs
    // on a stratified subsample (LSST: 727 units per direction would take most of the study).
    maxPositionUnits: 100,
    maxTargetsPerClass: null,
    seeds: { train: 0, pairs: 0, stats: 0 },
    training: { epochs: 100, patience: 20, batchSize: 32 },
    bootstrapResamples: 10000,
    pairsFile: null,
    poolDirections: false,
    familyPooled: false,
    sesoi: null,
    snrDb: 10,
    quick: false,
    // On by default: on the default JapaneseVowels study it adds about a tenth of the wall time.
    sensitivity: true,
    stability: false,
    baselines: false,
  };
}

/** `--quick`: the same pipeline at a size the tests can afford (seconds, not minutes). */
export function quickScale(config: StudyConfig): StudyConfig {
  return {
    ...config,
    training: { epochs: 3, patience: 3, batchSize: 32 },
    maxSourcesPerTarget: 2,
    maxTargetsPerClass: config.maxTargetsPerClass ?? 1,
    bootstrapResamples: 200,
    quick: true,
    // Off under --quick (opt in with --sensitivity): at this size its two added sweeps cost about a quarter of the run.
    sensitivity: false,
  };
}

/** The metric's column in the effects CSV. */
export const METRIC_COLUMNS: Record<StudyMetric, string> = {
  dp_true: "dp_true",
  logit_diff: "d_logit_diff",
  recovery: "recovery",
  kl: "kl_source",
};

/** The effects CSV file of each component kind, and the sweep preset it runs. */
export const KIND_FILES: Record<
  StudyComponentKind,
  { file: string; preset: "heads" | "layers" | "mlp" | "head-pos" }
> = {
  head: { file: "effects/heads.csv", preset: "heads" },
  layer: { file: "effects/layers.csv", preset: "layers" },
  mlp: { file: "effects/mlps.csv", preset: "mlp" },
  head_position: { file: "effects/head_positions.csv", preset: "head-pos" },
};
