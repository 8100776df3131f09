import type { ComponentStats, StudyResults } from "../../study/results-schema.js";
import { html, type SafeHtml } from "../html.js";
import { CORRECTION_LABELS, METRIC_LABELS, percent } from "../labels.js";
import { formatCell, tableToHtml } from "../table-format.js";
import { countsTable, statusText } from "../tables.js";

/**
 * The summary: per direction, how many heads are significant before and after correction, and the
 * largest effects with their CIs, in words a reader can quote.
 *
 * @example
 * html`<main>${summarySection(results)}</main>`;
 */
export function summarySection(results: StudyResults): SafeHtml {
  const { plan, model, data } = results;
  const correction = CORRECTION_LABELS[plan.correction];
  const metric = METRIC_LABELS[plan.metric].name;
  const level = percent(1 - plan.alpha);
  return html`<section id="summary">
<h2>Summary</h2>
<p>${data.name} (${data.analysis_split} split, ${model.n_evaluated} rows): the model (${model.origin}) classifies
${formatCell(model.accuracy * 100, "num")}% correctly (${model.n_misclassified} misclassified). Components were
patched with ${results.pairs.strategy === "file" ? "pairs read from a pairs file" : `${results.pairs.strategy} pairs`}; the effect is ${metric}.</p>
<ul class="headline">
${results.directions.map((d) => {
  const heads = d.kinds.find((k) => k.kind === "head");
  if (heads === undefined)
    return html`<li><strong>${d.direction}</strong>: n = ${d.n_units} units; no head sweep.</li>\n`;
  const top = heads.top
    .map((name) => heads.components.find((c) => c.name === name))
    .filter((c): c is ComponentStats => c !== undefined)
    .slice(0, 3);
  return html`<li><strong>${d.direction}</strong> (n = ${d.n_units} units${d.baseline_p_true === null ? "" : html`, mean unpatched P(true) of the targets ${formatCell(d.baseline_p_true, "num")}`}):
${heads.counts.corrected} of ${heads.counts.total} heads significant after ${correction.name} correction (${heads.counts.naive} without)${heads.counts.status === undefined ? "" : `; ${statusText(heads.counts.status)} (SESOI ±${plan.sesoi})`}.
${top.length > 0 ? html`Largest: ${top.map((c, i) => html`${i > 0 ? "; " : ""}${c.name} ${formatCell(c.mean, "num")} [${formatCell(c.ci.low, "num")}, ${formatCell(c.ci.high, "num")}]${c.significant_corrected ? " (significant)" : ""}`)} (mean, BCa ${level} CI).` : ""}</li>\n`;
})}</ul>
${tableToHtml(countsTable(results))}
</section>
`;
}
