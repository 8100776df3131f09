/**
 * The schema of a study's `results.json` (DESIGN.md "Outputs of a study"): the single source for
 * every table, figure and the report. Versioned: a reader refuses a file whose `schema_version`
 * it does not know. Validated when written and when read ({@link validateResults}); a failure
 * names the JSON path of the offending field.
 *
 * Conventions:
 * - A number that is undefined (a p-value of a constant column, a CI of n = 2) is `null`, never
 *   NaN (JSON has no NaN); the component's `notes` say why.
 * - Nothing here depends on the clock: wall times and dates live in `timings.json`, so the same
 *   seed and config give a byte-identical file.
 * - Optional sections (`sensitivity`, `diagnostics`, `stability`, `baselines`, `reproduction`)
 *   are absent when their stage did not run; they are never filled with placeholder numbers.
 */

import { inputError } from "../errors.js";

/** The version of this schema; bumped on any change a reader must know about. */
export const RESULTS_SCHEMA_VERSION = 1;

/** The `schema` tag every results.json carries. */
export const RESULTS_SCHEMA_NAME = "tspatch.study.results";

/** The component kinds a study sweeps, in sweep order. */
export const COMPONENT_KINDS = ["head", "layer", "mlp", "head_position"] as const;
export type StudyComponentKind = (typeof COMPONENT_KINDS)[number];

/** The directions a study analyses; `pooled` only under the `--pool-directions` compatibility switch. */
export const STUDY_DIRECTIONS = ["denoise", "noise", "pooled"] as const;
export type StudyDirection = (typeof STUDY_DIRECTIONS)[number];

export const STUDY_METRICS = ["dp_true", "logit_diff", "recovery", "kl"] as const;
export type StudyMetric = (typeof STUDY_METRICS)[number];

export const STUDY_TESTS = ["t", "wilcoxon", "sign-flip"] as const;
export type StudyTest = (typeof STUDY_TESTS)[number];

export const STUDY_CORRECTIONS = ["bh", "by", "holm", "bonferroni"] as const;
export type StudyCorrection = (typeof STUDY_CORRECTIONS)[number];

/** A component's verdict once the equivalence test exists; until then only `significance` is set. */
export const COMPONENT_STATUSES = ["important", "negligible", "inconclusive"] as const;
export type ComponentStatus = (typeof COMPONENT_STATUSES)[number];

/** The whole file. */
export interface StudyResults {
  /** Always {@link RESULTS_SCHEMA_NAME}. */
  schema: typeof RESULTS_SCHEMA_NAME;
  /** Always {@link RESULTS_SCHEMA_VERSION}. */
  schema_version: number;
  /** What ran, on what, with which settings (no clock values). */
  manifest: RunManifest;
  /** The analysis plan, fixed before any effect was computed. */
  plan: AnalysisPlan;
  /** The dataset as the study saw it. */
  data: DataCard;
  /** The model and how well it classifies the evaluation split. */
  model: ModelCard;
  /** The pairs patched, per direction. */
  pairs: PairsSummary;
  /** One entry per analysed direction (denoise, noise; or pooled under the compatibility switch). */
  directions: DirectionResults[];
  /** Other analysis choices as a sensitivity analysis (never a re-run that replaces the plan). */
  sensitivity?: SensitivitySection;
  /** Pre-flight diagnostics: what about the model, data or pairs changes how the numbers may be read. */
  diagnostics?: DiagnosticsSection;
  /** Stability of the head ranking under input perturbations, seeds and resampling. */
  stability?: StabilitySection;
  /** Comparison with baseline attribution methods and the random-patching null. */
  baselines?: BaselinesSection;
  /** The published study's table re-computed with its compatibility switches, beside ours. */
  reproduction?: ReproductionSection;
}

/** What ran; enough to re-run it and to tell two runs apart. */
export interface RunManifest {
  /** tspatch package version. */
  tspatch_version: string;
  /** onnxruntime-node version that computed every activation. */
  onnxruntime_version: string;
  /** Node.js version. */
  node_version: string;
  /** Intra-op threads the runtime used (results do not depend on it beyond float rounding). */
  threads: number;
  /** SHA-256 (hex) of the model weights file the patching used (weights.safetensors or the .pth). */
  model_sha256: string;
  /** SHA-256 (hex) of each data file read, by file name. */
  data_sha256: Record<string, string>;
  /** Every seed used, by purpose (training, pairs, bootstrap, permutation). */
  seeds: Record<string, number>;
  /** The full study configuration (the same object as config.json). */
  config: Record<string, unknown>;
}

