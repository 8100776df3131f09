import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryIO } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/main.js";
import { InputError } from "../../src/errors.js";
import { type ReportFigure, renderFigures } from "../../src/report/figures.js";
import { escapeHtml } from "../../src/report/html.js";
import { renderReport } from "../../src/report/report-html.js";
import { rerunCommand } from "../../src/report/sections/rerun.js";
import { tableToCsv, tableToMarkdown } from "../../src/report/table-format.js";
import { componentTable, reportTables } from "../../src/report/tables.js";
import { writeReport } from "../../src/report/write-report.js";
import { compatStudyResults, INJECTION, injectedResults, quickStudyResults } from "./fixture.js";

const results = quickStudyResults();
const tmp = mkdtempSync(join(tmpdir(), "tspatch-report-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let figures: ReportFigure[];
let page: string;
beforeAll(async () => {
  figures = await renderFigures(results, join(tmp, "figures"));
  page = renderReport(results, figures, { runName: "runs/jv" });
}, 60_000);

describe("report.html", () => {
  it("has every section, in order, each with its heading", () => {
    const ids = ["summary", "data-model", "diagnostics", "methods", "results", "limitations", "reproduction"];
    const at = ids.map((id) => page.indexOf(`<section id="${id}">`));
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    for (const h of [
      "Summary",
      "Data and model",
      "Diagnostics",
      "Methods",
      "Results",
      "Limitations",
      "Reproduction",
    ]) {
      expect(page).toContain(`<h2>${h}</h2>`);
    }
    // the published-study section only when results.json has one (this run has none)
    expect(results.reproduction).toBeUndefined();
    expect(page).not.toContain('id="published"');
  });

  it("states the plan and cites the statistics' sources", () => {
    for (const text of [
      "Efron, “Better bootstrap confidence intervals”",
      "Benjamini, Y. Hochberg",
      "Benjamini, D. Yekutieli",
      "S. Holm",
      "Hedges",
      "pseudo-median",
      "Sign-flip permutation test",
      "one-sample t test",
      "Benjamini–Hochberg (false discovery rate)",
      `<td>bootstrap resamples</td><td>${results.plan.bootstrap_resamples}</td>`,
    ]) {
      expect(page.includes(text), text).toBe(true);
    }
  });

  it("reports each direction's numbers as results.json has them", () => {
    for (const d of results.directions) {
      const heads = d.kinds.find((k) => k.kind === "head")!;
      expect(page).toContain(`${heads.counts.corrected} of ${heads.counts.total} heads significant`);
      expect(page).toContain(`id="table-${d.direction}-head"`);
      expect(page).toContain(
        `>${heads.components[0].name}</td><td class="num">${heads.components[0].n}</td>`,
      );
    }
    for (const [file, hash] of Object.entries(results.manifest.data_sha256)) {
      expect(page).toContain(`<td>${file}</td><td>${hash}</td>`);
    }
    expect(page).toContain(results.manifest.model_sha256);
  });

  it("is self-contained: every figure inlined, no scripts, links or remote URLs", () => {
    expect(figures.map((f) => f.id)).toEqual([
      "pipeline",
      "fig1-head-importance",
      "fig4-effect-sizes",
      "head-position-map",
      "fig3-stability",
      "fig2a-atp-vs-exact",
      "fig2b-baseline-agreement",
      "fig5-random-null",
      "fig6-sensitivity",
    ]);
    expect(page.match(/<img src="data:image\/svg\+xml;base64,/g)).toHaveLength(figures.length);
    expect(page).not.toMatch(/<script|<link|<iframe|src="http|href="http|url\(http|@import/i);
  });

  it("escapes every string taken from the results", () => {
    const injected = renderReport(injectedResults(results), figures);
    expect(injected).not.toContain("<script>");
    expect(injected).not.toMatch(/<img src=x/);
    expect(injected).not.toMatch(/onerror="/);
    expect(injected).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    // the only <img> tags are the figures, the only <script> none
    expect(injected.match(/<img /g)).toHaveLength(figures.length);
    expect(INJECTION).toContain("<script>"); // the test input does carry markup
  });

  it("gives the exact re-run command from the recorded configuration", () => {
    expect(rerunCommand(results.manifest.config, "runs/jv")).toBe(
      "npx tspatch study --dataset JapaneseVowels --model train --strategy misclassified --direction both --metric dp_true --test t --correction bh --head-mode z --quick --stability --baselines --seeds 0 --out runs/jv",
    );
    expect(rerunCommand({ dataset: "my data", pairsFile: "p.csv", familyPooled: true }, "o")).toBe(
      "npx tspatch study --dataset 'my data' --pairs-file p.csv --family pooled --out o",
    );
  });
});

describe("the stability and baselines sections", () => {
  it("show fig2, fig3 and fig5 inside their sections with the tables, and the published ρ only for a reference checkpoint", () => {
    const section = (id: string) =>
      page.slice(
        page.indexOf(`<section id="${id}">`),
        page.indexOf("</section>", page.indexOf(`<section id="${id}">`)),
      );
    const stability = section("stability");
    expect(stability).toContain('<figure class="figure" id="fig3-stability">');
    expect(stability).toContain("<td>gaussian:0.1</td>");
    const baselines = section("baselines");
    for (const id of ["fig2a-atp-vs-exact", "fig2b-baseline-agreement", "fig5-random-null"]) {
      expect(baselines).toContain(`<figure class="figure" id="${id}">`);
    }
    expect(baselines).toMatch(/integrated_gradients<\/td>/);
    expect(page).not.toContain("Published (reference checkpoint");
    const reference = renderReport(
      { ...compatStudyResults(), stability: results.stability, baselines: results.baselines },
      [],
    );
    expect(reference).toContain("stability ρ = 0.884");
    expect(reference).toContain("integrated gradients ρ = 0.575");
  });
});

describe("diagnostics, status and alignment", () => {
  it("lists every pre-flight finding with its stage and severity", () => {
    const findings = results.diagnostics?.findings ?? [];
    expect(findings.length).toBeGreaterThan(0);
    const section = page.slice(
      page.indexOf('<section id="diagnostics">'),
      page.indexOf('<section id="methods">'),
    );
    for (const f of findings) {
      expect(section).toContain(
        `<td>${f.stage}</td><td>${f.severity}</td><td>${f.code}</td><td>${escapeHtml(f.message)}</td>`,
      );
    }
    // The reference checkpoint's spare output and saturated noise side are flagged.
    const compat = compatStudyResults().diagnostics?.findings ?? [];
    expect(compat.find((f) => f.code === "output-width")?.detail).toMatchObject({ outputs: 10, classes: 9 });
    expect(compat.some((f) => f.code === "saturation")).toBe(true);
    expect(renderReport(compatStudyResults(), [])).toMatch(
      /<td>output-width<\/td><td>the model has 10 outputs but the data has 9 classes/,
    );
  });

  it("shows each kind's status counts (summing to the family) and the plan's SESOI", () => {
    expect(results.plan.sesoi).toBe(0.01);
    expect(page).toContain("(SESOI ±0.01)");
    expect(page).toContain("<dt>Importance status</dt>");
    const counts = reportTables(results).find((t) => t.id === "counts")!;
    const at = (label: string) => counts.columns.findIndex((c) => c.label === label);
    for (const row of counts.rows) {
      if (row[1] === "head × time step") continue;
      const sum =
        Number(row[at("important")]) + Number(row[at("negligible")]) + Number(row[at("inconclusive")]);
      expect(sum).toBe(row[at("hypotheses")]);
    }
    const heads = results.directions[0].kinds.find((k) => k.kind === "head")!;
    const s = heads.counts.status!;
    expect(page).toContain(
      `${s.important} important, ${s.negligible} negligible, ${s.inconclusive} inconclusive (SESOI ±0.01)`,
    );
  });

  it("reports the alignment, and padding cells of the head × time-step map as n 0 with no mean", () => {
    const a = results.pairs.alignment!;
    expect(a.align).toBe("overlap");
    expect(page).toContain(`aligned with <code>overlap</code>: ${a.partial_pairs} of ${a.pairs} pairs`);
    expect(a.not_applicable_rows.head_position).toBeGreaterThan(0);
    for (const d of results.directions) {
      const map = d.kinds.find((k) => k.kind === "head_position")!.map!;
      const padding = map.cells.filter((c) => c.n === 0);
      // JapaneseVowels' shortest input has 7 of 29 steps: late steps are padding in every unit.
      expect(padding.length).toBeGreaterThan(0);
      for (const c of padding)
        expect([c.mean, c.sd, c.p, c.significant_corrected]).toEqual([null, null, null, false]);
      // Only tested cells count in the family.
      expect(d.kinds.find((k) => k.kind === "head_position")!.counts.total).toBe(
        map.cells.filter((c) => c.p !== null).length,
      );
    }
  });
});

describe("the published-study comparison", () => {
  it("shows the published numbers beside the re-computed ones, each claim's verdict and the per-head table", () => {
    const compat = compatStudyResults();
    const r = compat.reproduction!;
    const html = renderReport(compat, []);
    expect(html).toContain('<section id="published">');
    expect(html).toContain('<a href="#published">Published study</a>');
    expect(html).toContain("<strong>Compatibility mode.</strong>");
    expect(html).toContain(
      `<td>heads significant after BH</td><td class="num">${r.published.total}</td><td class="num">${r.published.significant}</td><td class="num">${r.counts.corrected}</td>`,
    );
    expect(r.claims.length).toBeGreaterThan(0);
    for (const c of r.claims)
      expect(html).toContain(
        `<td>${escapeHtml(c.claim)}</td><td>${c.verdict}</td><td>${escapeHtml(c.reason)}</td>`,
      );
    const heads = html.slice(html.indexOf('id="table-reproduction-heads"'));
    expect(heads.slice(0, heads.indexOf("</tbody>")).match(/<tr><td>L\dH\d<\/td>/g)).toHaveLength(
      r.heads.length,
    );
    // a slice-mode run says what its "heads" are
    expect(html).toContain("slice mode, a compatibility switch");
  });
});

describe("tables", () => {
  it("CSV keeps full precision and empty fields for undefined values; Markdown escapes pipes", () => {
    const d = results.directions[0];
    const heads = d.kinds.find((k) => k.kind === "head")!;
    const table = componentTable(results, d, heads);
    const csv = tableToCsv(table).split("\r\n");
    expect(csv[0].split(",").slice(0, 3)).toEqual(["component", "n", "mean ΔP(true)"]);
    const first = csv[1].split(",");
    expect(first[0]).toBe(heads.components[0].name);
    expect(Number(first[2])).toBe(heads.components[0].mean);
    expect(csv.some((line) => line.includes("NaN"))).toBe(false);
    const md = tableToMarkdown({ ...table, rows: [["a|b", ...table.rows[0].slice(1)]] });
    expect(md).toContain("| a\\|b |");
    expect(md.split("\n")[3]).toMatch(/^\| --- \| ---: \|/);
  });

  it("names the confusion matrix's outputs by label only when the labels are the model's outputs", () => {
    const quick = reportTables(results).find((t) => t.id === "confusion")!;
    expect(quick.columns.slice(1).map((c) => c.label)).toEqual(results.data.classes);
    // The reference checkpoint: 10 outputs (class index = int(label)) for 9 labels listed densely.
    const compat = compatStudyResults();
    const table = reportTables(compat).find((t) => t.id === "confusion")!;
    expect(compat.model.architecture.classes).toBe(compat.data.classes.length + 1);
    expect(table.columns[1].label).toBe("output 0");
    expect(table.rows.map((r) => r[0])).toEqual(compat.model.confusion.map((_, i) => `output ${i}`));
    expect(table.notes?.[0]).toMatch(/10 outputs for 9 labelled classes/);
  });

  it("covers every direction and kind, with unique ids", () => {
    const ids = reportTables(results).map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const d of results.directions) {
      expect(ids).toContain(`${d.direction}-head`);
      expect(ids).toContain(`${d.direction}-head-position-top`);
    }
  });
});

describe("writeReport and `tspatch report`", () => {
  it("writes figures, tables and report.html from results.json", async () => {
    const run = join(tmp, "run");
    mkdirp(run);
    writeFileSync(join(run, "results.json"), JSON.stringify(results));
    const io = memoryIO({ cwd: tmp });
    expect(await runCli(["report", "run", "--json"], io)).toBe(0);
    const out = JSON.parse(io.out.join(""));
    expect(out.report).toBe("run/report.html");
    expect(out.figures).toContain("figures/fig1-head-importance.svg");
    for (const f of figures) {
      expect(readFileSync(join(run, f.files.svg), "utf8")).toBe(f.svg);
      expect(existsSync(join(run, f.files.png))).toBe(true);
    }
    expect(readFileSync(join(run, "tables", "counts.csv"), "utf8")).toContain("direction,kind");
    const html = readFileSync(join(run, "report.html"), "utf8");
    expect(html).toBe(renderReport(results, figures, { runName: "run" }));
  });

  it("refuses a run without results.json, or with an invalid one, naming the file and field", async () => {
    const empty = join(tmp, "empty");
    mkdirp(empty);
    await expect(writeReport(empty)).rejects.toThrow(InputError);
    const io = memoryIO({ cwd: tmp });
    expect(await runCli(["report", "empty"], io)).toBe(2);
    expect(io.err.join("")).toMatch(
      /empty\/results\.json: no results\.json in the run directory\n {2}fix: give the --out directory/,
    );
    const bad = join(tmp, "bad");
    mkdirp(bad);
    writeFileSync(
      join(bad, "results.json"),
      JSON.stringify({ ...results, plan: { ...results.plan, alpha: "0.05" } }),
    );
    const io2 = memoryIO({ cwd: tmp });
    expect(await runCli(["report", "bad"], io2)).toBe(2);
    expect(io2.err.join("")).toContain("$.plan.alpha");
    expect(existsSync(join(bad, "report.html"))).toBe(false);
  });
});

function mkdirp(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}
