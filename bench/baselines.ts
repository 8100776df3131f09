/**
 * Baselines and stability cost. (1) Attribution patching of all 24 heads per pair against the
 * exact 24-head sweep, in the same run, on the study's denoise pairs of each reference checkpoint
 * (ROUNDS interleaved rounds after a warm-up; best / median pairs per second and their ratio, and
 * the same ratio of process CPU time).
 * (2) A full stability run (3 kinds × 3 strengths, the misclassified pairs in both directions)
 * and a full baseline run on the JapaneseVowels reference checkpoint: wall time and the process's
 * peak RSS after each (BENCH_BASELINES_ATP_ONLY=1 skips part 2). Nothing is asserted; on a loaded machine read the ratios, not the seconds.
 */
import { readFileSync } from "node:fs";
import { attributionPatching } from "../src/baselines/attribution-patching.js";
import { runBaselines } from "../src/baselines/run-baselines.js";
import { loadDataset } from "../src/data/registry.js";
import { loadModel } from "../src/model/model-dir.js";
import { buildPairs } from "../src/patching/build-pairs.js";
import { modelInputs } from "../src/patching/inputs.js";
import { parsePairsFile } from "../src/patching/pairs-file.js";
import { presetComponents } from "../src/patching/presets.js";
import { sweep } from "../src/patching/sweep.js";
import { Runtime } from "../src/runtime/session.js";
import { DEFAULT_PERTURBATIONS, parsePerturbations, runStability } from "../src/stability/index.js";
import { REFERENCE_CASES, SHARED, THREADS } from "./setup.js";
import { minMedian } from "./torch-server.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

export async function benchBaselines(): Promise<Record<string, unknown>> {
  const runtime = new Runtime({ threads: THREADS, spinning: process.env.BENCH_SPINNING === "1" });
  const results: Record<string, unknown> = {};
  const pairsCsv = readFileSync(`${SHARED}models/reference/study_pairs.csv`, "utf8");
  process.stdout.write(
    "AtP (24 heads, one forward + backward per pair) vs exact 24-head sweep, same pairs\n",
  );
  for (const c of REFERENCE_CASES) {
    const data = await loadDataset(`${SHARED}${c.test}`);
    const { model } = loadModel(`${SHARED}models/reference/${c.pth}`, { data, runtime });
    const inputs = modelInputs(model, data);
    const list = parsePairsFile(pairsCsv, "study_pairs.csv", inputs.rows, { dataset: c.name });
    const { pairs } = await buildPairs(model, inputs, { strategy: "misclassified", list });
    const components = presetComponents(model.config, "heads");
    const atpRate: number[] = [];
    const exactRate: number[] = [];
    const atpCpu: number[] = [];
    const exactCpu: number[] = [];
    // Wall time and the process's CPU time (user + system, all threads): on a shared machine the
    // CPU time is the steadier of the two, since waiting for a core is not counted.
    const time = async (work: () => Promise<unknown>, cpu: number[]) => {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      await work();
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1e6);
      return pairs.pairs.length / ((performance.now() - t0) / 1000);
    };
    const atp = () => attributionPatching(model, inputs, pairs.pairs);
    const exact = () => sweep(model, inputs, pairs.pairs, { components });
    await atp();
    await exact();
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 2 === 0) {
        atpRate.push(await time(atp, atpCpu));
        exactRate.push(await time(exact, exactCpu));
      } else {
        exactRate.push(await time(exact, exactCpu));
        atpRate.push(await time(atp, atpCpu));
      }
    }
    const a = minMedian(atpRate.map((v) => -v));
    const e = minMedian(exactRate.map((v) => -v));
    const ac = minMedian(atpCpu);
    const ec = minMedian(exactCpu);
    const row = {
      pairs: pairs.pairs.length,
      atpPairsPerS: -a.min,
      exactPairsPerS: -e.min,
      speedup: a.min / e.min,
      speedupMedian: a.median / e.median,
      cpuSpeedup: ec.min / ac.min,
      cpuSpeedupMedian: ec.median / ac.median,
    };
    results[c.name] = row;
    process.stdout.write(
      `${c.name.padEnd(15)} ${row.pairs} pairs: AtP ${row.atpPairsPerS.toFixed(1)} pairs/s, exact ${row.exactPairsPerS.toFixed(1)} pairs/s, AtP ${row.speedup.toFixed(2)}× (median ${row.speedupMedian.toFixed(2)}×); CPU time ${row.cpuSpeedup.toFixed(2)}× (median ${row.cpuSpeedupMedian.toFixed(2)}×)\n`,
    );
  }

  if (process.env.BENCH_BASELINES_ATP_ONLY === "1") return results;
  const jv = REFERENCE_CASES[0];
  const data = await loadDataset(`${SHARED}${jv.test}`);
  const { model } = loadModel(`${SHARED}models/reference/${jv.pth}`, { data, runtime });
  const inputs = modelInputs(model, data);
  const { pairs } = await buildPairs(model, inputs, { strategy: "misclassified", direction: "both" });
  const mib = () => process.resourceUsage().maxRSS / 1024;
  let t0 = performance.now();
  await runStability(model, inputs, pairs.pairs, {
    perturbations: parsePerturbations(DEFAULT_PERTURBATIONS),
  });
  const stabilitySeconds = (performance.now() - t0) / 1000;
  const stabilityRss = mib();
  t0 = performance.now();
  const baselines = await runBaselines(model, inputs, pairs.pairs);
  const baselineSeconds = (performance.now() - t0) / 1000;
  results.JapaneseVowelsFull = {
    pairs: pairs.pairs.length,
    stabilitySeconds,
    stabilityPeakRssMiB: stabilityRss,
    baselineSeconds,
    baselinePeakRssMiB: mib(),
    baselineStages: baselines.seconds,
  };
  process.stdout.write(
    `JapaneseVowels, ${pairs.pairs.length} pairs (both directions): stability (3 kinds × 3 strengths) ${stabilitySeconds.toFixed(1)} s, peak RSS ${stabilityRss.toFixed(0)} MiB; baselines ${baselineSeconds.toFixed(1)} s (${Object.entries(
      baselines.seconds,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}), peak RSS ${mib().toFixed(0)} MiB\n`,
  );
  return results;
}
