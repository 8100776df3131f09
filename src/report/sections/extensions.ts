import type { ExtensionSection, StudyResults } from "../../study/results-schema.js";
import { html, type SafeHtml } from "../html.js";
import { tableToHtml } from "../table-format.js";
import { extensionTables } from "../tables.js";

const TITLES = {
  sensitivity: "Sensitivity analysis",
} as const;

/** The optional sections present in these results, in report order (absent ones are left out). */
export function extensionIds(results: StudyResults): (keyof typeof TITLES)[] {
  return (Object.keys(TITLES) as (keyof typeof TITLES)[]).filter((k) => results[k] !== undefined);
}

/**
 * One optional section (sensitivity): its method, tables and notes.
 *
 * @example
 * html`${extensionIds(results).map((id) => extensionSection(id, results[id]!))}`;
 */
export function extensionSection(id: keyof typeof TITLES, section: ExtensionSection): SafeHtml {
  return html`<section id="${id}">
<h2>${TITLES[id]}</h2>
<p>${section.method}</p>
${extensionTables(id, section).map((t) => html`<div class="scroll">${tableToHtml(t)}</div>`)}
${section.notes.length > 0 ? html`<ul class="notes">${section.notes.map((n) => html`<li>${n}</li>`)}</ul>` : ""}
</section>
`;
}

export function extensionTitle(id: keyof typeof TITLES): string {
  return TITLES[id];
}