/** The analysis plan (DESIGN.md "Statistics, stated once"). */
export interface AnalysisPlan {
  /** Effect metric analysed: ΔP(true), logit difference, normalised recovery or KL to source. */
  metric: StudyMetric;
  /** Test whose p-values are corrected and decide significance. */
  test: StudyTest;
  /** Multiple-testing correction across the family. */
  correction: StudyCorrection;
  /** Significance level; CIs are at 1 − alpha. */
  alpha: number;
  /** What one family of hypotheses is, in words (e.g. "the 24 heads of one dataset and one direction"). */
  family: string;
  /** `per-direction` (default) or `pooled` (compatibility: both directions in one family). */
  family_scope: "per-direction" | "pooled";
  /** Directions analysed, each separately unless `compatibility.pool_directions`. */
  directions: StudyDirection[];
  /** The unit of analysis per direction, in words. */
  unit: Record<string, string>;
  /** How effects of one unit's several pairs are combined (`mean` = averaged before testing). */
  unit_aggregation: "mean" | "none";
  /** Alternative hypothesis of every test. */
  alternative: "two-sided";
  /** Bootstrap resamples for the BCa and cluster CIs. */
  bootstrap_resamples: number;
  /** Monte Carlo sign-flip resamples (exact enumeration when n is small). */
  permutation_resamples: number;
  /** Smallest effect size of interest (metric units) of the equivalence tests deciding `status`; null in results written before them. */
  sesoi: number | null;
  /** How a "head" is patched: `z` (true head) or `slice` (the published study's). */
  head_mode: "z" | "slice";
  /** Compatibility switches with the published study; all false in a proper analysis. */
  compatibility: CompatibilitySwitches;
  /** The units the head × time-step map is computed on; absent when that kind was not swept. */
  head_position_units?: PositionUnitsPlan;
}

/** `--max-position-units`: the head × time-step sweep's subsample of units (study/position-units.ts). */
export interface PositionUnitsPlan {
  /** Units per direction at most; null = every unit (`all`). */
  max: number | null;
  /** The seed the subsample was drawn with (the pairs seed). */
  seed: number;
  /** How the units were chosen, in words. */
  method: string;
  /** Per direction: units in the map, units in the direction, and the chosen units (ascending). */
  by_direction: Record<string, { sampled: number; of: number; units: number[] }>;
}

/** Switches that reproduce the published study's (flawed) choices; labelled as such in every output. */
export interface CompatibilitySwitches {
  /** Pairs read from the study's pairs file instead of a strategy. */
  pairs_file: string | null;
  /** Heads patched as slices of the attention output (after W_O). */
  head_slice: boolean;
  /** Denoise and noise effects analysed together. */
  pool_directions: boolean;
  /** One family across both directions. */
  family_pooled: boolean;
}

/** The dataset as the study saw it. */
export interface DataCard {
  /** Dataset name (e.g. JapaneseVowels). */
  name: string;
  /** Split sizes (rows) by split name. */
  splits: Record<string, number>;
  /** The split the model was evaluated and patched on. */
  analysis_split: string;
  /** Class labels in class-index order. */
  classes: string[];
  /** Rows per class of the analysis split, in class-index order. */
  class_counts: number[];
  /** Channels per time step. */
  channels: number;
  /** Series lengths of the analysis split, and the model's (padded) length. */
  lengths: { min: number; max: number; model: number };
  /** Normalisation applied before the model, in words. */
  normalisation: string;
}

/** The model and its evaluation. */
export interface ModelCard {
  /** Where the model came from. */
  origin: "trained" | "directory" | "pth";
  /** Architecture: layers, heads, d_model, d_ff, seq_len, channels, classes. */
  architecture: {
    layers: number;
    heads: number;
    d_model: number;
    d_ff: number;
    seq_len: number;
    channels: number;
    classes: number;
  };
  /** Accuracy on the analysis split. */
  accuracy: number;
  /** Rows evaluated. */
  n_evaluated: number;
  /** Misclassified rows. */
  n_misclassified: number;
  /** Confusion matrix counts: rows = true class, columns = predicted class (class-index order). */
  confusion: number[][];
  /** File (in the run directory) holding the per-row predictions. */
  predictions_file: string;
}

