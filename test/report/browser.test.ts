import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { CHROMIUM, launchChromium } from "../../scripts/headless-chromium.js";
import { writeReportFrom } from "../../src/report/write-report.js";
import { injectedResults, quickStudyResults } from "./fixture.js";

// A real browser (Debian's Chromium, installed by .ci/run) opens the report from disk, offline.
// In CI the browser must be there; elsewhere the test is skipped when it is not installed.
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI === "true") {
  throw new Error(`${CHROMIUM} is missing: .ci/run installs it with apt-get install chromium`);
}

const tmp = mkdtempSync(join(tmpdir(), "tspatch-report-browser-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!haveChromium)("report.html in headless Chromium", () => {
  it("loads offline without errors; every figure is visible and loaded; every table has rows", async () => {
    const run = join(tmp, "run");
    mkdirSync(run, { recursive: true });
    // Injected text too: an unescaped <script> or onerror would raise a dialog or an error here.
    const results = injectedResults(quickStudyResults());
    writeFileSync(join(run, "results.json"), JSON.stringify(results));
    const { report, figures } = await writeReportFrom(results, run);

    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const problems: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
      page.on("dialog", (d) => {
        problems.push(`dialog: ${d.message()}`);
        void d.dismiss();
      });
      page.on("request", (r) => {
        if (!/^(file|data):/.test(r.url())) problems.push(`network request: ${r.url()}`);
      });
      page.on("requestfailed", (r) => problems.push(`failed request: ${r.url().slice(0, 80)}`));
      await page.goto(pathToFileURL(report).href, { waitUntil: "load" });

      // Evaluated in the page (a string, since the project compiles without the DOM library).
      const images: {
        id: string;
        complete: boolean;
        naturalWidth: number;
        width: number;
        height: number;
        hidden: boolean;
      }[] = await page.evaluate(`[...document.querySelectorAll("figure.figure img")].map((img) => {
          const box = img.getBoundingClientRect();
          const style = getComputedStyle(img);
          return { id: img.closest("figure").id, complete: img.complete, naturalWidth: img.naturalWidth,
            width: box.width, height: box.height, hidden: style.visibility === "hidden" || style.display === "none" };
        })`);
      expect(images.map((i) => i.id)).toEqual(figures.map((f) => f.id));
      for (const img of images) {
        expect(img, String(img.id)).toMatchObject({ complete: true, hidden: false });
        expect(img.naturalWidth, String(img.id)).toBeGreaterThan(100);
        expect(img.width * img.height, String(img.id)).toBeGreaterThan(100 * 100);
      }
      for (const f of figures) await expect(page.locator(`#${f.id} img`).isVisible()).resolves.toBe(true);

      const rows = await page.locator("figure.table").evaluateAll((els) =>
        els.map((t) => ({
          id: t.id,
          rows: t.querySelectorAll("tbody tr").length,
          cells: t.querySelectorAll("tbody td").length,
        })),
      );
      expect(rows.length).toBeGreaterThan(10);
      for (const t of rows) expect(t.rows * t.cells, t.id).toBeGreaterThan(0);

      // The sensitivity section: its figure drawn, its two tables filled, inside the section.
      expect(results.sensitivity?.variants.length).toBeGreaterThan(0);
      await expect(page.locator("#sensitivity h2").textContent()).resolves.toBe("Sensitivity analysis");
      await expect(page.locator("#sensitivity #fig6-sensitivity img").isVisible()).resolves.toBe(true);
      // Figure 6 fits the page nearly unscaled, so the CI text in its cells (10 px) shows at 9 px or more.
      const fig6 = images.find((i) => i.id === "fig6-sensitivity");
      expect(fig6 && fig6.width / fig6.naturalWidth).toBeGreaterThanOrEqual(0.9);
      // Its tables' long last column wraps instead of running off the page.
      const overflow = await page
        .locator("#sensitivity div.scroll")
        .evaluateAll((els) => els.map((d) => d.scrollWidth - d.clientWidth));
      expect(Math.max(...overflow)).toBeLessThanOrEqual(1);
      const sensitivityRows = await page
        .locator("#sensitivity figure.table")
        .evaluateAll((els) => els.map((t) => [t.id, t.querySelectorAll("tbody tr").length]));
      expect(sensitivityRows.map(([id]) => id)).toEqual([
        "table-sensitivity-variants",
        "table-sensitivity-agreement",
      ]);
      for (const [id, n] of sensitivityRows) expect(n, String(id)).toBeGreaterThan(0);

      // The injected markup shows as text, and created no elements.
      expect(await page.locator("script").count()).toBe(0);
      expect(await page.locator("img:not(figure.figure img)").count()).toBe(0);
      await expect(page.locator("h1").textContent()).resolves.toContain('<script>alert("x")</script>');
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
