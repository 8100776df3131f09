import { minimumDetectableEffect } from "../../stats/power.js";
import type { StudyResults } from "../../study/results-schema.js";
import { html, type SafeHtml } from "../html.js";
import { formatCell } from "../table-format.js";

/**
 * Limitations: what the numbers cannot say, from this run's own n, dependence and head mode.
 *
 * @example
 * html`<main>${limitationsSection(results)}</main>`;
 */
export function limitationsSection(results: StudyResults): SafeHtml {
  const { plan } = results;
  const heads = plan.head_mode;
  return html`<section id="limitations">
<h2>Limitations</h2>
<ul>
${results.directions.map((d) => {
  const family = d.kinds.find((k) => k.kind === "head")?.counts.total ?? 1;
  const mde = minimumDetectableEffect({ n: d.n_units, alpha: plan.alpha, alternative: "two-sided" });
  const mdeFamily = minimumDetectableEffect({
    n: d.n_units,
    alpha: plan.alpha,
    alternative: "two-sided",
    tests: family,
    correction: "bonferroni",
  });
  return html`<li><strong>Sample size (${d.direction})</strong>: n = ${d.n_units} units. With this n a two-sided one-sample t test at α = ${plan.alpha} has 80% power only for |d_z| ≥ ${formatCell(mde, "num")} (≥ ${formatCell(mdeFamily, "num")} at the Bonferroni level across ${family} heads); smaller true effects will often be missed, so “not significant” is not evidence of no effect.</li>\n`;
})}
<li><strong>Dependence</strong>: ${results.pairs.by_direction.map((p, i) => html`${i > 0 ? "; " : ""}${p.direction}: ${p.n_pairs} pairs from ${p.distinct_sources} distinct sources and ${p.distinct_targets} distinct targets (effective n ${p.effective_n}${p.repeats ? html`, inputs repeat: up to ${p.max_pairs_per_source} pairs share a source and ${p.max_pairs_per_target} a target, so the cluster bootstrap CI is the one to trust` : ", no input repeats"})`)}.
The tests treat units as independent. Heads of one model are tested on the same units, so their p-values are dependent:
Benjamini–Hochberg assumes positive dependence; Benjamini–Yekutieli holds under any dependence, at a cost in power.</li>
<li><strong>What “head” means</strong>: ${heads === "z" ? html`here a head is its own output (<code>attn.hook_z[:, :, h, :]</code>, before W_O), so patching one head changes only that head's contribution.` : html`here (slice mode, a compatibility switch) a “head” is a d_model/H-wide slice of the attention output after W_O. That slice mixes every head's output through W_O, so its effects are not the effects of one head; the z mode is the true per-head patch.`}</li>
<li><strong>Ceiling and floor</strong>: ΔP(true) is bounded by how far the target's unpatched P(true) is from 0 or 1. In the noise direction the target is correctly classified, often with P(true) near 1, so large negative effects are possible but positive ones are not; the two directions' effect sizes are not comparable.</li>
<li><strong>Scope</strong>: effects are of one component patched alone, with every other component left as in the target run: they show what is sufficient to move this model's output on these pairs, not what is necessary, and effects of several components need not add up. ${results.pairs.strategy === "misclassified" ? "Targets are the misclassified inputs, a selected and often small sample of the data." : ""}</li>
<li><strong>The timestep × head map</strong> has one hypothesis per cell; with so many cells and each cell's n limited to pairs where the step is real in both inputs, it is for locating effects, not for confirming them.</li>
</ul>
</section>
`;
}
