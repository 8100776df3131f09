import type { StudyResults } from "../../study/results-schema.js";
import { html, type SafeHtml } from "../html.js";
import { tableToHtml } from "../table-format.js";
import { alignmentTable, classTable, confusionTable, dataTable, modelTable, pairsTable } from "../tables.js";

/**
 * Data and model card: the dataset as analysed, the model and its errors, and the pairs with how
 * often inputs repeat (the effective n).
 *
 * @example
 * html`<main>${dataModelSection(results)}</main>`;
 */
export function dataModelSection(results: StudyResults): SafeHtml {
  return html`<section id="data-model">
<h2>Data and model</h2>
<div class="cards">
${tableToHtml(dataTable(results))}
${tableToHtml(modelTable(results))}
</div>
${tableToHtml(classTable(results))}
${tableToHtml(confusionTable(results))}
${tableToHtml(pairsTable(results))}
${alignmentParagraph(results)}
</section>
`;
}

/** How inputs of different lengths were patched: one sentence and the alignment table. */
function alignmentParagraph(results: StudyResults): SafeHtml | string {
  const a = results.pairs.alignment;
  const table = alignmentTable(results);
  if (a === undefined || table === null) return "";
  const notApplicable = Object.values(a.not_applicable_rows).reduce((x, y) => x + y, 0);
  return html`<p>Inputs of different lengths were aligned with <code>${a.align}</code>: ${a.partial_pairs} of ${a.pairs} pairs patched only part of the target's real steps${a.overlap === null ? "" : ` (median overlap ${a.overlap.median.toFixed(3)}, minimum ${a.overlap.min.toFixed(3)})`}, ${a.no_overlap_pairs} shared no real step, and ${notApplicable} rows patched a padding step and have no effect (not counted as zeros).</p>
${tableToHtml(table)}`;
}
