import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { MIN_UNITS } from "../../diagnostics/design.js";
import { inputError } from "../../errors.js";
import {
  analyzeEffectsAsync,
  type EffectStats,
  type EffectsReport,
  type TestName,
} from "../../stats/analyze-effects.js";
import { crossedRandomEffects } from "../../stats/crossed-effects.js";
import { classHeterogeneity } from "../../stats/heterogeneity.js";
import { DEFAULT_SESOI, type EffectMetricName, untestableMetric } from "../../stats/importance.js";
import type { Correction } from "../../stats/multiplicity.js";
import { parseUnitTable, type UnitTableColumn } from "../../stats/unit-table.js";
import {
  EFFECT_METRICS,
  isLongEffectsHeader,
  type LongEffectRow,
  parseLongEffects,
  type UnitChoice,
  type UnitTable,
  unitColumns,
  unitTable,
} from "../../stats/units.js";
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
  sesoi?: string;
  hierarchical?: boolean;
  direction?: string;
  metric?: string;
  unit: string;
  json?: boolean;
  csv?: boolean;
  component?: string;
}

/** Each resample costs one pass over every column; beyond this the run would take hours. */
const MAX_RESAMPLES = 10_000_000;

const UNITS: readonly UnitChoice[] = ["target", "pair", "cluster"];

const CORRECTIONS: readonly Correction[] = ["bh", "by", "holm", "bonferroni", "none"];
const TESTS: readonly TestName[] = ["t", "wilcoxon", "perm"];

/** The per-column fields, in the issue's order (CSV columns and JSON keys). */
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
  "p_tost",
  "p_tost_adj",
  "status",
  "fcr_ci_low",
  "fcr_ci_high",
  "hierarchical_rejected",
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
      "Test each column of an effects table (one row per unit, one column per hypothesis): mean, BCa CI, " +
        "t / Wilcoxon / sign-flip p-values, d_z and g_z, p-values corrected across columns, and a status: " +
        "important, negligible (equivalence test within ±SESOI) or inconclusive",
    )
    .argument(
      "<effects.csv>",
      "a unit table (header of hypothesis names; one row per unit; an empty cell is a missing value) " +
        "or the long CSV of `tspatch sweep` (averaged per unit first, see --unit)",
    )
    .option("--alpha <alpha>", "significance level; CIs are at 1 - alpha", "0.05")
    .option("--correction <method>", `multiple-testing correction: ${CORRECTIONS.join("|")}`, "bh")
    .option("--test <test>", `test whose p-values are corrected: ${TESTS.join("|")}`, "t")
    .option("--resamples <count>", "bootstrap and Monte Carlo permutation resamples", "10000")
    .option("--seed <seed>", "random seed (bootstrap, permutations)", "0")
    .option(
      "--sesoi <value>",
      `smallest effect size of interest in the metric's units (default: ${EFFECT_METRICS.map((m) => `${m} ${DEFAULT_SESOI[m]}`).join(", ")})`,
    )
    .option(
      "--hierarchical",
      "also test layer → heads → positions hierarchically (Yekutieli 2008), beside flat",
    )
    .option("--direction <dir>", "long table: denoise or noise (never pooled)")
    .option("--metric <name>", `long table (required): ${EFFECT_METRICS.join("|")}`)
    .option(
      "--unit <unit>",
      "long table: target (average each patched input's pairs first; default), pair (every pair a unit) " +
        "or cluster (average each connected group of pairs sharing a source or target first)",
      "target",
    )
    .option(
      "--component <kind>",
      "long table: head, head-pos (head × time step), attn or mlp; the family is the components of that kind",
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
      const input = readEffects(text, file, flags);
      const units = input.units?.unitIds.length ?? Number.POSITIVE_INFINITY;
      if (units < MIN_UNITS) {
        ctx.io.stderr(
          `tspatch: warning [small-family] ${units} units (${input.units?.pairs} pairs) is fewer than ${MIN_UNITS}; every test and CI rests on ${units} values\n`,
        );
      }
      const sesoi = parseSesoi(flags.sesoi, input.units?.metric ?? null);
      const bar = progressBar(ctx.io, "stats", {
        unit: "steps",
        quiet: flags.json || flags.csv ? !ctx.io.isTTY : false,
      });
      const report = await analyzeEffectsAsync(input.columns, {
        ...options,
        sesoi,
        hierarchical: flags.hierarchical,
        onProgress: bar,
        signal: ctx.signal,
      }).finally(() => bar.finish());
      if (flags.hierarchical && report.hierarchical === null) {
        ctx.io.stderr(
          "tspatch: --hierarchical needs column names L{layer}H{head} or L{layer}H{head}P{position}; only the flat test was run\n",
        );
      }
      if (flags.json)
        printJson(ctx, toJson(report, input.units, dependenceByComponent(input.rows, input.units)));
      else if (flags.csv) ctx.io.stdout(toCsv(report));
      else ctx.io.stdout(toTable(report, input.units));
    });
}

