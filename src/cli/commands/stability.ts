import type { Command } from "commander";
import { loadModel } from "../../model/model-dir.js";
import { buildPairs } from "../../patching/build-pairs.js";
import { modelInputs } from "../../patching/inputs.js";
import { DEFAULT_PERTURBATIONS, PERTURB_FORMS, parsePerturbations } from "../../stability/perturb.js";
import { runStability, type StabilityResult } from "../../stability/run-stability.js";
import { type SeedStabilityResult, seedStability } from "../../stability/seed-stability.js";
import { type CommandContext, printJson } from "../context.js";
import { parseInteger } from "../flags.js";
import { progressBar } from "../progress.js";
import { textTable } from "../table.js";
import { openPairInputs, type PairInputFlags, pairInputOptions, withInterval } from "./pair-inputs.js";

interface StabilityFlags extends PairInputFlags {
  perturb?: string[];
  resamples: string;
  draws: string;
  seedModels?: string;
  json?: boolean;
  quiet?: boolean;
}

/**
 * `tspatch stability`: how stable the head ranking is under input perturbations (each
 * validated by accuracy), under resampling of the units, and (with --seed-models) across
 * models trained with different seeds.
 *
 * @example
 * await runCli(["stability", "--model", "m.pth", "--data", "JapaneseVowels_eq", "--perturb", "gaussian:0.1", "--json"], memoryIO());
 */
export function register(program: Command, ctx: CommandContext): void {
  pairInputOptions(
    program
      .command("stability")
      .description("Stability of the head ranking under input perturbations, resampling and seeds"),
  )
    .option(
      "--perturb <kind:strengths>",
      `perturbation grid, repeatable: ${PERTURB_FORMS} (default ${DEFAULT_PERTURBATIONS.join(" ")})`,
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option("--resamples <n>", "bootstrap resamples of the agreement CIs", "2000")
    .option("--draws <n>", "bootstrap resamples of the resampling stability", "1000")
    .option(
      "--seed-models <dirs>",
      "comma-separated model directories trained with different seeds (e.g. models/X/seed-0,models/X/seed-1)",
    )
    .option("--json", "print the full result as JSON")
    .option("--quiet", "no progress bar")
    .action(async (flags: StabilityFlags) => {
      const perturbations = parsePerturbations(flags.perturb ?? DEFAULT_PERTURBATIONS);
      const resamples = parseInteger(flags.resamples, "--resamples", 2);
      const draws = parseInteger(flags.draws, "--draws", 1);
      const { model, inputs, pairs, seed, batchRows } = await openPairInputs(flags, ctx);
      const bar = progressBar(ctx.io, "stability", { unit: "rankings", quiet: flags.quiet || flags.json });
      const result = await runStability(model, inputs, pairs.pairs, {
        batchRows,
        perturbations,
        seed,
        resamples,
        resamplingDraws: draws,
        metric: pairs.strategy === "cross-class" ? "logit_diff" : "dp_true",
        signal: ctx.signal,
        onProgress: bar,
      });
      bar.finish();
      let seeds: SeedStabilityResult | null = null;
      if (flags.seedModels) {
        const entries = [];
        for (const dir of flags.seedModels
          .split(",")
          .map((d) => d.trim())
          .filter((d) => d !== "")) {
          const { model: m } = loadModel(dir, { data: inputs.dataset });
          const own = modelInputs(m, inputs.dataset);
          const built = await buildPairs(m, own, { strategy: "misclassified", direction: "both", seed });
          entries.push({ label: dir, model: m, inputs: own, pairs: built.pairs.pairs });
        }
        seeds = await seedStability(entries);
      }
      const notAll = result.perturbations.filter((p) => p.message !== null);
      if (notAll.length === result.perturbations.length && notAll.length > 0) {
        ctx.io.stderr(
          `tspatch: every perturbation lost every pair:\n  ${notAll.map((p) => p.message).join("\n  ")}\n`,
        );
      }
      if (flags.json) {
        printJson(ctx, { ...result, pair_strategy: pairs.strategy, seeds });
        return;
      }
      ctx.io.stdout(`${formatStability(result)}\n`);
      if (seeds !== null) ctx.io.stdout(`\n${formatSeeds(seeds)}\n`);
    });
}

function formatStability(r: StabilityResult): string {
  const rows: string[][] = [];
  for (const p of r.perturbations) {
    if (p.message !== null) {
      rows.push([
        p.label,
        p.accuracy.toFixed(4),
        p.flagged ? "FLAG" : "",
        `0/${p.pairsTotal}`,
        "-",
        "no pairs survive",
        "-",
        "-",
        "-",
        "-",
      ]);
      continue;
    }
    for (const d of p.directions) {
      const a = d.agreement;
      rows.push([
        p.label,
        p.accuracy.toFixed(4),
        p.flagged ? "FLAG" : "",
        `${p.pairsSurviving}/${p.pairsTotal}`,
        d.direction,
        withInterval(a?.spearman),
        withInterval(a?.kendall),
        a?.topKJaccard["3"]?.toFixed(2) ?? "-",
        a?.topKJaccard["5"]?.toFixed(2) ?? "-",
        d.significantRetained === null ? "-" : d.significantRetained.toFixed(2),
      ]);
    }
  }
  const table = textTable(
    [
      "perturbation",
      "accuracy",
      "flag",
      "pairs",
      "direction",
      "Spearman ρ [95% CI]",
      "Kendall τ [95% CI]",
      "J@3",
      "J@5",
      "sig kept",
    ],
    rows,
  );
  const resampling = r.resampling.map((s) => {
    const top = s.topKProbability["3"] ?? [];
    const best = r.heads
      .map((h, j) => ({ h, p: top[j] ?? 0, s: s.significantProbability[j] }))
      .sort((a, b) => b.p - a.p)
      .slice(0, 5)
      .map((x) => `${x.h} ${x.p.toFixed(2)} (sig ${x.s.toFixed(2)})`)
      .join(", ");
    return `${s.direction}: P(top 3) over ${s.draws} resamples of ${s.units} units: ${best}`;
  });
  return [
    `unperturbed accuracy ${r.accuracy.toFixed(4)}; FLAG = accuracy drop > ${r.settings.maxAccuracyDrop * 100} points (the ranking of a broken model means little)`,
    table,
    "",
    "resampling stability (bootstrap over units):",
    ...resampling.map((l) => `  ${l}`),
    "",
    ...r.notes.map((n) => `note: ${n}`),
  ].join("\n");
}

function formatSeeds(s: SeedStabilityResult): string {
  const rows = s.profiles.map((p) => [
    p.label,
    p.direction,
    String(p.units),
    p.layerShare.map((v) => v.toFixed(2)).join(" / "),
    String(p.significantHeads),
  ]);
  return [
    "seed stability (per-layer share of |mean effect|):",
    textTable(["model", "direction", "units", "layer share", "significant heads"], rows),
    `note: ${s.note}`,
  ].join("\n");
}
