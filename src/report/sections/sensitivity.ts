import type { StudyResults } from "../../study/results-schema.js";
import type { ReportFigure } from "../figures.js";
import { html, type SafeHtml } from "../html.js";
import { sensitivityTables } from "../sensitivity-tables.js";
import { tableToHtml } from "../table-format.js";
import { figureHtml, findFigure } from "./figure-html.js";

/**
 * The sensitivity section: the plan's head analysis under the other metrics and pair strategies,
 * how to read Figure 6, and the tables. It never replaces the plan's results.
 *
 * @example
 * const section = sensitivityHtml(results, figures); // null without the sensitivity stage
 */
export function sensitivityHtml(results: StudyResults, figures: readonly ReportFigure[]): SafeHtml | null {
  const s = results.sensitivity;
  if (s === undefined) return null;
  const figure = findFigure(figures, "fig6-sensitivity");
  // The tables' last column (top heads, or why a variant has no pairs) wraps, so they fit the page.
  return html`<section id="sensitivity">
<h2>Sensitivity analysis</h2>
<p>The analysis plan (${s.plan_variant}) was fixed before any effect was computed, and its results
above are the study's. This section asks how much they depend on two choices the plan made: the
metric and the pair strategy. Method: ${s.method}.</p>
<p>How to read it: a variant whose counts and top heads match the plan's, and whose ranking agrees
with it (ρ near 1, CI away from 0), says the conclusion does not hinge on that choice. Low or
negative ρ says it does: report the finding with the choice that produced it.</p>
${figure === undefined ? "" : figureHtml(figure)}
${sensitivityTables(results).map((t) => html`<div class="scroll wrap-last">${tableToHtml(t)}</div>`)}
<ul class="notes">${s.notes.map((n) => html`<li>${n}</li>`)}</ul>
</section>
`;
}