/** A unit table as given, or the long sweep table averaged per unit. */
function readEffects(
  text: string,
  file: string,
  flags: StatsFlags,
): { columns: UnitTableColumn[]; units: UnitTable | null; rows: LongEffectRow[] } {
  const header = text.replace(/^\uFEFF/, "").split(/\r?\n/, 1)[0] ?? "";
  if (!isLongEffectsHeader(header)) {
    if (
      flags.metric !== undefined ||
      flags.component !== undefined ||
      flags.direction !== undefined ||
      flags.unit !== "target"
    ) {
      throw inputError(
        "--metric, --component, --direction and --unit apply to a sweep's long effects table, and this is a unit table",
        {
          file,
          hint: "drop those flags: each column of a unit table is one hypothesis",
        },
      );
    }
    return { columns: parseUnitTable(text, file), units: null, rows: [] };
  }
  if (flags.metric === undefined) {
    // The metric is part of the analysis plan: stated, never a silent default.
    throw inputError(
      "this is a sweep's long effects table: say what to test with --metric (and --direction, --component)",
      { file, field: "--metric", hint: "e.g. --metric dp_true --direction denoise --component head" },
    );
  }
  if (!EFFECT_METRICS.includes(flags.metric as EffectMetricName)) {
    throw inputError(`unknown --metric "${flags.metric}"`, {
      field: "--metric",
      hint: `use one of ${EFFECT_METRICS.join(", ")}`,
    });
  }
  const untestable = untestableMetric(flags.metric as EffectMetricName);
  if (untestable !== null) {
    throw inputError(`--metric ${flags.metric} cannot be tested as an effect: ${untestable}`, {
      file,
      field: "--metric",
      hint: "test a change: --metric dp_true, d_logit_diff or recovery",
    });
  }
  if (!UNITS.includes(flags.unit as UnitChoice)) {
    throw inputError(`unknown --unit "${flags.unit}"`, { hint: `use one of ${UNITS.join(", ")}` });
  }
  const rows = componentRows(parseLongEffects(text, file), flags.component, file);
  const directions = [...new Set(rows.map((r) => r.direction))];
  const direction = flags.direction ?? (directions.length === 1 ? directions[0] : undefined);
  if (direction === undefined) {
    throw inputError(
      `the table has both directions (${directions.join(", ")}); they answer different questions`,
      {
        file,
        field: "--direction",
        hint: "analyse one: --direction denoise or --direction noise",
      },
    );
  }
  const units = unitTable(rows, {
    direction,
    metric: flags.metric as EffectMetricName,
    unit: flags.unit as UnitChoice,
  });
  const columns = unitColumns(units);
  const short = columns.filter((c) => c.values.length < 2);
  if (short.length > 0) {
    throw inputError(`${short.length} component(s) have fewer than 2 units (e.g. ${short[0].name})`, {
      file,
      field: "--unit",
      hint: "use more pairs, or --unit pair to treat every pair as a unit",
    });
  }
  return { columns, units, rows };
}

/** The kind of a long table's component column name (L0H3, L0H3P7, L1attn, L2mlp, …). */
function componentKind(name: string): string {
  if (/^L\d+H\d+$/.test(name)) return "head";
  if (/^L\d+H\d+P\d+$/.test(name)) return "head-pos";
  if (/^L\d+attn$/.test(name)) return "attn";
  if (/^L\d+mlp$/.test(name)) return "mlp";
  return "other";
}