/** Pairs per direction, and how dependent they are. */
export interface PairsSummary {
  /** Pair strategy (`file` under --pairs-file). */
  strategy: string;
  /** What the strategy saw (candidates per class etc.). */
  counts: Record<string, number>;
  /** One entry per patched direction. */
  by_direction: PairsDirectionSummary[];
  /** How inputs of different lengths were lined up, and how much of each pair overlapped. */
  alignment?: AlignmentSummary;
}

/** Length-aware patching of the study's pairs (see patching/align.ts). */
export interface AlignmentSummary {
  /** Alignment mode of every sweep (e.g. `overlap`). */
  align: string;
  /** Distinct pair-directions patched. */
  pairs: number;
  /** Share of the target's real steps patched per pair: min, quartiles, max (null without pairs). */
  overlap: { min: number; q1: number; median: number; q3: number; max: number } | null;
  /** Pairs with overlap below 1 (part of the target was not patched). */
  partial_pairs: number;
  /** Pairs with no shared real step (their whole-sequence effects are 0 and flagged). */
  no_overlap_pairs: number;
  /** Rows with no metrics (a position at a padding step), per component kind. */
  not_applicable_rows: Record<string, number>;
}

/** The pre-flight diagnostics, in the order the stages found them. */
export interface DiagnosticsSection {
  findings: StudyFinding[];
}

/** One diagnostic finding (diagnostics/finding.ts) and the stage that found it. */
export interface StudyFinding {
  stage: string;
  code: string;
  severity: "info" | "warning" | "error";
  message: string;
  /** The numbers behind the message. */
  detail: Record<string, unknown>;
}

export interface PairsDirectionSummary {
  /** denoise or noise. */
  direction: "denoise" | "noise";
  /** Pairs patched. */
  n_pairs: number;
  /** Distinct source inputs. */
  distinct_sources: number;
  /** Distinct target inputs. */
  distinct_targets: number;
  /** Independent units after aggregation (the n of every test). */
  effective_n: number;
  /** True when some source or target appears in more than one pair. */
  repeats: boolean;
  /** Largest number of pairs sharing one source / one target. */
  max_pairs_per_source: number;
  max_pairs_per_target: number;
}

/** One direction's results. */
export interface DirectionResults {
  direction: StudyDirection;
  /** Units (after aggregation) entering each test. */
  n_units: number;
  /** Mean baseline P(true) of the target runs (near 1 in the noise direction makes ΔP ≈ 0 small by construction). */
  baseline_p_true: number | null;
  /** One entry per swept component kind, in {@link COMPONENT_KINDS} order. */
  kinds: KindResults[];
}

/** All components of one kind in one direction: one family of hypotheses (head_position: its own family). */
export interface KindResults {
  kind: StudyComponentKind;
  /** The family the correction ran over, in words. */
  family: string;
  /** Hypotheses in the family, significant before and after correction. */
  counts: { total: number; naive: number; corrected: number; status?: StatusCounts };
  /** Names of the up to five largest effects by |mean|, largest first. */
  top: string[];
  /** Per-component statistics (head, layer, mlp); empty for head_position (see `map`). */
  components: ComponentStats[];
  /** head_position only: the timestep × head map. */
  map?: PositionMap;
}

/** Components per importance status (they sum to `total`). */
export type StatusCounts = Record<ComponentStatus, number>;

