/**
 * Stability and baselines on the three reference checkpoints with the study's pairs
 * (study_pairs.csv, denoise and the reversed noise pairs), side by side with the published
 * values. Prints a Markdown table and writes the full results to runs/reference-stability/.
 *
 *   node --import tsx scripts/stability-baselines-reference.ts [JapaneseVowels PenDigits LSST]
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../src/atomic-write.js";
import { runBaselines } from "../src/baselines/index.js";
import { loadDataset } from "../src/data/registry.js";
import { loadModel } from "../src/model/model-dir.js";
import { buildPairs } from "../src/patching/build-pairs.js";
import { modelInputs } from "../src/patching/inputs.js";
import { parsePairsFile } from "../src/patching/pairs-file.js";
import { DEFAULT_PERTURBATIONS, parsePerturbations, runStability } from "../src/stability/index.js";

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
const f = (e: { estimate: number; ci: { low: number; high: number } } | null | undefined) =>
  e ? `${e.estimate.toFixed(3)} [${e.ci.low.toFixed(3)}, ${e.ci.high.toFixed(3)}]` : "-";
const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(CASES);
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
  const { pairs } = await buildPairs(model, inputs, { strategy: "misclassified", direction: "both", list });
  let t = performance.now();
  const stability = await runStability(model, inputs, pairs.pairs, {
    perturbations: parsePerturbations(DEFAULT_PERTURBATIONS),
  });
  const stabilitySeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const baselines = await runBaselines(model, inputs, pairs.pairs, {});
  const baselineSeconds = (performance.now() - t) / 1000;
  writeFileAtomic(join(out, `${name}.json`), JSON.stringify({ stability, baselines }));
  console.log(
    `\n## ${name} (${pairs.pairs.length} pairs; stability ${stabilitySeconds.toFixed(1)} s, baselines ${baselineSeconds.toFixed(1)} s)`,
  );
  console.log(`published: stability ρ ${c.published.stability}, IG ρ ${c.published.ig}`);
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
    `\nIG completeness: worst relative ${(ig.worstRelativeError * 100).toFixed(2)}% (|Δ| ≥ ${ig.minDelta}), worst absolute ${ig.worstAbsoluteError.toExponential(2)}; ${ig.steps} nodes`,
  );
  const nul = baselines.randomNull;
  if (nul)
    console.log(
      `random null: ${nul.pvalues.filter((p) => p <= 0.05).length}/${nul.pvalues.length} heads with p ≤ 0.05 (${nul.draws} draws)`,
    );
  console.log(`seconds: ${JSON.stringify(baselines.seconds)}`);
}
