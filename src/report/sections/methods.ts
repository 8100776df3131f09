import type { StudyResults } from "../../study/results-schema.js";
import type { ReportFigure } from "../figures.js";
import { html, type SafeHtml } from "../html.js";
import { CORRECTION_LABELS, METRIC_LABELS, percent, TEST_LABELS } from "../labels.js";
import { tableToHtml } from "../table-format.js";
import { planTable } from "../tables.js";
import { figureHtml, findFigure } from "./figure-html.js";

/** The references the Methods cite, numbered as in the text. */
export const REFERENCES = [
  "B. Efron, “Better bootstrap confidence intervals”, Journal of the American Statistical Association 82(397), 171–185, 1987.",
  "Y. Benjamini, Y. Hochberg, “Controlling the false discovery rate: a practical and powerful approach to multiple testing”, Journal of the Royal Statistical Society B 57(1), 289–300, 1995.",
  "Y. Benjamini, D. Yekutieli, “The control of the false discovery rate in multiple testing under dependency”, Annals of Statistics 29(4), 1165–1188, 2001.",
  "S. Holm, “A simple sequentially rejective multiple test procedure”, Scandinavian Journal of Statistics 6(2), 65–70, 1979.",
  "J. Cohen, Statistical Power Analysis for the Behavioral Sciences, 2nd ed., Lawrence Erlbaum, 1988.",
  "D. Lakens, “Calculating and reporting effect sizes to facilitate cumulative science: a practical primer for t-tests and ANOVAs”, Frontiers in Psychology 4, 863, 2013.",
  "L. V. Hedges, “Distribution theory for Glass's estimator of effect size and related estimators”, Journal of Educational Statistics 6(2), 107–128, 1981.",
  "J. H. Steiger, R. T. Fouladi, “Noncentrality interval estimation and the evaluation of statistical models”, in What If There Were No Significance Tests?, Erlbaum, 1997.",
  "F. Wilcoxon, “Individual comparisons by ranking methods”, Biometrics Bulletin 1(6), 80–83, 1945.",
  "J. L. Hodges, E. L. Lehmann, “Estimates of location based on rank tests”, Annals of Mathematical Statistics 34(2), 598–611, 1963.",
  "B. Phipson, G. K. Smyth, “Permutation p-values should never be zero”, Statistical Applications in Genetics and Molecular Biology 9(1), 2010.",
  "A. C. Davison, D. V. Hinkley, Bootstrap Methods and their Application, Cambridge University Press, 1997.",
];

const cite = (...n: number[]) =>
  html`<sup class="cite">[${n.map((k, i) => html`${i > 0 ? ", " : ""}<a href="#ref-${k}">${k}</a>`)}]</sup>`;

/**
 * Methods: the plan (fixed before any effect was computed), the pipeline, what each number is and
 * where its definition comes from.
 *
 * @example
 * html`<main>${methodsSection(results, figures)}</main>`;
 */
