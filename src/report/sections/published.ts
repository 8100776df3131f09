import type { StudyResults } from "../../study/results-schema.js";
import { html, type SafeHtml } from "../html.js";
import { tableToHtml } from "../table-format.js";
import { claimsTable, publishedNumbersTable, reproductionTable } from "../tables.js";

/**
 * The published study beside ours: its table re-computed with its own choices (labelled as
 * compatibility switches), then each claim as holds / fails / artefact with the reason.
 *
 * @example
 * const section = publishedSection(results); // null without a reproduction section
 */
export function publishedSection(results: StudyResults): SafeHtml | null {
  const heads = reproductionTable(results);
  const claims = claimsTable(results);
  const numbers = publishedNumbersTable(results);
  if (heads === null || claims === null || numbers === null) return null;
  return html`<section id="published">
<h2>The published study, re-computed and checked</h2>
<p>The published analysis was re-run on the same checkpoint with its own choices, switched on
explicitly as <em>compatibility switches</em> (they are not recommended: see Methods and
Limitations). The verdicts say whether each published claim holds under a proper analysis, fails,
or is an artefact of the analysis choices.</p>
${tableToHtml(numbers)}
${tableToHtml(claims)}
<div class="scroll">${tableToHtml(heads)}</div>
</section>
`;
}