/** The full statistics of one component (DESIGN.md "Statistics, stated once"). */
export interface ComponentStats {
  /** Display name: L{layer}H{head}, L{layer} (attention), MLP{layer}. */
  name: string;
  kind: StudyComponentKind;
  layer: number;
  /** Head index (head kind), else null. */
  head: number | null;
  /** Units entering the tests. */
  n: number;
  /** Mean effect over units. */
  mean: number;
  /** Standard deviation (ddof 1). */
  sd: number | null;
  /** BCa bootstrap CI of the mean at 1 − alpha. */
  ci: Interval;
  /** Cluster-bootstrap CI of the mean (clusters = the other side of the pair); null when no input repeats. */
  cluster_ci: Interval | null;
  /** One-sample t statistic and its degrees of freedom. */
  t: number | null;
  df: number;
  /** Two-sided p of the one-sample t test. */
  p_t: number | null;
  /** Two-sided p of the Wilcoxon signed-rank test (a test of the pseudo-median, not the mean). */
  p_wilcoxon: number | null;
  /** Hodges–Lehmann pseudo-median, the quantity the Wilcoxon test is about. */
  pseudo_median: number | null;
  /** Two-sided p of the sign-flip permutation test of the mean. */
  p_sign_flip: number | null;
  /** p of the plan's test (one of the three above). */
  p: number | null;
  /** `p` adjusted by the plan's correction across the family. */
  p_adj: number | null;
  /** Cohen's d_z (mean / sd) with its noncentral-t CI. */
  d_z: number | null;
  d_z_ci: Interval;
  /** Hedges' g_z (small-sample corrected d_z). */
  g_z: number | null;
  /** p < alpha without correction. */
  significant_naive: boolean;
  /** p_adj < alpha. */
  significant_corrected: boolean;
  /** "significant" / "not significant" after correction (always set). */
  significance: "significant" | "not significant";
  /** important (corrected test rejects 0) / negligible (TOST within ±sesoi) / inconclusive. */
  status?: ComponentStatus;
  /** Anything the reader must know (constant column, normal approximation, ...). */
  notes: string[];
}

/** A confidence interval; ends are null when undefined. */
export interface Interval {
  low: number | null;
  high: number | null;
  /** Confidence level, e.g. 0.95. */
  level: number;
  /** How it was computed (e.g. "BCa bootstrap, 10000 resamples"). */
  method: string;
}

/** The timestep × head map from the head × position sweep. */
export interface PositionMap {
  /** Time steps (model positions). */
  positions: number;
  /** Test used per cell (the map is its own family, corrected with the plan's correction). */
  test: string;
  /** One cell per (layer, head, position), layer-major. */
  cells: PositionCell[];
}

export interface PositionCell {
  layer: number;
  head: number;
  position: number;
  /** Units with this position real (not padding) in the pair. */
  n: number;
  mean: number | null;
  sd: number | null;
  p: number | null;
  p_adj: number | null;
  significant_corrected: boolean;
}

/** An estimate with its confidence interval; null when undefined (e.g. a constant ranking). */
export interface Estimate {
  estimate: number | null;
  ci: Interval;
}

/** Rank agreement of a head ranking with the reference (exact, unperturbed) one. */
export interface AgreementStats {
  /** Units (after aggregation) entering the comparison. */
  units: number;
  spearman: Estimate;
  kendall: Estimate;
  /** k → Jaccard overlap of the top-k heads by mean effect. */
  top_k_jaccard: Record<string, number>;
}

/** The stability stage: the head ranking under input perturbations and unit resampling. */
export interface StabilitySection {
  method: string;
  /** Accuracy (labelled rows of the analysed split) without perturbation. */
  accuracy: number;
  /** Accuracy drop above which a perturbation is flagged (fraction). */
  max_accuracy_drop: number;
  heads: string[];
  perturbations: {
    kind: string;
    strength: number;
    label: string;
    accuracy: number;
    accuracy_drop: number;
    flagged: boolean;
    pairs_surviving: number;
    pairs_total: number;
    /** Why there is no ranking (no pair survived), else null. */
    message: string | null;
    directions: {
      direction: "denoise" | "noise";
      /** Null when fewer than two units survived. */
      agreement: AgreementStats | null;
      /** Share of the significant heads that stay significant; null when none was significant. */
      significant_retained: number | null;
    }[];
  }[];
  /** Per direction and head: the probability over unit resamples of being top-k / significant. */
  resampling: {
    direction: "denoise" | "noise";
    draws: number;
    top_k_probability: Record<string, number[]>;
    significant_probability: number[];
  }[];
  notes: string[];
}

