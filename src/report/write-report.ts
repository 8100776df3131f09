import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { writeFileAtomic } from "../atomic-write.js";
import { inputError } from "../errors.js";
import { parseResults, type StudyResults } from "../study/results-schema.js";
import { type ReportFigure, renderFigures } from "./figures.js";
import { renderReport } from "./report-html.js";
import { tableToCsv, tableToMarkdown } from "./table-format.js";
import { reportTables } from "./tables.js";

export interface WrittenReport {
  /** report.html's path. */
  readonly report: string;
  readonly figures: readonly ReportFigure[];
  /** Table files written (CSV and Markdown), relative to the run directory. */
  readonly tables: readonly string[];
}

/**
 * Read `<runDir>/results.json` (validated) and write, each file atomically: `figures/<id>.svg|png`,
 * `tables/<id>.csv|md` and `report.html`. Recomputes nothing; the study's last stage calls this,
 * and `tspatch report <runDir>` re-renders with it.
 *
 * @example
 * const { report } = await writeReport("runs/JapaneseVowels");
 */
export async function writeReport(
  runDir: string,
  options: { runName?: string } = {},
): Promise<WrittenReport> {
  const file = join(runDir, "results.json");
  if (!existsSync(file)) {
    throw inputError("no results.json in the run directory", {
      file,
      hint: "give the --out directory of a finished `tspatch study` run (the report is drawn from its results.json)",
    });
  }
  const results = parseResults(readFileSync(file, "utf8"), file);
  return writeReportFrom(results, runDir, options);
}

/**
 * The same, from results already in memory (validated by the caller, e.g. the study pipeline that
 * just wrote them).
 *
 * @example
 * await writeReportFrom(results, "runs/JapaneseVowels");
 */
export async function writeReportFrom(
  results: StudyResults,
  runDir: string,
  options: { runName?: string } = {},
): Promise<WrittenReport> {
  const figures = await renderFigures(results, join(runDir, "figures"));
  const tableDir = join(runDir, "tables");
  mkdirSync(tableDir, { recursive: true });
  const tables: string[] = [];
  for (const table of reportTables(results)) {
    writeFileAtomic(join(tableDir, `${table.id}.csv`), tableToCsv(table));
    writeFileAtomic(join(tableDir, `${table.id}.md`), tableToMarkdown(table));
    tables.push(`tables/${table.id}.csv`, `tables/${table.id}.md`);
  }
  const report = join(runDir, "report.html");
  const runName = options.runName ?? (relative(process.cwd(), runDir) || basename(runDir));
  writeFileAtomic(report, renderReport(results, figures, { runName }));
  return { report, figures, tables };
}
