import type { Command } from "commander";
import { type BaselineResult, runBaselines } from "../../baselines/run-baselines.js";
import { type CommandContext, printJson } from "../context.js";
import { parseInteger } from "../flags.js";
import { textTable } from "../table.js";
import { openPairInputs, type PairInputFlags, pairInputOptions, withInterval } from "./pair-inputs.js";

interface BaselineFlags extends PairInputFlags {
  igSteps: string;
  nullDraws: string;
  positions?: boolean;
  resamples: string;
  json?: boolean;
  quiet?: boolean;
}

/**
 * `tspatch baselines`: attention statistics, attribution patching, integrated gradients,
 * gradient × input and the random-patching null on the same pairs as exact patching, and how
 * well each agrees with it.
 *
 * @example
 * await runCli(["baselines", "--model", "m.pth", "--data", "JapaneseVowels_eq", "--json"], memoryIO());
 */
export function register(program: Command, ctx: CommandContext): void {
  pairInputOptions(
    program
      .command("baselines")
      .description("Cheaper attribution methods on the same pairs as patching, and their agreement with it"),
  )
    .option(
      "--ig-steps <n>",
      "integrated-gradients Gauss–Legendre nodes of the first pass (≥ 32; doubled where completeness is off by > 1%)",
      "64",
    )
    .option("--null-draws <n>", "random-patching null: random sources per pair (0 = skip)", "49")
    .option("--positions", "also check attribution patching per head × time step (L·H·S exact runs per pair)")
    .option("--resamples <n>", "bootstrap resamples of the agreement CIs", "2000")
    .option("--json", "print the full result as JSON")
    .option("--quiet", "no progress lines")
    .action(async (flags: BaselineFlags) => {
      const igSteps = parseInteger(flags.igSteps, "--ig-steps", 32);
      const nullDraws = parseInteger(flags.nullDraws, "--null-draws", 0);
      const resamples = parseInteger(flags.resamples, "--resamples", 2);
      const { model, inputs, pairs, seed, batchRows, gradientRows } = await openPairInputs(flags, ctx);
      const result = await runBaselines(model, inputs, pairs.pairs, {
        batchRows,
        gradientRows: gradientRows(),
        metric: pairs.strategy === "cross-class" ? "logit_diff" : "dp_true",
        igSteps,
        nullDraws,
        positions: flags.positions,
        resamples,
        seed,
        signal: ctx.signal,
        onStage: flags.quiet || flags.json ? undefined : (stage) => ctx.io.stderr(`baselines: ${stage}\n`),
      });
      if (flags.json) {
        printJson(ctx, { ...result, pair_strategy: pairs.strategy });
        return;
      }
      ctx.io.stdout(`${formatBaselines(result)}\n`);
    });
}

function formatBaselines(r: BaselineResult): string {
  const agreement = textTable(
    ["baseline", "direction", "units", "Spearman ρ [95% CI]", "Kendall τ [95% CI]", "J@3", "J@5"],
    r.agreement.map((a) => [
      a.baseline,
      a.direction,
      String(a.units),
      withInterval(a.spearman),
      withInterval(a.kendall),
      a.topKJaccard["3"]?.toFixed(2) ?? "-",
      a.topKJaccard["5"]?.toFixed(2) ?? "-",
    ]),
  );
  const atp = textTable(
    ["AtP vs exact", "ρ per-component means", "ρ pooled", "worst |exact − AtP|", "flagged"],
    r.atpCheck.map((c) => [
      c.kind,
      c.agreement.map((a) => `${a.direction} ${a.spearman.estimate.toFixed(3)}`).join(", ") || "-",
      c.pooledSpearman.toFixed(3),
      `${c.worstAbsoluteError.value.toFixed(4)} (${c.worstAbsoluteError.component}, pair ${c.worstAbsoluteError.pair})`,
      String(c.flagged.length),
    ]),
  );
  const flagged = r.atpCheck.flatMap((c) =>
    c.flagged.map(
      (f) =>
        `  ${f.component} ${f.direction}: exact ${f.exact.toFixed(4)}, AtP ${f.atp.toFixed(4)} (${f.reason})`,
    ),
  );
  const ig = r.integratedGradients;
  const nodes = Object.entries(ig.stepsHistogram)
    .map(([k, v]) => `${k} nodes × ${v}`)
    .join(", ");
  const nul = r.randomNull;
  const nullLine =
    nul === null
      ? "random-patching null: skipped (--null-draws 0)"
      : `random-patching null (${nul.draws} draws per pair): heads with p ≤ 0.05: ${nul.pvalues.filter((p) => p <= 0.05).length} of ${nul.pvalues.length}; smallest possible p ${(1 / (nul.draws + 1)).toFixed(3)}`;
  return [
    `pairs: ${r.pairs.length}, metric ${r.metric}, head mode ${r.headMode}`,
    agreement,
    "",
    atp,
    ...(flagged.length > 0 ? ["AtP unreliable (|exact − AtP| large or sign flipped):", ...flagged] : []),
    "",
    `integrated gradients (Gauss–Legendre, ${nodes} (pair, layer) integrals): completeness worst relative error ${(ig.worstRelativeError * 100).toFixed(2)}% (|Δ| ≥ ${ig.minDelta}), worst absolute ${ig.worstAbsoluteError.toExponential(2)}${ig.unconverged > 0 ? `; ${ig.unconverged} integrals above ${ig.tolerance * 100}% at the cap of ${ig.maxStepsUsed} nodes` : ""}`,
    nullLine,
    `seconds: ${Object.entries(r.seconds)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}`,
    ...r.notes.map((n) => `note: ${n}`),
  ].join("\n");
}