/** The baselines stage: cheaper attributions against exact patching, and the random-patching null. */
export interface BaselinesSection {
  method: string;
  heads: string[];
  /** Each baseline's agreement with exact patching per direction (heads, per-unit means). */
  agreement: ({ baseline: string; direction: "denoise" | "noise" } & AgreementStats)[];
  /** Per direction and head: mean exact effect, AtP and IG estimates (for the scatter). */
  per_head: {
    direction: "denoise" | "noise";
    name: string;
    exact: number;
    atp: number;
    integrated_gradients: number;
  }[];
  /** AtP against exact patching per component kind. */
  atp_check: {
    kind: string;
    pooled_spearman: number | null;
    worst_absolute_error: { value: number; component: string; pair: number };
    flagged: {
      component: string;
      direction: "denoise" | "noise";
      exact: number;
      atp: number;
      reason: string;
    }[];
  }[];
  /** Integrated gradients' completeness check (Σ attributions vs metric difference). */
  integrated_gradients: {
    /** Most Gauss–Legendre nodes any (pair, layer) integral used (the method says how they adapted). */
    steps: number;
    worst_relative_error: number;
    worst_absolute_error: number;
    method: string;
  };
  /** Random-patching null per head; null when no draws were made. */
  random_null: {
    draws: number;
    method: string;
    heads: { name: string; observed: number; p: number }[];
    /** The null statistic of each draw (mean |effect| over pairs) for the heads with the largest observed effect. */
    histograms: { name: string; observed: number; null_means: number[] }[];
  } | null;
  notes: string[];
}

export const SENSITIVITY_STRATEGIES = ["misclassified", "cross-class", "noised"] as const;
export type SensitivityStrategy = (typeof SENSITIVITY_STRATEGIES)[number];

/** One analysis variant of the sensitivity stage: a pair strategy × a metric, in one direction. */
export interface SensitivityVariant {
  /** "<strategy> · <metric>". */
  name: string;
  direction: "denoise" | "noise";
  strategy: SensitivityStrategy;
  metric: StudyMetric;
  /** The plan's own analysis (its numbers are also in `directions`). */
  plan: boolean;
  pairs: number;
  units: number;
  /** The SESOI the status used (the plan's for its metric, else the metric's default). */
  sesoi: number;
  /** Why this variant has no analysis (e.g. the strategy found no pairs), else null. */
  message: string | null;
  /** Heads significant after the plan's correction and per status; null with a message. */
  counts: {
    total: number;
    significant: number;
    important: number;
    negligible: number;
    inconclusive: number;
  } | null;
  /** Up to five heads with the largest |mean|, largest first. */
  top: string[];
}

/** The sensitivity stage: the plan's head analysis under other metrics and pair strategies. */
export interface SensitivitySection {
  method: string;
  /** The name of the plan's variant. */
  plan_variant: string;
  metrics: StudyMetric[];
  strategies: SensitivityStrategy[];
  variants: SensitivityVariant[];
  /** Spearman ρ of the head rankings (by |mean|) of every two variants with a result, per direction. */
  agreement: {
    direction: "denoise" | "noise";
    a: string;
    b: string;
    /** Heads ranked by both. */
    components: number;
    rho: Estimate;
    /** joint: same pairs (units resampled together); independent: different pairs. */
    resampling: "joint" | "independent";
  }[];
  notes: string[];
}

/** The published study re-computed with its own choices (compatibility switches), beside ours. */
export interface ReproductionSection {
  /** Dataset reproduced. */
  dataset: string;
  /** The switches used, in words (labelled as compatibility). */
  switches: string[];
  /** Per head: mean ΔP, t, raw and BH-adjusted p, in L0H0 … order. */
  heads: {
    name: string;
    n: number;
    mean: number;
    t: number | null;
    p: number | null;
    p_adj: number | null;
    significant: boolean;
  }[];
  /** Heads significant (raw and BH) of the total. */
  counts: { total: number; raw: number; corrected: number };
  /** Pooled-sd Cohen's d of per-head mean denoise vs mean noise effects; null with one direction. */
  cohen_d_denoise_vs_noise: number | null;
  /** The published figures for this dataset, for comparison. */
  published: { significant: number; total: number; cohen_d: number | null };
  /** Each published claim: holds / fails / artefact, with the reason. */
  claims: { claim: string; verdict: "holds" | "fails" | "artefact"; reason: string }[];
}

