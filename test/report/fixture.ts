import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { type StudyResults, validateResults } from "../../src/study/results-schema.js";

/** results.json of a real `tspatch study --quick` run (scripts/fixtures/report_results.ts), validated. */
export function quickStudyResults(): StudyResults {
  return fixtureResults("quick-study-results.json.gz");
}

/** results.json of the published analysis re-computed on its JapaneseVowels checkpoint (compatibility switches). */
export function compatStudyResults(): StudyResults {
  return fixtureResults("compat-study-results.json.gz");
}

function fixtureResults(name: string): StudyResults {
  const file = join(import.meta.dirname, "..", "fixtures", "report", name);
  return validateResults(JSON.parse(gunzipSync(readFileSync(file)).toString("utf8")), file);
}

/** Markup that must come out escaped wherever results text lands in the report. */
export const INJECTION = `<script>alert("x")</script><img src=x onerror="alert(1)">'&`;

/**
 * The same results with attacker-controlled text in every free-text field the report shows:
 * dataset name, class labels, notes, the family, config values and the predictions file name.
 */
export function injectedResults(results: StudyResults): StudyResults {
  const copy: StudyResults = structuredClone(results);
  copy.data.name = `JV${INJECTION}`;
  copy.data.classes = copy.data.classes.map((c) => `${c}${INJECTION}`);
  copy.data.normalisation = INJECTION;
  copy.plan.family = `heads ${INJECTION}`;
  copy.model.predictions_file = INJECTION;
  copy.manifest.config = { ...copy.manifest.config, dataset: INJECTION };
  copy.directions[0].kinds[0].components[0].notes = [INJECTION];
  copy.diagnostics = {
    findings: [{ stage: "pairs", code: "saturation", severity: "warning", message: INJECTION, detail: {} }],
  };
  copy.directions[0].kinds[0].top = [INJECTION, ...copy.directions[0].kinds[0].top.slice(1)];
  return validateResults(copy, "injected");
}
