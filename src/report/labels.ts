import type { StudyCorrection, StudyMetric, StudyTest } from "../study/results-schema.js";

/** Words for the plan's codes, as the report, tables and figures show them. */

export const METRIC_LABELS: Record<StudyMetric, { name: string; unit: string }> = {
  dp_true: { name: "ΔP(true)", unit: "probability" },
  logit_diff: { name: "logit difference", unit: "logits" },
  recovery: { name: "normalised recovery", unit: "fraction of the source–target gap" },
  kl: { name: "KL divergence to the source", unit: "nats" },
};

export const TEST_LABELS: Record<StudyTest, string> = {
  t: "one-sample t test",
  wilcoxon: "Wilcoxon signed-rank test",
  "sign-flip": "sign-flip permutation test",
};

export const CORRECTION_LABELS: Record<StudyCorrection, { name: string; short: string; controls: string }> = {
  bh: { name: "Benjamini–Hochberg", short: "BH", controls: "false discovery rate" },
  by: { name: "Benjamini–Yekutieli", short: "BY", controls: "false discovery rate under any dependence" },
  holm: { name: "Holm", short: "Holm", controls: "family-wise error rate" },
  bonferroni: { name: "Bonferroni", short: "Bonferroni", controls: "family-wise error rate" },
};

/** "mean ΔP(true) (probability)": the metric as an axis or legend title, with its unit. */
export function effectLabel(metric: StudyMetric): string {
  const m = METRIC_LABELS[metric];
  return `mean ${m.name} (${m.unit})`;
}

/** "95%" for a level of 0.95. */
export function percent(level: number): string {
  return `${Number((level * 100).toFixed(2))}%`;
}