// ---------------------------------------------------------------------------------------------
// Runtime validation: a small structural checker that names the failing JSON path.

type Check = (value: unknown, path: string) => void;

class SchemaError extends Error {
  constructor(
    readonly path: string,
    readonly expected: string,
  ) {
    super(`${path}: expected ${expected}`);
  }
}

const fail = (path: string, expected: string): never => {
  throw new SchemaError(path, expected);
};

const num: Check = (v, p) => {
  if (typeof v !== "number" || !Number.isFinite(v)) fail(p, "a finite number");
};
const int: Check = (v, p) => {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) fail(p, "a non-negative integer");
};
const prob: Check = (v, p) => {
  if (typeof v !== "number" || !(v >= 0 && v <= 1)) fail(p, "a number in [0, 1]");
};
const str: Check = (v, p) => {
  if (typeof v !== "string") fail(p, "a string");
};
const bool: Check = (v, p) => {
  if (typeof v !== "boolean") fail(p, "true or false");
};
const nullable =
  (check: Check): Check =>
  (v, p) => {
    if (v !== null) check(v, p);
  };
const oneOf =
  (values: readonly (string | number)[]): Check =>
  (v, p) => {
    if (!values.includes(v as string)) fail(p, `one of ${values.map((x) => JSON.stringify(x)).join(", ")}`);
  };
const array =
  (item: Check): Check =>
  (v, p) => {
    if (!Array.isArray(v)) fail(p, "an array");
    (v as unknown[]).forEach((x, i) => {
      item(x, `${p}[${i}]`);
    });
  };
const record =
  (item: Check): Check =>
  (v, p) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) fail(p, "an object");
    for (const [k, x] of Object.entries(v as object)) item(x, `${p}.${k}`);
  };
const anyObject: Check = record(() => {});
const hex64: Check = (v, p) => {
  if (typeof v !== "string" || !/^[0-9a-f]{64}$/.test(v)) fail(p, "a SHA-256 hex digest");
};
/** An object with exactly these keys (`?`-suffixed keys may be absent). */
const object =
  (fields: Record<string, Check>): Check =>
  (v, p) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) fail(p, "an object");
    const value = v as Record<string, unknown>;
    const known = new Set<string>();
    for (const [spec, check] of Object.entries(fields)) {
      const optional = spec.endsWith("?");
      const key = optional ? spec.slice(0, -1) : spec;
      known.add(key);
      if (!(key in value) || value[key] === undefined) {
        if (!optional) fail(`${p}.${key}`, "a value (the field is missing)");
        continue;
      }
      check(value[key], `${p}.${key}`);
    }
    for (const key of Object.keys(value)) {
      if (!known.has(key)) fail(`${p}.${key}`, "no such field (unknown to this schema version)");
    }
  };

const interval = object({ low: nullable(num), high: nullable(num), level: prob, method: str });
const estimate = object({ estimate: nullable(num), ci: interval });
const agreementFields = { units: int, spearman: estimate, kendall: estimate, top_k_jaccard: record(prob) };
const pairDirection = oneOf(["denoise", "noise"]);
const stabilitySection = object({
  method: str,
  accuracy: prob,
  max_accuracy_drop: prob,
  heads: array(str),
  perturbations: array(
    object({
      kind: str,
      strength: num,
      label: str,
      accuracy: prob,
      accuracy_drop: num,
      flagged: bool,
      pairs_surviving: int,
      pairs_total: int,
      message: nullable(str),
      directions: array(
        object({
          direction: pairDirection,
          agreement: nullable(object(agreementFields)),
          significant_retained: nullable(prob),
        }),
      ),
    }),
  ),
  resampling: array(
    object({
      direction: pairDirection,
      draws: int,
      top_k_probability: record(array(prob)),
      significant_probability: array(prob),
    }),
  ),
  notes: array(str),
});
const baselinesSection = object({
  method: str,
  heads: array(str),
  agreement: array(object({ baseline: str, direction: pairDirection, ...agreementFields })),
  per_head: array(
    object({ direction: pairDirection, name: str, exact: num, atp: num, integrated_gradients: num }),
  ),
  atp_check: array(
    object({
      kind: str,
      pooled_spearman: nullable(num),
      worst_absolute_error: object({ value: num, component: str, pair: int }),
      flagged: array(object({ component: str, direction: pairDirection, exact: num, atp: num, reason: str })),
    }),
  ),
  integrated_gradients: object({
    steps: int,
    worst_relative_error: num,
    worst_absolute_error: num,
    method: str,
  }),
  random_null: nullable(
    object({
      draws: int,
      method: str,
      heads: array(object({ name: str, observed: num, p: prob })),
      histograms: array(object({ name: str, observed: num, null_means: array(num) })),
    }),
  ),
  notes: array(str),
});

