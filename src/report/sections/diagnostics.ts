import type { StudyResults } from "../../study/results-schema.js";
import { html, type SafeHtml } from "../html.js";
import { tableToHtml } from "../table-format.js";
import { diagnosticsTable } from "../tables.js";

/**
 * The pre-flight diagnostics the study ran (saturation, output width, patch sanity, design, pair
 * dependence): what about the model, data or pairs changes how the results may be read. Null when
 * results.json has no diagnostics section.
 *
 * @example
 * html`<main>${diagnosticsSection(results) ?? ""}</main>`;
 */
export function diagnosticsSection(results: StudyResults): SafeHtml | null {
  const table = diagnosticsTable(results);
  if (table === null || results.diagnostics === undefined) return null;
  const findings = results.diagnostics.findings;
  const warnings = findings.filter((f) => f.severity !== "info").length;
  return html`<section id="diagnostics">
<h2>Diagnostics</h2>
<p>${findings.length === 0 ? "The pre-flight checks found nothing to report." : `${findings.length} findings (${warnings} warnings or errors) from the pre-flight checks: patch sanity on a sample of pairs, saturation of P(true), output width against the classes, the size of each family and how the pairs share inputs. Read the results with them in mind.`}</p>
${findings.length === 0 ? "" : html`<div class="scroll">${tableToHtml(table)}</div>`}
</section>
`;
}
