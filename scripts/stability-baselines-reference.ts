/**
 * Stability and baselines side by side with the published values, as Markdown tables; the full
 * results go to runs/reference-stability/.
 *
 * - Reference checkpoints, with the study's pairs (study_pairs.csv, denoise and the reversed
 *   noise pairs):
 *     node --import tsx scripts/stability-baselines-reference.ts [JapaneseVowels PenDigits LSST]
 * - Models trained here with several seeds (`tspatch train --seeds 0,1,2 --out DIR`), each on its
 *   own misclassified TEST inputs (both directions), then the seed comparison (per-layer
 *   profiles; heads are not aligned across seeds):
 *     node --import tsx scripts/stability-baselines-reference.ts --trained DIR --dataset JapaneseVowels
 *   (the dataset's TEST file is read from the shared datasets folder).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../src/atomic-write.js";
import { runBaselines } from "../src/baselines/index.js";
import { withInterval } from "../src/cli/commands/pair-inputs.js";
import { loadDataset } from "../src/data/registry.js";
import type { HookedTST } from "../src/model/hooked-tst.js";
import { loadModel } from "../src/model/model-dir.js";
import { buildPairs } from "../src/patching/build-pairs.js";
import type { ModelInputs } from "../src/patching/inputs.js";
import { modelInputs } from "../src/patching/inputs.js";
import { parsePairsFile } from "../src/patching/pairs-file.js";
import type { Pair } from "../src/patching/types.js";
import {
  DEFAULT_PERTURBATIONS,
  parsePerturbations,
  runStability,
  type SeedModel,
  seedStability,
} from "../src/stability/index.js";

const SHARED = process.env.TSPATCH_SHARED ?? join(import.meta.dirname, "..", "..", "shared");
const CASES: Record<string, { data: string; pth: string; published: { stability: number; ig: number } }> = {
  JapaneseVowels: {
    data: "JapaneseVowels/JapaneseVowels_eq_TEST.ts",
    pth: "TST_japanesevowels.pth",
    published: { stability: 0.884, ig: 0.575 },
  },
  PenDigits: {
    data: "PenDigits/PenDigits_TEST.ts",
    pth: "TST_pendigits.pth",
    published: { stability: 0.894, ig: 0.372 },
  },
  LSST: { data: "LSST/LSST_TEST.ts", pth: "TST_lsst.pth", published: { stability: 0.484, ig: -0.122 } },
};
const out = join(import.meta.dirname, "..", "runs", "reference-stability");
mkdirSync(out, { recursive: true });
// As the CLI tables: "-" where there is no interval (fewer than 2 units).
const f = withInterval;

/** Stability, baselines and AtP-vs-exact tables of one model on its pairs. */
async function compare(
  name: string,
  model: HookedTST,
  inputs: ModelInputs,
  pairs: { pairs: readonly Pair[] },
  published: { stability: number; ig: number },
): Promise<void> {
  let t = performance.now();
  const stability = await runStability(model, inputs, pairs.pairs, {
    perturbations: parsePerturbations(DEFAULT_PERTURBATIONS),
  });
  const stabilitySeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const baselines = await runBaselines(model, inputs, pairs.pairs, {});
  const baselineSeconds = (performance.now() - t) / 1000;
  writeFileAtomic(join(out, `${name.replaceAll("/", "_")}.json`), JSON.stringify({ stability, baselines }));
  console.log(
    `\n## ${name} (${pairs.pairs.length} pairs; stability ${stabilitySeconds.toFixed(1)} s, baselines ${baselineSeconds.toFixed(1)} s)`,
  );
  console.log(`published: stability ρ ${published.stability}, IG ρ ${published.ig}`);
  console.log(
    "| perturbation | accuracy | pairs kept | direction | Spearman ρ [95% CI] | Kendall τ [95% CI] | J@3 | J@5 | sig kept |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const p of stability.perturbations) {
    for (const d of p.directions) {
      console.log(
        `| ${p.label} | ${p.accuracy.toFixed(4)}${p.flagged ? " (flag)" : ""} | ${p.pairsSurviving}/${p.pairsTotal} | ${d.direction} | ${f(d.agreement?.spearman)} | ${f(d.agreement?.kendall)} | ${d.agreement?.topKJaccard["3"]?.toFixed(2) ?? "-"} | ${d.agreement?.topKJaccard["5"]?.toFixed(2) ?? "-"} | ${d.significantRetained?.toFixed(2) ?? "-"} |`,
      );
    }
    if (p.message)
      console.log(`| ${p.label} | ${p.accuracy.toFixed(4)} | 0/${p.pairsTotal} | - | ${p.message} | | | | |`);
  }
  console.log("\n| baseline | direction | Spearman ρ vs exact [95% CI] | J@3 | J@5 |");
  console.log("|---|---|---|---|---|");
  for (const a of baselines.agreement) {
    console.log(
      `| ${a.baseline} | ${a.direction} | ${f(a.spearman)} | ${a.topKJaccard["3"]?.toFixed(2)} | ${a.topKJaccard["5"]?.toFixed(2)} |`,
    );
  }
  console.log("\n| AtP vs exact | ρ of means (per direction) | ρ pooled | worst abs error | flagged |");
  console.log("|---|---|---|---|---|");
  for (const k of baselines.atpCheck) {
    console.log(
      `| ${k.kind} | ${k.agreement.map((a) => `${a.direction} ${a.spearman.estimate.toFixed(3)}`).join(", ")} | ${k.pooledSpearman.toFixed(3)} | ${k.worstAbsoluteError.value.toFixed(4)} (${k.worstAbsoluteError.component}) | ${k.flagged.map((x) => `${x.component}/${x.direction}`).join(" ") || "-"} |`,
    );
  }
  const ig = baselines.integratedGradients;
  console.log(
    `\nIG completeness: worst relative ${(ig.worstRelativeError * 100).toFixed(2)}% (|Δ| ≥ ${ig.minDelta}), worst absolute ${ig.worstAbsoluteError.toExponential(2)}; nodes per (pair, layer) integral ${JSON.stringify(ig.stepsHistogram)}${ig.unconverged > 0 ? `, ${ig.unconverged} above the tolerance at the cap` : ""}`,
  );
  const nul = baselines.randomNull;
  if (nul)
    console.log(
      `random null: ${nul.pvalues.filter((p) => p <= 0.05).length}/${nul.pvalues.length} heads with p ≤ 0.05 (${nul.draws} draws)`,
    );
  console.log(`seconds: ${JSON.stringify(baselines.seconds)}`);
}

