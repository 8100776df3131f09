import { describe, expect, it } from "vitest";
import { InputError } from "../../src/errors.js";
import {
  parseResults,
  RESULTS_SCHEMA_NAME,
  RESULTS_SCHEMA_VERSION,
  resultsJson,
  type StudyResults,
  validateResults,
} from "../../src/study/results-schema.js";
import { quickStudyResults } from "../report/fixture.js";

/** A minimal valid document (two heads, one direction); shape only, no claim about any model. */
function minimal(): StudyResults {
  const interval = { low: 0.1, high: 0.3, level: 0.95, method: "BCa bootstrap, 100 resamples" };
  const head = (h: number) => ({
    name: `L0H${h}`,
    kind: "head" as const,
    layer: 0,
    head: h,
    n: 5,
    mean: 0.2,
    sd: 0.1,
    ci: interval,
    cluster_ci: null,
    t: 4.47,
    df: 4,
    p_t: 0.011,
    p_wilcoxon: 0.0625,
    pseudo_median: 0.2,
    p_sign_flip: 0.0625,
    p: 0.011,
    p_adj: 0.011,
    d_z: 2,
    d_z_ci: { low: 0.4, high: 3.5, level: 0.95, method: "noncentral t" },
    g_z: 1.6,
    significant_naive: true,
    significant_corrected: true,
    significance: "significant" as const,
    notes: [],
  });
  return {
    schema: RESULTS_SCHEMA_NAME,
    schema_version: RESULTS_SCHEMA_VERSION,
    manifest: {
      tspatch_version: "0.1.0",
      onnxruntime_version: "1.30.0",
      node_version: "v20.0.0",
      threads: 2,
      model_sha256: "a".repeat(64),
      data_sha256: { "x.ts": "b".repeat(64) },
      seeds: { pairs: 0 },
      config: {},
    },
    plan: {
      metric: "dp_true",
      test: "t",
      correction: "bh",
      alpha: 0.05,
      family: "the 2 heads of one dataset and one direction",
      family_scope: "per-direction",
      directions: ["denoise"],
      unit: { denoise: "target input" },
      unit_aggregation: "mean",
      alternative: "two-sided",
      bootstrap_resamples: 100,
      permutation_resamples: 100,
      sesoi: null,
      head_mode: "z",
      compatibility: { pairs_file: null, head_slice: false, pool_directions: false, family_pooled: false },
    },
    data: {
      name: "X",
      splits: { train: 10, test: 10 },
      analysis_split: "test",
      classes: ["a", "b"],
      class_counts: [5, 5],
      channels: 1,
      lengths: { min: 3, max: 3, model: 3 },
      normalisation: "none",
    },
    model: {
      origin: "trained",
      architecture: { layers: 1, heads: 2, d_model: 4, d_ff: 8, seq_len: 3, channels: 1, classes: 2 },
      accuracy: 0.5,
      n_evaluated: 10,
      n_misclassified: 5,
      confusion: [
        [3, 2],
        [3, 2],
      ],
      predictions_file: "predictions.csv",
    },
    pairs: {
      strategy: "misclassified",
      counts: {},
      by_direction: [
        {
          direction: "denoise",
          n_pairs: 5,
          distinct_sources: 5,
          distinct_targets: 5,
          effective_n: 5,
          repeats: false,
          max_pairs_per_source: 1,
          max_pairs_per_target: 1,
        },
      ],
    },
    directions: [
      {
        direction: "denoise",
        n_units: 5,
        baseline_p_true: 0.3,
        kinds: [
          {
            kind: "head",
            family: "2 heads",
            counts: { total: 2, naive: 2, corrected: 2 },
            top: ["L0H0", "L0H1"],
            components: [head(0), head(1)],
          },
        ],
      },
    ],
  };
}