const sensitivitySection = object({
  method: str,
  plan_variant: str,
  metrics: array(oneOf(STUDY_METRICS)),
  strategies: array(oneOf(SENSITIVITY_STRATEGIES)),
  variants: array(
    object({
      name: str,
      direction: pairDirection,
      strategy: oneOf(SENSITIVITY_STRATEGIES),
      metric: oneOf(STUDY_METRICS),
      plan: bool,
      pairs: int,
      units: int,
      sesoi: num,
      message: nullable(str),
      counts: nullable(
        object({ total: int, significant: int, important: int, negligible: int, inconclusive: int }),
      ),
      top: array(str),
    }),
  ),
  agreement: array(
    object({
      direction: pairDirection,
      a: str,
      b: str,
      components: int,
      rho: estimate,
      resampling: oneOf(["joint", "independent"]),
    }),
  ),
  notes: array(str),
});

const componentStats = object({
  name: str,
  kind: oneOf(COMPONENT_KINDS),
  layer: int,
  head: nullable(int),
  n: int,
  mean: num,
  sd: nullable(num),
  ci: interval,
  cluster_ci: nullable(interval),
  t: nullable(num),
  df: num,
  p_t: nullable(prob),
  p_wilcoxon: nullable(prob),
  pseudo_median: nullable(num),
  p_sign_flip: nullable(prob),
  p: nullable(prob),
  p_adj: nullable(prob),
  d_z: nullable(num),
  d_z_ci: interval,
  g_z: nullable(num),
  significant_naive: bool,
  significant_corrected: bool,
  significance: oneOf(["significant", "not significant"]),
  "status?": oneOf(COMPONENT_STATUSES),
  notes: array(str),
});

const positionMap = object({
  positions: int,
  test: str,
  cells: array(
    object({
      layer: int,
      head: int,
      position: int,
      n: int,
      mean: nullable(num),
      sd: nullable(num),
      p: nullable(prob),
      p_adj: nullable(prob),
      significant_corrected: bool,
    }),
  ),
});

const counts = object({
  total: int,
  naive: int,
  corrected: int,
  "status?": object({ important: int, negligible: int, inconclusive: int }),
});

