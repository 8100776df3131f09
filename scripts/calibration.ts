/**
 * Calibration study of the statistics engine (issue 7): type-I error of the t, Wilcoxon and
 * sign-flip tests under the null, BH/BY false discovery rate, BCa coverage. Prints Markdown tables
 * for the study report's methods section.
 *
 * Run: node --import tsx scripts/calibration.ts [--sims 4000] [--seed 0] [--json out.json]
 */
import { renameSync, writeFileSync } from "node:fs";
import { formatCalibrationTable, runCalibration } from "../src/stats/calibration.js";

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value)) {
    process.stderr.write(`calibration: --${name} needs a number\n`);
    process.exit(2);
  }
  return value;
}

const sims = flag("sims", 4000);
const seed = flag("seed", 0);
const started = performance.now();
const report = runCalibration({
  sims,
  seed,
  fdr: { sims: flag("fdr-sims", 2000) },
  coverage: { sims: flag("coverage-sims", 1000), resamples: flag("resamples", 2000) },
  onProgress: (done, total, detail) => process.stderr.write(`[${done}/${total}] ${detail ?? ""}\n`),
});
process.stdout.write(formatCalibrationTable(report));
process.stdout.write(`\n(seed ${seed}; ${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
const jsonAt = process.argv.indexOf("--json");
if (jsonAt >= 0) {
  const path = process.argv[jsonAt + 1];
  writeFileSync(`${path}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}