describe("results schema", () => {
  it("accepts a valid document and round-trips it through its canonical text", () => {
    const text = resultsJson(minimal());
    expect(parseResults(text, "r.json")).toEqual(minimal());
    expect(text.endsWith("}\n")).toBe(true);
  });

  it("names the failing field as a JSON path", () => {
    const bad = minimal() as unknown as { directions: { kinds: { components: { p_adj: unknown }[] }[] }[] };
    bad.directions[0].kinds[0].components[1].p_adj = 1.5;
    expect(() => validateResults(bad, "r.json")).toThrow(InputError);
    expect(() => validateResults(bad, "r.json")).toThrow(
      "$.directions[0].kinds[0].components[1].p_adj: expected a number in [0, 1]",
    );
  });

  it("refuses missing fields, unknown fields, NaN and other schema versions", () => {
    const missing = minimal() as Partial<StudyResults>;
    delete missing.pairs;
    expect(() => validateResults(missing)).toThrow("$.pairs: expected a value (the field is missing)");
    expect(() => validateResults({ ...minimal(), extra: 1 })).toThrow("$.extra: expected no such field");
    const nan = minimal();
    nan.directions[0].kinds[0].components[0].mean = Number.NaN;
    expect(() => resultsJson(nan)).toThrow("components[0].mean: expected a finite number");
    expect(() => validateResults({ ...minimal(), schema_version: 99 })).toThrow(
      /schema_version[\s\S]*fix: this tspatch reads results schema version 1/,
    );
    expect(() => parseResults("{", "r.json")).toThrow(/r\.json: not JSON/);
  });

  it("accepts a well-formed sensitivity section and names the field of a bad one", () => {
    const ci = { low: 0.2, high: 0.9, level: 0.95, method: "percentile bootstrap" };
    const variant = {
      name: "misclassified · dp_true",
      direction: "denoise",
      strategy: "misclassified",
      metric: "dp_true",
      plan: true,
      pairs: 10,
      units: 5,
      sesoi: 0.01,
      message: null,
      counts: { total: 24, significant: 3, important: 2, negligible: 1, inconclusive: 21 },
      top: ["L0H1"],
    } as const;
    const doc = {
      ...minimal(),
      sensitivity: {
        method: "other metrics and strategies",
        plan_variant: "misclassified · dp_true",
        metrics: ["dp_true", "kl"],
        strategies: ["misclassified", "noised"],
        variants: [
          variant,
          {
            ...variant,
            name: "noised · dp_true",
            strategy: "noised",
            plan: false,
            pairs: 0,
            units: 0,
            message: "no pairs",
            counts: null,
            top: [],
          },
        ],
        agreement: [
          {
            direction: "denoise",
            a: "misclassified · dp_true",
            b: "misclassified · kl",
            components: 24,
            rho: { estimate: 0.5, ci },
            resampling: "joint",
          },
        ],
        notes: [],
      },
    } as unknown as StudyResults;
    expect(validateResults(doc).sensitivity?.variants).toHaveLength(2);
    const bad = structuredClone(doc);
    bad.sensitivity!.variants[0].counts!.important = 0.5;
    expect(() => validateResults(bad)).toThrow(
      "$.sensitivity.variants[0].counts.important: expected a non-negative integer",
    );
    const strategy = structuredClone(doc) as unknown as { sensitivity: { strategies: string[] } };
    strategy.sensitivity.strategies[0] = "file";
    expect(() => validateResults(strategy)).toThrow("$.sensitivity.strategies[0]");
  });

  it("checks the typed stability and baselines sections field by field", () => {
    const real = quickStudyResults();
    expect(real.stability?.perturbations.length).toBeGreaterThan(0);
    expect(real.baselines?.agreement.length).toBeGreaterThan(0);
    const broken = structuredClone(real);
    broken.stability!.perturbations[0].directions[0].agreement!.spearman.ci.level = 2;
    expect(() => validateResults(broken)).toThrow(
      "$.stability.perturbations[0].directions[0].agreement.spearman.ci.level: expected a number in [0, 1]",
    );
    const nan = structuredClone(real);
    nan.baselines!.random_null!.histograms[0].null_means[1] = Number.NaN;
    expect(() => validateResults(nan)).toThrow(
      "$.baselines.random_null.histograms[0].null_means[1]: expected a finite number",
    );
    const extra = structuredClone(real) as unknown as { baselines: Record<string, unknown> };
    extra.baselines.seconds = 1;
    expect(() => validateResults(extra)).toThrow("$.baselines.seconds: expected no such field");
  });
});

describe("results schema: diagnostics, status counts and alignment", () => {
  const finding = {
    stage: "pairs",
    code: "saturation",
    severity: "warning" as const,
    message: "m",
    detail: { n: 1 },
  };
  const alignment = {
    align: "overlap",
    pairs: 5,
    overlap: { min: 0.5, q1: 0.75, median: 1, q3: 1, max: 1 },
    partial_pairs: 2,
    no_overlap_pairs: 0,
    not_applicable_rows: { head: 0 },
  };
  const withAll = (): StudyResults => {
    const doc = minimal();
    doc.diagnostics = { findings: [finding] };
    doc.pairs.alignment = structuredClone(alignment);
    doc.directions[0].kinds[0].counts.status = { important: 2, negligible: 0, inconclusive: 0 };
    return doc;
  };

  it("round-trips the typed sections", () => {
    expect(parseResults(resultsJson(withAll()), "r.json")).toEqual(withAll());
  });

  it("refuses a bad severity, an overlap above 1 and a status count that is not an integer", () => {
    const severity = withAll() as unknown as { diagnostics: { findings: { severity: string }[] } };
    severity.diagnostics.findings[0].severity = "fatal";
    expect(() => validateResults(severity)).toThrow("$.diagnostics.findings[0].severity: expected one of");
    const overlap = withAll();
    overlap.pairs.alignment!.overlap!.max = 1.5;
    expect(() => validateResults(overlap)).toThrow(
      "$.pairs.alignment.overlap.max: expected a number in [0, 1]",
    );
    const status = withAll();
    status.directions[0].kinds[0].counts.status!.negligible = 0.5;
    expect(() => validateResults(status)).toThrow("$.directions[0].kinds[0].counts.status.negligible");
  });
});