const resultsCheck = object({
  schema: oneOf([RESULTS_SCHEMA_NAME]),
  schema_version: oneOf([RESULTS_SCHEMA_VERSION]),
  manifest: object({
    tspatch_version: str,
    onnxruntime_version: str,
    node_version: str,
    threads: int,
    model_sha256: hex64,
    data_sha256: record(hex64),
    seeds: record(int),
    config: anyObject,
  }),
  plan: object({
    metric: oneOf(STUDY_METRICS),
    test: oneOf(STUDY_TESTS),
    correction: oneOf(STUDY_CORRECTIONS),
    alpha: prob,
    family: str,
    family_scope: oneOf(["per-direction", "pooled"]),
    directions: array(oneOf(STUDY_DIRECTIONS)),
    unit: record(str),
    unit_aggregation: oneOf(["mean", "none"]),
    alternative: oneOf(["two-sided"]),
    bootstrap_resamples: int,
    permutation_resamples: int,
    sesoi: nullable(num),
    head_mode: oneOf(["z", "slice"]),
    compatibility: object({
      pairs_file: nullable(str),
      head_slice: bool,
      pool_directions: bool,
      family_pooled: bool,
    }),
    "head_position_units?": object({
      max: nullable(int),
      seed: int,
      method: str,
      by_direction: record(object({ sampled: int, of: int, units: array(int) })),
    }),
  }),
  data: object({
    name: str,
    splits: record(int),
    analysis_split: str,
    classes: array(str),
    class_counts: array(int),
    channels: int,
    lengths: object({ min: int, max: int, model: int }),
    normalisation: str,
  }),
  model: object({
    origin: oneOf(["trained", "directory", "pth"]),
    architecture: object({
      layers: int,
      heads: int,
      d_model: int,
      d_ff: int,
      seq_len: int,
      channels: int,
      classes: int,
    }),
    accuracy: prob,
    n_evaluated: int,
    n_misclassified: int,
    confusion: array(array(int)),
    predictions_file: str,
  }),
  pairs: object({
    strategy: str,
    counts: record(num),
    by_direction: array(
      object({
        direction: oneOf(["denoise", "noise"]),
        n_pairs: int,
        distinct_sources: int,
        distinct_targets: int,
        effective_n: int,
        repeats: bool,
        max_pairs_per_source: int,
        max_pairs_per_target: int,
      }),
    ),
    "alignment?": object({
      align: str,
      pairs: int,
      overlap: nullable(object({ min: prob, q1: prob, median: prob, q3: prob, max: prob })),
      partial_pairs: int,
      no_overlap_pairs: int,
      not_applicable_rows: record(int),
    }),
  }),
  directions: array(
    object({
      direction: oneOf(STUDY_DIRECTIONS),
      n_units: int,
      baseline_p_true: nullable(prob),
      kinds: array(
        object({
          kind: oneOf(COMPONENT_KINDS),
          family: str,
          counts,
          top: array(str),
          components: array(componentStats),
          "map?": positionMap,
        }),
      ),
    }),
  ),
  "sensitivity?": sensitivitySection,
  "diagnostics?": object({
    findings: array(
      object({
        stage: str,
        code: str,
        severity: oneOf(["info", "warning", "error"]),
        message: str,
        detail: anyObject,
      }),
    ),
  }),
  "stability?": stabilitySection,
  "baselines?": baselinesSection,
  "reproduction?": object({
    dataset: str,
    switches: array(str),
    heads: array(
      object({
        name: str,
        n: int,
        mean: num,
        t: nullable(num),
        p: nullable(prob),
        p_adj: nullable(prob),
        significant: bool,
      }),
    ),
    counts: object({ total: int, raw: int, corrected: int }),
    cohen_d_denoise_vs_noise: nullable(num),
    published: object({ significant: int, total: int, cohen_d: nullable(num) }),
    claims: array(object({ claim: str, verdict: oneOf(["holds", "fails", "artefact"]), reason: str })),
  }),
});

/**
 * Check that `value` is a valid results object of this schema version; throws an InputError naming
 * the failing field (as a JSON path) and what was expected.
 *
 * @example
 * const results = validateResults(JSON.parse(readFileSync("runs/jv/results.json", "utf8")), "results.json");
 */
export function validateResults(value: unknown, file = "results.json"): StudyResults {
  try {
    resultsCheck(value, "$");
  } catch (error) {
    if (!(error instanceof SchemaError)) throw error;
    throw inputError(`invalid results: ${error.message}`, {
      file,
      field: error.path,
      hint:
        error.path === "$.schema_version"
          ? `this tspatch reads results schema version ${RESULTS_SCHEMA_VERSION}; re-run the study with this version`
          : "the file was not written by this version of tspatch study, or was edited; re-run the study",
    });
  }
  return value as StudyResults;
}

/**
 * The canonical text of results.json: validated, keys in the order written, 2-space indent,
 * trailing newline. Deterministic for the same object.
 *
 * @example
 * writeFileAtomic("runs/jv/results.json", resultsJson(results));
 */
export function resultsJson(results: StudyResults): string {
  validateResults(results, "results.json (being written)");
  return `${JSON.stringify(results, null, 2)}\n`;
}

/**
 * Parse and validate results.json text.
 *
 * @example
 * const results = parseResults(readFileSync("runs/jv/results.json", "utf8"), "runs/jv/results.json");
 */
export function parseResults(text: string, file: string): StudyResults {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw inputError(`not JSON: ${(error as Error).message}`, {
      file,
      hint: "results.json is written by `tspatch study`; re-run it",
    });
  }
  return validateResults(value, file);
}
