import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { inputError } from "../../errors.js";
import { isEffectsLongHeader, parseEffectsLong } from "../../patching/effects-long.js";
import {
  analyzeEffectsAsync,
  type EffectStats,
  type EffectsReport,
  type TestName,
} from "../../stats/analyze-effects.js";
import type { Correction } from "../../stats/multiplicity.js";
import { parseUnitTable, type UnitTableColumn } from "../../stats/unit-table.js";
import { componentColumns } from "../../study/analysis.js";
import { METRIC_COLUMNS } from "../../study/config.js";
import { STUDY_METRICS, type StudyComponentKind, type StudyMetric } from "../../study/results-schema.js";
import { type CommandContext, printJson } from "../context.js";
import { csvCell } from "../csv.js";
import { parseNumericFlag } from "../numeric-flag.js";
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
  metric?: string;
  direction?: string;
  component?: string;
}

/** Each resample costs one pass over every column; beyond this the run would take hours. */
const MAX_RESAMPLES = 10_000_000;
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
    .option("--metric <metric>", `sweep's long table: effect metric (${STUDY_METRICS.join("|")})`)
    .option("--direction <dir>", "sweep's long table: denoise or noise (never pooled)")
    .option(
      "--component <kind>",
      "sweep's long table: head, attn or mlp (head rows with a position: the head × time-step cells)",
    )
    .option("--json", "print JSON")
    .option("--csv", "print CSV")
    .action(async (file: string, flags: StatsFlags) => {
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
      const columns = isEffectsLongHeader(text.split(/\r?\n/, 1)[0])
        ? longColumns(text, file, flags)
        : wideColumns(text, file, flags);
      const bar = progressBar(ctx.io, "stats", {
        unit: "steps",
        quiet: flags.json || flags.csv ? !ctx.io.isTTY : false,
      });
      const report = await analyzeEffectsAsync(columns, {
        ...options,
        onProgress: bar,
        signal: ctx.signal,
      }).finally(() => bar.finish());
      if (flags.json) printJson(ctx, toJson(report));
      else if (flags.csv) ctx.io.stdout(toCsv(report));
      else ctx.io.stdout(toTable(report));
    });
}

const LONG_FLAGS = "--metric, --direction and --component";

function wideColumns(text: string, file: string, flags: StatsFlags): UnitTableColumn[] {
  if (flags.metric !== undefined || flags.direction !== undefined || flags.component !== undefined) {
    throw inputError(`${LONG_FLAGS} apply to a sweep's long effects table, and this file is a wide one`, {
      file,
      hint: "drop those flags: each column of a wide table is one hypothesis",
    });
  }
  return parseUnitTable(text, file);
}

/**
 * A sweep's long table, pivoted the way a study does: one column per component, one row per
 * unit (the misclassified input: denoise target / noise source, effects averaged over its pairs).
 */
function longColumns(text: string, file: string, flags: StatsFlags): UnitTableColumn[] {
  if (flags.metric === undefined || flags.direction === undefined || flags.component === undefined) {
    throw inputError(`this is a sweep's long effects table: say what to test with ${LONG_FLAGS}`, {
      file,
      hint: "e.g. --metric dp_true --direction denoise --component head",
    });
  }
  const metric = flags.metric as StudyMetric;
  if (!STUDY_METRICS.includes(metric)) {
    throw inputError(`unknown --metric "${flags.metric}"`, {
      field: "--metric",
      hint: `use one of ${STUDY_METRICS.join(", ")}`,
    });
  }
  if (flags.direction !== "denoise" && flags.direction !== "noise") {
    throw inputError(`unknown --direction "${flags.direction}"`, {
      field: "--direction",
      hint: "use denoise or noise; the two directions answer different questions and are never pooled",
    });
  }
  const kinds: Record<string, StudyComponentKind> = { head: "head", attn: "layer", mlp: "mlp" };
  if (!(flags.component in kinds)) {
    throw inputError(`--component ${flags.component} is not supported here`, {
      field: "--component",
      hint: "use head, attn or mlp",
    });
  }
  const lines = parseEffectsLong(text, file).filter((l) => l.component === flags.component);
  const kind =
    kinds[flags.component] === "head" && lines.some((l) => l.position !== null)
      ? "head_position"
      : kinds[flags.component];
  const columns = componentColumns(lines, kind, flags.direction, METRIC_COLUMNS[metric]).map((c) => ({
    name: c.name,
    values: c.units,
  }));
  if (columns.length === 0) {
    throw inputError(
      `no ${flags.component} rows with a ${flags.metric} value in the ${flags.direction} direction`,
      {
        file,
        hint: "check --component and --direction against the file's component and direction columns",
      },
    );
  }
  const short = columns.find((c) => c.values.length < 2);
  if (short !== undefined) {
    throw inputError(`component ${short.name} has ${short.values.length} unit; at least 2 are needed`, {
      file,
      hint: "sweep more pairs (more targets)",
    });
  }
  return columns;
}

function validateFlags(flags: StatsFlags): {
  alpha: number;
  correction: Correction;
  test: TestName;
  resamples: number;
  seed: number;
} {
  if (flags.json && flags.csv) throw inputError("--json and --csv exclude each other", { hint: "pick one" });
  const alpha = parseNumericFlag(flags.alpha, {
    flag: "--alpha",
    above: 0,
    below: 1,
    hint: "e.g. --alpha 0.05",
  });
  if (!CORRECTIONS.includes(flags.correction as Correction)) {
    throw inputError(`unknown --correction "${flags.correction}"`, {
      hint: `use one of ${CORRECTIONS.join(", ")}`,
    });
  }
  if (!TESTS.includes(flags.test as TestName)) {
    throw inputError(`unknown --test "${flags.test}"`, { hint: `use one of ${TESTS.join(", ")}` });
  }
  const resamples = parseNumericFlag(flags.resamples, {
    flag: "--resamples",
    integer: true,
    min: 100,
    max: MAX_RESAMPLES,
    hint: "e.g. --resamples 10000",
  });
  const seed = parseNumericFlag(flags.seed, { flag: "--seed", integer: true, min: 0, hint: "e.g. --seed 0" });
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
