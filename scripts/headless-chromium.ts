import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

/**
 * Debian's Chromium (`apt-get install chromium`) driven by playwright-core, offline and without
 * a profile: a fresh user-data directory per launch, no background networking, no sandbox (CI
 * containers run as root). Shared by the report's browser test and scripts/report-screenshots.ts.
 */

export const CHROMIUM = process.env.TSPATCH_CHROMIUM ?? "/usr/bin/chromium";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface HeadlessBrowser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Launch Chromium with a fresh profile; `close()` also deletes the profile.
 *
 * @example
 * const browser = await launchChromium();
 * const page = await browser.context.newPage();
 * await browser.close();
 */
export async function launchChromium(viewport = { width: 1280, height: 900 }): Promise<HeadlessBrowser> {
  const profile = mkdtempSync(join(tmpdir(), "tspatch-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport,
    offline: true,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
