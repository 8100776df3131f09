import type { StudyResults } from "../study/results-schema.js";
import type { ReportFigure } from "./figures.js";
import { html, raw, type SafeHtml } from "./html.js";
import { CORRECTION_LABELS, METRIC_LABELS } from "./labels.js";
import { REPORT_CSS } from "./report-style.js";
import { dataModelSection } from "./sections/data-model.js";
import { diagnosticsSection } from "./sections/diagnostics.js";
import { limitationsSection } from "./sections/limitations.js";
import { methodsSection } from "./sections/methods.js";
import { publishedSection } from "./sections/published.js";
import { rerunSection } from "./sections/rerun.js";
import { resultsSection } from "./sections/results.js";
import { baselinesHtml, stabilityHtml } from "./sections/robustness.js";
import { sensitivityHtml } from "./sections/sensitivity.js";
import { summarySection } from "./sections/summary.js";

export interface ReportOptions {
  /** How the run is named in the re-run commands (default "runs/<dataset>"). */
  runName?: string;
}

/**
 * The report as one self-contained HTML document (figures inlined, CSS inline, no scripts, no
 * network): summary, data and model, methods, results per direction, the optional sections the
 * study ran, the published-study comparison when present, limitations and reproduction. Every
 * string from the results is escaped.
 *
 * @example
 * writeFileAtomic("runs/jv/report.html", renderReport(results, await renderFigures(results, "runs/jv/figures")));
 */
export function renderReport(
  results: StudyResults,
  figures: readonly ReportFigure[],
  options: ReportOptions = {},
): string {
  const runName = options.runName ?? `runs/${results.data.name}`;
  const published = publishedSection(results);
  const robustness: [string, string, SafeHtml][] = [];
  const stability = stabilityHtml(results, figures);
  const baselines = baselinesHtml(results, figures);
  if (stability !== null) robustness.push(["stability", "Stability", stability]);
  if (baselines !== null) robustness.push(["baselines", "Baselines", baselines]);
  const sensitivity = sensitivityHtml(results, figures);
  if (sensitivity !== null) robustness.push(["sensitivity", "Sensitivity analysis", sensitivity]);
  const diagnostics = diagnosticsSection(results);
  const sections: [string, string, SafeHtml][] = [
    ["summary", "Summary", summarySection(results)],
    ["data-model", "Data and model", dataModelSection(results)],
    ...(diagnostics === null
      ? []
      : [["diagnostics", "Diagnostics", diagnostics] as [string, string, SafeHtml]]),
    ["methods", "Methods", methodsSection(results, figures)],
    ["results", "Results", resultsSection(results, figures)],
    ...robustness,
    ...(published === null
      ? []
      : [["published", "Published study", published] as [string, string, SafeHtml]]),
    ["limitations", "Limitations", limitationsSection(results)],
    ["reproduction", "Reproduction", rerunSection(results, runName)],
  ];
  const { plan } = results;
  const compat = Object.entries(plan.compatibility).filter(([, v]) => v !== false && v !== null);
  const page = html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="tspatch ${results.manifest.tspatch_version}">
<title>tspatch study: ${results.data.name}</title>
<style>${raw(REPORT_CSS)}</style>
</head>
<body>
<header class="top">
<h1>Which components cause the decisions of a time-series Transformer on ${results.data.name}?</h1>
<p>Activation patching study · ${METRIC_LABELS[plan.metric].name} · ${plan.compatibility.pool_directions ? "directions pooled (compatibility switch)" : `${plan.directions.join(" and ")} analysed separately`} · ${CORRECTION_LABELS[plan.correction].name} correction · head mode ${plan.head_mode}</p>
</header>
<nav class="toc">${sections.map(([id, title]) => html`<a href="#${id}">${title}</a>`)}</nav>
<main>
${compat.length > 0 ? html`<p class="banner"><strong>Compatibility mode.</strong> This run reproduces the published study's choices (${compat.map(([k, v], i) => html`${i > 0 ? ", " : ""}${v === true ? k : `${k} = ${v}`}`)}), which a proper analysis does not make. Read its numbers as a reproduction, not as findings.</p>` : ""}
${sections.map(([, , body]) => body)}
</main>
<footer>Written by tspatch ${results.manifest.tspatch_version} from results.json (${results.schema} v${results.schema_version}). Every number in this report is read from that file.</footer>
</body>
</html>
`;
  return page.value;
}