/**
 * The rows of one component kind: a family is the components of one kind (24 heads, or the head ×
 * time-step cells, …), never a mix, so a table with several kinds needs --component.
 */
function componentRows(rows: LongEffectRow[], component: string | undefined, file: string): LongEffectRow[] {
  const kinds = [...new Set(rows.map((r) => componentKind(r.component)))];
  if (component === undefined) {
    if (kinds.length <= 1) return rows;
    throw inputError(
      `the table has components of several kinds (${kinds.join(", ")}); a family is one kind`,
      {
        file,
        field: "--component",
        hint: `analyse one: --component ${kinds[0]}`,
      },
    );
  }
  const known = ["head", "head-pos", "attn", "mlp"];
  if (!known.includes(component)) {
    throw inputError(`unknown --component "${component}"`, {
      field: "--component",
      hint: `use one of ${known.join(", ")}`,
    });
  }
  const kept = rows.filter((r) => componentKind(r.component) === component);
  if (kept.length === 0) {
    throw inputError(`no ${component} rows in the table (it has ${kinds.join(", ")})`, {
      file,
      field: "--component",
      hint: `use one of ${kinds.join(", ")}`,
    });
  }
  return kept;
}

function parseSesoi(value: string | undefined, metric: EffectMetricName | null): number {
  if (value === undefined) return DEFAULT_SESOI[metric ?? "dp_true"];
  const sesoi = /^[+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!(Number.isFinite(sesoi) && sesoi > 0)) {
    throw inputError(`--sesoi must be a positive number, got "${value}"`, {
      field: "--sesoi",
      hint: "in the metric's units, e.g. --sesoi 0.01 for ΔP(true)",
    });
  }
  return sesoi;
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

interface ComponentDependence {
  crossed_mean: number | null;
  crossed_se: number | null;
  crossed_notes: readonly string[];
  heterogeneity_f: number | null;
  heterogeneity_p: number | null;
}

/**
 * Long tables only: the crossed source/target random-intercept mean and SE of each component
 * (pair level), and the one-way ANOVA of its unit effects across true classes.
 */
function dependenceByComponent(
  rows: readonly LongEffectRow[],
  units: UnitTable | null,
): Map<string, ComponentDependence> {
  const out = new Map<string, ComponentDependence>();
  if (units === null) return out;
  const byName = new Map<string, LongEffectRow[]>();
  for (const r of rows) {
    if (r.direction !== units.direction || Number.isNaN(r.metrics[units.metric])) continue;
    const list = byName.get(r.component) ?? [];
    list.push(r);
    byName.set(r.component, list);
  }
  units.names.forEach((name, j) => {
    const pairs = byName.get(name) ?? [];
    const crossed = crossedRandomEffects(
      pairs.map((r) => r.metrics[units.metric]),
      pairs.map((r) => r.source),
      pairs.map((r) => r.target),
    );
    const het = classHeterogeneity(units.values[j], units.labels);
    out.set(name, {
      crossed_mean: finiteOrNull(crossed.estimate),
      crossed_se: finiteOrNull(crossed.standardError),
      crossed_notes: crossed.notes,
      heterogeneity_f: finiteOrNull(het.statistic),
      heterogeneity_p: finiteOrNull(het.pvalue),
    });
  });
  return out;
}

function toJson(
  report: EffectsReport,
  units: UnitTable | null,
  dependence: Map<string, ComponentDependence> = new Map(),
): unknown {
  const h = report.hierarchical;
  return {
    alpha: report.alpha,
    correction: report.correction,
    test: report.test,
    estimand: report.estimand,
    wilcoxon_estimand: "pseudo-median",
    status_test: report.status_test,
    sesoi: report.sesoi,
    family: report.family,
    unit: units === null ? "one row of the input table" : units.unitDescription,
    direction: units?.direction ?? null,
    metric: units?.metric ?? null,
    pairs: units?.pairs ?? null,
    units: units?.unitIds.length ?? null,
    clusters: units?.unit === "cluster" ? units.unitIds.length : null,
    resamples: report.resamples,
    seed: report.seed,
    ci_method: `BCa, ${round((1 - report.alpha) * 100)}%`,
    fcr_level: finiteOrNull(report.fcr_level),
    fcr_ci_method: "t interval at level 1 - R*alpha/m for the R significant of m (Benjamini-Yekutieli 2005)",
    crossed_method:
      units === null
        ? null
        : "pair level: y = mu + source + target + e, random intercepts, REML (crossed_mean, crossed_se)",
    heterogeneity_method:
      units === null
        ? null
        : "one-way ANOVA of unit effects across true classes (heterogeneity_f, heterogeneity_p)",
    tests: report.tests.map((row) => {
      const out: Record<string, unknown> = {};
      for (const key of COLUMNS) {
        const value = row[key];
        out[key] = typeof value === "number" ? finiteOrNull(value) : value;
      }
      out.wilcoxon_method = row.wilcoxon_method;
      out.perm_method = row.perm_method;
      out.notes = row.notes;
      const extra = dependence.get(row.name);
      if (extra !== undefined) Object.assign(out, extra);
      return out;
    }),
    counts: report.counts,
    hierarchical:
      h === null
        ? null
        : {
            method: "Yekutieli 2008: BH at q on layers, then on heads within rejected layers, then positions",
            q: h.q,
            families_tested: h.familiesTested,
            discoveries: h.discoveries,
            fdr_approximation: h.fdrApproximation,
            fdr_bound: h.fdrBound,
            decisions: h.decisions.map((d) => ({
              name: d.name,
              family: d.family,
              pvalue: finiteOrNull(d.pvalue),
              pvalue_source: d.pvalueSource,
              adjusted: finiteOrNull(d.adjusted),
              tested: d.tested,
              rejected: d.rejected,
            })),
          },
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

function toTable(report: EffectsReport, units: UnitTable | null): string {
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
    "p_tost_adj",
    "status",
    `FCR ${Number.isNaN(report.fcr_level) ? "" : `${Number((report.fcr_level * 100).toPrecision(4))}% `}CI`,
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
    formatNumber(r.p_tost_adj, "p"),
    r.status,
    interval(r.fcr_ci_low, r.fcr_ci_high),
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
    `p_t, p_perm and the CIs are about the mean; p_wilcoxon tests the pseudo-median (a different estimand when effects are skewed).`,
    `Status (about the mean, ${report.status_test === "t" ? "t-test" : "sign-flip"} + TOST, ${correctionName} over ${report.family}; SESOI ±${report.sesoi}): ` +
      `${report.counts.important} important, ${report.counts.negligible} negligible, ${report.counts.inconclusive} inconclusive.`,
    `  important = zero rejected and |mean| > SESOI; negligible = equivalence within ±SESOI shown (TOST); inconclusive = neither.`,
    Number.isNaN(report.fcr_level)
      ? "FCR CIs: none (nothing significant)."
      : `FCR CIs: t intervals at ${Number((report.fcr_level * 100).toPrecision(4))}% (1 - R·alpha/m) for the ${report.counts.corrected} significant, Benjamini-Yekutieli 2005.`,
    `Unit: ${units === null ? "one row of the input table" : `${units.direction}, ${units.metric}: ${units.unitDescription}`}.`,
  );
  const h = report.hierarchical;
  if (h !== null) {
    const found = h.decisions.filter((d) => d.rejected).map((d) => d.name);
    out.push(
      `Hierarchical (Yekutieli 2008; BH at ${h.q} on layers, then heads within rejected layers, then positions): ` +
        `${h.discoveries} discoveries in ${h.familiesTested} families tested; estimated tree FDR ≤ ${formatNumber(h.fdrApproximation)} (bound ${formatNumber(h.fdrBound)}).`,
      `  ${found.length === 0 ? "none" : found.join(" ")}`,
    );
  }
  const notes = report.tests.filter((r) => r.notes.length > 0);
  if (notes.length > 0) {
    out.push('Notes ("-" marks a value that is undefined):');
    for (const r of notes) out.push(`  ${r.name}: ${r.notes.join("; ")}`);
  }
  return `${out.join("\n")}\n`;
}
