/**
 * The default study (`tspatch study` with no arguments: bundled JapaneseVowels, a freshly
 * trained model, every component kind, both directions, 10,000 resamples), timed per stage.
 * Figures are shares of the study's own total (ratios within one run, so a loaded machine shifts
 * them less than absolute times), plus the wall time against the 3-minute goal and peak memory.
 * Run it alone: it trains a model and sweeps ~700 components per pair.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultStudyConfig } from "../src/study/config.js";
import { runStudy } from "../src/study/pipeline.js";
import { REPO } from "./setup.js";

export async function benchStudy(): Promise<{ totalS: number; stages: Record<string, number> }> {
  const out = mkdtempSync(join(tmpdir(), "tspatch-bench-study-"));
  const started = performance.now();
  try {
    const run = await runStudy({
      config: defaultStudyConfig(),
      out,
      data: { cwd: REPO, download: false },
    });
    const totalS = (performance.now() - started) / 1000;
    const stages = run.timings;
    process.stdout.write(`default study: ${totalS.toFixed(1)} s wall (goal < 180 s on 2 cores)\n`);
    for (const [stage, seconds] of Object.entries(stages).sort((a, b) => b[1] - a[1])) {
      process.stdout.write(
        `  ${stage.padEnd(22)} ${seconds.toFixed(1).padStart(7)} s  ${((100 * seconds) / totalS).toFixed(1).padStart(5)} %\n`,
      );
    }
    const r = run.results;
    if (r !== null) {
      const pairs = r.pairs.by_direction.map(
        (d) => `${d.direction} ${d.n_pairs} pairs / ${d.effective_n} units`,
      );
      process.stdout.write(`  accuracy ${r.model.accuracy.toFixed(4)}; ${pairs.join("; ")}\n`);
    }
    return { totalS, stages };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
