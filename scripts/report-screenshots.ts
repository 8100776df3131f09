/**
 * Screenshots of a study's report.html for the README: the top of the page, figure 1, the
 * Methods section and the Sensitivity analysis section, as PNG files under docs/.
 *
 *   node --import tsx scripts/report-screenshots.ts runs/JapaneseVowels [docs]
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { launchChromium } from "./headless-chromium.js";

const [runDir, outDir = "docs"] = process.argv.slice(2);
if (runDir === undefined) {
  process.stderr.write("usage: node --import tsx scripts/report-screenshots.ts <runDir> [outDir]\n");
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
const browser = await launchChromium({ width: 1280, height: 900 });
try {
  const page = await browser.context.newPage();
  await page.goto(pathToFileURL(resolve(runDir, "report.html")).href);
  await page.screenshot({ path: join(outDir, "report-top.png") });
  await page.locator("#fig1-head-importance").screenshot({ path: join(outDir, "report-fig1.png") });
  // The Methods section from its heading: the plan table and the start of the pipeline figure.
  await page.setViewportSize({ width: 1280, height: 1200 });
  await page.locator("#methods h2").evaluate((h) => h.scrollIntoView());
  await page.screenshot({ path: join(outDir, "report-methods.png") });
  // The Sensitivity analysis section from its heading through figure 6 and the variants table
  // (the agreement table below repeats figure 6's cells as numbers).
  // Bounding boxes are relative to the viewport, a full-page clip to the page: scroll to the top first.
  await page.evaluate("window.scrollTo(0, 0)");
  const top = await page.locator("#sensitivity").boundingBox();
  const end = await page.locator("#table-sensitivity-variants").boundingBox();
  if (top === null || end === null) throw new Error("the report has no Sensitivity analysis section");
  await page.screenshot({
    path: join(outDir, "report-sensitivity.png"),
    fullPage: true,
    clip: { x: top.x, y: top.y, width: top.width, height: end.y + end.height - top.y },
  });
  const files = ["report-top.png", "report-fig1.png", "report-methods.png", "report-sensitivity.png"];
  process.stdout.write(`wrote ${files.map((f) => join(outDir, f)).join(", ")}\n`);
} finally {
  await browser.close();
}