const args = process.argv.slice(2);
const flag = (f: string): string | undefined => {
  const i = args.indexOf(f);
  if (i < 0) return undefined;
  const value = args[i + 1];
  args.splice(i, 2);
  return value;
};
const trained = flag("--trained");
if (trained !== undefined) {
  const dataset = flag("--dataset") ?? "JapaneseVowels";
  const c = CASES[dataset];
  if (c === undefined) throw new Error(`--dataset: one of ${Object.keys(CASES).join(", ")}`);
  const ds = await loadDataset(join(SHARED, "datasets", dataset, `${dataset}_TEST.ts`));
  const seeds: SeedModel[] = [];
  for (const dir of readdirSync(trained)
    .filter((d) => d.startsWith("seed-") && existsSync(join(trained, d, "config.json")))
    .sort()) {
    const { model } = loadModel(join(trained, dir), { data: ds });
    const inputs = modelInputs(model, ds);
    const built = await buildPairs(model, inputs, { strategy: "misclassified", direction: "both" });
    let correct = 0;
    built.predicted.forEach((k, r) => {
      if (k === inputs.trueClass[r]) correct++;
    });
    console.log(`\n# ${dataset} ${dir}: TEST accuracy ${(correct / inputs.rows).toFixed(4)}`);
    await compare(`${dataset}/${dir}`, model, inputs, built.pairs, c.published);
    seeds.push({ label: dir, model, inputs, pairs: built.pairs.pairs });
  }
  const r = await seedStability(seeds);
  console.log(`\n## Seed stability, ${dataset} (${seeds.length} seeds)\n${r.note}`);
  console.log(
    "\n| seed | direction | units | layer share (L0, L1, …) | significant heads | largest head mean per layer |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const p of r.profiles) {
    console.log(
      `| ${p.label} | ${p.direction} | ${p.units} | ${p.layerShare.map((v) => v.toFixed(3)).join(", ")} | ${p.significantHeads} | ${p.sortedLayerEffects.map((e) => e[0].toFixed(4)).join(", ")} |`,
    );
  }
  console.log("\n| direction | layer share mean ± sd across seeds | largest difference |");
  console.log("|---|---|---|");
  for (const s of r.layerShareSummary) {
    console.log(
      `| ${s.direction} | ${s.mean.map((m, l) => `${m.toFixed(3)} ± ${s.sd[l].toFixed(3)}`).join(", ")} | ${s.maxDifference.toFixed(3)} |`,
    );
  }
  writeFileAtomic(join(out, `${dataset}-seeds.json`), JSON.stringify(r));
} else {
  const names = args.length > 0 ? args : Object.keys(CASES);
  for (const name of names) {
    const c = CASES[name];
    const ds = await loadDataset(join(SHARED, "datasets", c.data));
    const { model } = loadModel(join(SHARED, "models", "reference", c.pth), { data: ds });
    const inputs = modelInputs(model, ds);
    const list = parsePairsFile(
      readFileSync(join(SHARED, "models", "reference", "study_pairs.csv"), "utf8"),
      "study_pairs.csv",
      inputs.rows,
      { dataset: name },
    );
    const built = await buildPairs(model, inputs, { strategy: "misclassified", direction: "both", list });
    await compare(name, model, inputs, built.pairs, c.published);
  }
}