export function methodsSection(results: StudyResults, figures: readonly ReportFigure[]): SafeHtml {
  const { plan } = results;
  const metric = METRIC_LABELS[plan.metric];
  const level = percent(1 - plan.alpha);
  const correction = CORRECTION_LABELS[plan.correction];
  const pipeline = findFigure(figures, "pipeline");
  return html`<section id="methods">
<h2>Methods</h2>
<h3>Analysis plan</h3>
<p>The plan below was fixed by the study's options before any effect was computed and is recorded in
results.json; nothing in the pipeline lets a test or correction be chosen after seeing the effects.
Each direction is analysed separately (denoise asks how much a component restores the right answer,
noise how much it breaks it; they answer different questions and are never pooled${plan.compatibility.pool_directions ? html` — <strong>except here, under the published study's compatibility switch</strong>` : ""}).</p>
${tableToHtml(planTable(results))}
${pipeline === undefined ? "" : figureHtml(pipeline)}
<h3>Patching and the effect metric</h3>
<p>For a pair (source, target) the target input is run with one component's activation replaced by
the source's, and the effect is the change in ${metric.name} (${metric.unit}) against the unpatched
target. A <em>head</em> is ${plan.head_mode === "z" ? html`the head's own output <code>blocks.l.attn.hook_z[:, :, h, :]</code> before the output projection W_O (a true per-head patch)` : html`the h-th d_model/H slice of the attention output <code>hook_attn_out</code> after W_O (the published study's “slice” mode, kept for compatibility: a slice mixes all heads)`}.
Units of analysis: ${Object.entries(plan.unit).map(([d, u], i) => html`${i > 0 ? "; " : ""}in the ${d} direction, ${u}`)}${plan.unit_aggregation === "mean" ? " (a unit's several pairs are averaged before testing)" : ""}.</p>
<h3>Statistics</h3>
<dl class="definitions">
<dt>Mean effect and its ${level} CI</dt>
<dd>The mean over units, with a bias-corrected and accelerated (BCa) bootstrap interval${cite(1)}
from ${plan.bootstrap_resamples} resamples (seeded). When an input appears in more than one pair, a
cluster bootstrap CI (resampling whole clusters of pairs that share an input${cite(12)}) is given beside it.</dd>
<dt>One-sample t test</dt>
<dd>t = mean / (sd/√n) with n − 1 degrees of freedom, two-sided, testing mean effect = 0.</dd>
<dt>Wilcoxon signed-rank test</dt>
<dd>Zero effects dropped, the rest ranked by |effect| and signed${cite(9)}; exact null distribution
when n ≤ 50 with no ties or zeros, else the normal approximation with the tie correction. It tests
whether the <em>pseudo-median</em> (the Hodges–Lehmann estimate, the median of the Walsh
averages${cite(10)}) is 0 — not the mean; the two can differ in sign for skewed effects.</dd>
<dt>Sign-flip permutation test</dt>
<dd>Under H0 the effects are symmetric about 0, so each unit's sign is equally likely to be flipped;
the statistic is the mean. Exact for n ≤ 20 (all 2^n sign vectors), else ${plan.permutation_resamples}
random sign vectors with p = (b + 1)/(B + 1)${cite(11)}; the two-sided p is twice the smaller
one-sided p, capped at 1.</dd>
<dt>Cohen's d_z and Hedges' g_z</dt>
<dd>d_z = mean / sd of the per-unit effects${cite(5, 6)} (a standardised mean, the t statistic divided by √n),
with a CI from the noncentral t distribution${cite(8)}; g_z = d_z × J(n − 1), the small-sample correction
J(df) = Γ(df/2) / (√(df/2) Γ((df − 1)/2))${cite(7)}.</dd>
<dt>Multiple testing</dt>
<dd>The ${TEST_LABELS[plan.test]}'s p-values are adjusted across one family (${plan.family}) with
${correction.name}, which controls the ${correction.controls}. Available: Benjamini–Hochberg${cite(2)}
(FDR, independent or positively dependent tests), Benjamini–Yekutieli${cite(3)} (FDR under any dependence),
Holm${cite(4)} and Bonferroni (family-wise error). A component is “significant” when its adjusted p &lt; α = ${plan.alpha};
counts without correction are shown beside, never instead.</dd>
${
  plan.sesoi === null
    ? ""
    : html`<dt>Importance status</dt>
<dd>Each component is “important” when its corrected test rejects a zero mean, “negligible” when two one-sided
t tests (TOST) show its mean within ±${plan.sesoi} (the smallest effect size of interest, fixed in the plan,
in ${METRIC_LABELS[plan.metric].unit}) after the same correction, and “inconclusive” otherwise: not significant
is not the same as no effect.</dd>`
}
</dl>
<h3>References</h3>
<ol class="references">${REFERENCES.map((r, i) => html`<li id="ref-${i + 1}">${r}</li>`)}</ol>
</section>
`;
}
