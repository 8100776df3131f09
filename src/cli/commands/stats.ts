import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { inputError } from "../../errors.js";
import { EFFECTS_LONG_COLUMNS } from "../../patching/effects-long.js";
import {
  analyzeEffects,
  type EffectStats,
  type EffectsReport,
  type TestName,
} from "../../stats/analyze-effects.js";
import type { Correction } from "../../stats/multiplicity.js";
import { parseUnitTable } from "../../stats/unit-table.js";
import { type CommandContext, printJson } from "../context.js";
import { csvCell } from "../csv.js";
import { progressBar } from "../progress.js";
import { textTable } from "../table.js";

interface StatsFlags {
  alpha: string;
  correction: string;
  test: string;
  resamples: string;
  seed: string;
  json?: boolean;
  csv?: boolean;
}

const CORRECTIONS: readonly Correction[] = ["bh", "by", "holm", "bonferroni", "none"];
const TESTS: readonly TestName[] = ["t", "wilcoxon", "perm"];

/** The per-column fields, in the order (CSV columns and JSON keys). */
const COLUMNS = [
  "name",
  "n",
  "mean",
  "sd",
  "se",
  "t",
  "df",
  "p_t",
  "p_wilcoxon",
  "p_perm",
  "ci_low",
  "ci_high",
  "d_z",
  "d_z_ci_low",
  "d_z_ci_high",
  "g_z",
  "p_adj",
  "significant_naive",
  "significant",
] as const;

/**
 * `tspatch stats <unit-table.csv>`: per-column tests, BCa CIs, effect sizes and corrected p-values
 * of a table in the `unit-table` format (not the `effects-long` format a sweep writes).
 *
 * @example
 * await runCli(["stats", "effects.csv", "--correction", "holm", "--json"], memoryIO());
 */
export function register(program: Command, ctx: CommandContext): void {
  program
    .command("stats")
    .description(
      "Test each column of a unit table (one row per unit, one column per hypothesis): mean, BCa CI, " +
        "t / Wilcoxon / sign-flip p-values, d_z and g_z, and p-values corrected across columns",
    )
    .argument(
      "<unit-table.csv>",
      "unit-table format: header of hypothesis names; one row per unit; an empty cell is a missing value",
    )
    .option("--alpha <alpha>", "significance level; CIs are at 1 - alpha", "0.05")
    .option("--correction <method>", `multiple-testing correction: ${CORRECTIONS.join("|")}`, "bh")
    .option("--test <test>", `test whose p-values are corrected: ${TESTS.join("|")}`, "t")
    .option("--resamples <count>", "bootstrap and Monte Carlo permutation resamples", "10000")
    .option("--seed <seed>", "random seed (bootstrap, permutations)", "0")
    .option("--json", "print JSON")
    .option("--csv", "print CSV")
    .action((file: string, flags: StatsFlags) => {
      const options = validateFlags(flags);
      const path = resolve(ctx.io.cwd, file);
      let text: string;
      try {
        text = readFileSync(path, "utf8");
      } catch (error) {
        throw inputError(
          `cannot read the effects table (${(error as NodeJS.ErrnoException).code ?? "error"})`,
          {
            file,
            hint: "check the path",
          },
        );
      }
      rejectEffectsLong(text, file);
      const columns = parseUnitTable(text, file);
      const bar = progressBar(ctx.io, "stats", {
        unit: "steps",
        quiet: flags.json || flags.csv ? !ctx.io.isTTY : false,
      });
      const report = analyzeEffects(columns, { ...options, onProgress: bar });
      bar.finish();
      if (flags.json) printJson(ctx, toJson(report));
      else if (flags.csv) ctx.io.stdout(toCsv(report));
      else ctx.io.stdout(toTable(report));
    });
}

function validateFlags(flags: StatsFlags): {
  alpha: number;
  correction: Correction;
  test: TestName;
  resamples: number;
  seed: number;
} {
  if (flags.json && flags.csv) throw inputError("--json and --csv exclude each other", { hint: "pick one" });
  const alpha = Number(flags.alpha);
  if (!(alpha > 0 && alpha < 1)) {
    throw inputError(`--alpha must be a number between 0 and 1, got "${flags.alpha}"`, {
      hint: "e.g. --alpha 0.05",
    });
  }
  if (!CORRECTIONS.includes(flags.correction as Correction)) {
    throw inputError(`unknown --correction "${flags.correction}"`, {
      hint: `use one of ${CORRECTIONS.join(", ")}`,
    });
  }
  if (!TESTS.includes(flags.test as TestName)) {
    throw inputError(`unknown --test "${flags.test}"`, { hint: `use one of ${TESTS.join(", ")}` });
  }
  const resamples = Number(flags.resamples);
  if (!(Number.isInteger(resamples) && resamples >= 100)) {
    throw inputError(`--resamples must be an integer >= 100, got "${flags.resamples}"`, {
      hint: "e.g. --resamples 10000",
    });
  }
  const seed = Number(flags.seed);
  if (!(Number.isInteger(seed) && seed >= 0)) {
    throw inputError(`--seed must be a non-negative integer, got "${flags.seed}"`, { hint: "e.g. --seed 0" });
  }
  return { alpha, correction: flags.correction as Correction, test: flags.test as TestName, resamples, seed };
}

