import type { StudyResults } from "../../study/results-schema.js";
import type { ReportFigure } from "../figures.js";
import { html, type SafeHtml } from "../html.js";
import {
  baselineTables,
  PUBLISHED_ATTENTION_RANGE,
  publishedRobustness,
  stabilityTable,
} from "../robustness-tables.js";
import { tableToHtml } from "../table-format.js";
import { figureHtml, findFigure } from "./figure-html.js";

/** A section's one-line method as a sentence: capital first letter, final full stop. */
const sentence = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;

const figuresOf = (figures: readonly ReportFigure[], ids: string[]) =>
  ids.flatMap((id) => {
    const f = findFigure(figures, id);
    return f === undefined ? [] : [figureHtml(f)];
  });

/**
 * The stability section: what was perturbed, how to read fig3, the table, and the published ρ
 * when the study re-runs a reference checkpoint.
 *
 * @example
 * const section = stabilityHtml(results, figures); // null without the stability stage
 */
export function stabilityHtml(results: StudyResults, figures: readonly ReportFigure[]): SafeHtml | null {
  const s = results.stability;
  const table = stabilityTable(results);
  if (s === undefined || table === null) return null;
  const published = publishedRobustness(results);
  return html`<section id="stability">
<h2>Stability of the head ranking</h2>
<p>${sentence(s.method)} For each perturbation the model's accuracy on the perturbed inputs is checked
first; the head sweep is then re-run on the perturbed pairs and its per-head means are ranked
against the unperturbed ones (Spearman ρ and Kendall τ with bootstrap CIs over units, top-k
overlap, share of significant heads that stay significant).</p>
<p>How to read it: ρ near 1 means the same heads matter after the perturbation; a wide CI means
too few units to tell. A flagged perturbation broke the model, so its ranking says little.</p>
${published === null ? "" : html`<p>Published (reference checkpoint, ${results.data.name}): stability ρ = ${published.stability.toFixed(3)}.</p>`}
${figuresOf(figures, ["fig3-stability"])}
<div class="scroll">${tableToHtml(table)}</div>
${s.notes.length > 0 ? html`<ul class="notes">${s.notes.map((n) => html`<li>${n}</li>`)}</ul>` : ""}
</section>
`;
}

/**
 * The baselines section: the cheaper attributions against exact patching (fig2), the
 * random-patching null (fig5), their tables, and the published ρ for a reference checkpoint.
 *
 * @example
 * const section = baselinesHtml(results, figures); // null without the baselines stage
 */
export function baselinesHtml(results: StudyResults, figures: readonly ReportFigure[]): SafeHtml | null {
  const b = results.baselines;
  if (b === undefined) return null;
  const published = publishedRobustness(results);
  return html`<section id="baselines">
<h2>Baselines against exact patching</h2>
<p>${sentence(b.method)}</p>
<p>How to read it: in Figure 2a a head on the diagonal is one whose attribution-patching estimate
equals its exact patching effect; Figure 2b gives each baseline's rank agreement with exact
patching (ρ near 1: the cheap method finds the same heads). Figure 5 shows, for the heads with
the largest effects, how large the effect of patching from a random input of another class is:
an observed effect inside that distribution is not specific to the pair's source.</p>
${published === null ? "" : html`<p>Published (reference checkpoint, ${results.data.name}): integrated gradients ρ = ${published.ig.toFixed(3)}; attention-weight baselines ρ ${PUBLISHED_ATTENTION_RANGE} over the three datasets.</p>`}
${figuresOf(figures, ["fig2a-atp-vs-exact", "fig2b-baseline-agreement", "fig5-random-null"])}
${baselineTables(results).map((t) => html`<div class="scroll">${tableToHtml(t)}</div>`)}
${b.notes.length > 0 ? html`<ul class="notes">${b.notes.map((n) => html`<li>${n}</li>`)}</ul>` : ""}
</section>
`;
}
