import type { StudyResults } from "../../study/results-schema.js";
import type { ReportFigure } from "../figures.js";
import { html, type SafeHtml } from "../html.js";
import { tableToHtml } from "../table-format.js";
import { capitalise, componentTable, positionTopTable } from "../tables.js";
import { figureHtml, findFigure } from "./figure-html.js";

/**
 * Results: the figures that show both directions side by side, then one subsection per direction
 * with its tables (heads, layers, MLPs, the largest head × time-step cells).
 *
 * @example
 * html`<main>${resultsSection(results, figures)}</main>`;
 */
export function resultsSection(results: StudyResults, figures: readonly ReportFigure[]): SafeHtml {
  const shown = ["fig1-head-importance", "fig4-effect-sizes", "head-position-map"]
    .map((id) => findFigure(figures, id))
    .filter((f): f is ReportFigure => f !== undefined);
  return html`<section id="results">
<h2>Results</h2>
${shown.map(figureHtml)}
${results.directions.map(
  (d) => html`<section class="direction" id="results-${d.direction}">
<h3>${capitalise(d.direction)}</h3>
<p>n = ${d.n_units} units${d.baseline_p_true === null ? "" : html`; mean unpatched P(true) of the targets: ${d.baseline_p_true.toFixed(4)}`}.</p>
${d.kinds.map((k) => html`<div class="scroll">${tableToHtml(k.map === undefined ? componentTable(results, d, k) : positionTopTable(results, d, k.map))}</div>\n`)}
</section>
`,
)}
</section>
`;
}