/** JSON numbers cannot be NaN or infinite: those become null, and `notes` says why. */
function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

function toJson(report: EffectsReport): unknown {
  return {
    alpha: report.alpha,
    correction: report.correction,
    test: report.test,
    resamples: report.resamples,
    seed: report.seed,
    ci_method: `BCa, ${round((1 - report.alpha) * 100)}%`,
    tests: report.tests.map((row) => {
      const out: Record<string, unknown> = {};
      for (const key of COLUMNS) {
        const value = row[key];
        out[key] = typeof value === "number" ? finiteOrNull(value) : value;
      }
      out.wilcoxon_method = row.wilcoxon_method;
      out.perm_method = row.perm_method;
      out.notes = row.notes;
      return out;
    }),
    counts: report.counts,
  };
}

function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

function toCsv(report: EffectsReport): string {
  const header = [...COLUMNS, "notes"].join(",");
  const lines = report.tests.map((row) =>
    [...COLUMNS.map((key) => csvCell(row[key])), csvCell(row.notes.join("; "))].join(","),
  );
  return `${[header, ...lines].join("\n")}\n`;
}

/** 4 significant digits; p-values in scientific notation below 0.001. */
function formatNumber(value: number, kind: "value" | "p" = "value"): string {
  if (Number.isNaN(value)) return "-";
  if (value === Number.POSITIVE_INFINITY) return "inf";
  if (value === Number.NEGATIVE_INFINITY) return "-inf";
  if (kind === "p") {
    if (value === 0) return "0";
    return value < 0.001 ? value.toExponential(1) : value.toFixed(4);
  }
  if (value === 0) return "0";
  const magnitude = Math.abs(value);
  return magnitude >= 1e5 || magnitude < 1e-3 ? value.toExponential(2) : value.toPrecision(4);
}

function toTable(report: EffectsReport): string {
  const level = `${round((1 - report.alpha) * 100)}%`;
  const headers = [
    "name",
    "n",
    "mean",
    `BCa ${level} CI`,
    "t",
    "p_t",
    "p_wilcoxon",
    "p_perm",
    "d_z",
    `d_z ${level} CI`,
    "g_z",
    "p_adj",
    "sig",
  ];
  const interval = (low: number, high: number) =>
    Number.isNaN(low) || Number.isNaN(high) ? "-" : `[${formatNumber(low)}, ${formatNumber(high)}]`;
  const rows = report.tests.map((r: EffectStats) => [
    r.name,
    String(r.n),
    formatNumber(r.mean),
    interval(r.ci_low, r.ci_high),
    formatNumber(r.t),
    formatNumber(r.p_t, "p"),
    formatNumber(r.p_wilcoxon, "p"),
    formatNumber(r.p_perm, "p"),
    formatNumber(r.d_z),
    interval(r.d_z_ci_low, r.d_z_ci_high),
    formatNumber(r.g_z),
    formatNumber(r.p_adj, "p"),
    r.significant ? "*" : r.significant_naive ? "(naive)" : "",
  ]);
  const out = [
    textTable(
      headers,
      rows,
      headers.map((_, j) => (j === 0 ? "left" : "right")),
    ),
  ];
  const testName = { t: "one-sample t", wilcoxon: "Wilcoxon signed-rank", perm: "sign-flip permutation" }[
    report.test
  ];
  const correctionName = {
    bh: "Benjamini-Hochberg",
    by: "Benjamini-Yekutieli",
    holm: "Holm",
    bonferroni: "Bonferroni",
    none: "no correction",
  }[report.correction];
  out.push(
    "",
    `p_adj: ${testName} p-values, ${correctionName}; * = p_adj < ${report.alpha}, (naive) = only the unadjusted p < ${report.alpha}.`,
    `Significant: ${report.counts.corrected} of ${report.counts.total} corrected, ${report.counts.naive} naive. ` +
      `BCa CIs from ${report.resamples} resamples, seed ${report.seed}.`,
  );
  const notes = report.tests.filter((r) => r.notes.length > 0);
  if (notes.length > 0) {
    out.push('Notes ("-" marks a value that is undefined):');
    for (const r of notes) out.push(`  ${r.name}: ${r.notes.join("; ")}`);
  }
  return `${out.join("\n")}\n`;
}

/** A sweep's `effects-long` file given where a `unit-table` is expected: say so, and how to pivot. */
function rejectEffectsLong(text: string, file: string): void {
  const header = text
    .replace(/^\uFEFF/, "")
    .split(/\r?\n/, 1)[0]
    .split(",");
  if (EFFECTS_LONG_COLUMNS.slice(0, 3).every((name, j) => header[j]?.trim() === name)) {
    throw inputError("this is an effects-long file (one line per pair × component, as sweep writes it)", {
      file,
      line: 1,
      hint:
        "stats takes a unit-table: one row per unit (e.g. target), one column per component; " +
        "pivot the rows of one direction and metric (e.g. dp_true of direction denoise) into it",
    });
  }
}
