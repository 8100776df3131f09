import type { StudyResults } from "../../study/results-schema.js";
import { html, type SafeHtml } from "../html.js";
import { tableToHtml } from "../table-format.js";
import { checksumsTable, versionsTable } from "../tables.js";

/** The study's options as written in config.json (camelCase) → its command-line flags. */
const FLAGS: Record<string, string> = {
  dataset: "--dataset",
  model: "--model",
  strategy: "--strategy",
  direction: "--direction",
  metric: "--metric",
  test: "--test",
  correction: "--correction",
  headMode: "--head-mode",
  pairsFile: "--pairs-file",
  poolDirections: "--pool-directions",
  familyPooled: "--family",
  sesoi: "--sesoi",
  quick: "--quick",
  stability: "--stability",
  baselines: "--baselines",
};

/**
 * The command that re-runs this study from its recorded configuration.
 *
 * @example
 * rerunCommand({ dataset: "JapaneseVowels", model: "train", quick: true }, "runs/jv"); // "npx tspatch study --dataset JapaneseVowels --model train --quick --out runs/jv"
 */
export function rerunCommand(config: Record<string, unknown>, out: string): string {
  const parts = ["npx", "tspatch", "study"];
  for (const [key, flag] of Object.entries(FLAGS)) {
    const value = config[key];
    if (value === undefined || value === null || value === false) continue;
    if (key === "familyPooled") parts.push(flag, "pooled");
    else if (value === true) parts.push(flag);
    else if (typeof value === "string" || typeof value === "number")
      parts.push(flag, shellWord(String(value)));
  }
  const seeds = config.seeds;
  if (typeof seeds === "object" && seeds !== null && "train" in seeds && typeof seeds.train === "number") {
    parts.push("--seeds", String(seeds.train));
  }
  parts.push("--out", shellWord(out));
  return parts.join(" ");
}

/**
 * Reproduction: the exact command, the full configuration, versions, seeds and the SHA-256 of
 * every input, so anyone can re-run the study and check they had the same model and data.
 *
 * @example
 * html`<main>${rerunSection(results, "runs/jv")}</main>`;
 */
export function rerunSection(results: StudyResults, runName: string): SafeHtml {
  const config = results.manifest.config;
  return html`<section id="reproduction">
<h2>Reproduction</h2>
<p>Re-run this study (same seed and configuration give a byte-identical results.json; wall times are in timings.json):</p>
<pre class="command"><code>${rerunCommand(config, runName)}</code></pre>
<p>Re-render this report from its results.json (figures, tables and report.html only; nothing is recomputed):</p>
<pre class="command"><code>npx tspatch report ${shellWord(runName)}</code></pre>
<div class="cards">
${tableToHtml(versionsTable(results))}
${tableToHtml(checksumsTable(results))}
</div>
<details>
<summary>Full configuration (config.json)</summary>
<pre><code>${JSON.stringify(config, null, 2)}</code></pre>
</details>
</section>
`;
}

function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
