import type { StudyResults } from "../../study/results-schema.js";
import { html, type SafeHtml } from "../html.js";
import { tableToHtml } from "../table-format.js";
import { classTable, confusionTable, dataTable, modelTable, pairsTable } from "../tables.js";

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
</section>
`;
}
