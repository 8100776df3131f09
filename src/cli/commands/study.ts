import { resolve } from "node:path";
import type { Command } from "commander";
import { inputError } from "../../errors.js";
import { DEFAULT_SESOI, type EffectMetricName, untestableMetric } from "../../stats/importance.js";
import { defaultStudyConfig, METRIC_COLUMNS, quickScale, type StudyConfig } from "../../study/config.js";
import { type FinalStage, runStudy, type Shard } from "../../study/pipeline.js";
import {
  COMPONENT_KINDS,
  type SensitivitySection,
  STUDY_CORRECTIONS,
  STUDY_METRICS,
  STUDY_TESTS,
  type StudyComponentKind,
  type StudyMetric,
  type StudyResults,
} from "../../study/results-schema.js";
import {
  type ArchitectureFlags,
  addArchitectureOptions,
  parseArchitectureFlags,
} from "../architecture-flags.js";
import { type CommandContext, printJson } from "../context.js";
import { MEMORY_BUDGET_OPTION, memoryBudget, patchedRunCost, planMemory } from "../memory-plan.js";
import { formatSeconds, progressBar } from "../progress.js";

export interface StudyFlags extends ArchitectureFlags {
  dataset?: string;
  data?: string;
  split: string;
  model: string;
  strategy: string;
  direction: string;
  metric: string;
  test: string;
  correction: string;
  headMode: string;
  kinds: string;
  seeds: string;
  maxSources?: string;
  maxPositionUnits?: string;
  maxTargetsPerClass?: string;
  epochs?: string;
  resamples?: string;
  sesoi?: string;
  memoryBudget?: string;
  out?: string;
  quick?: boolean;
  sensitivity?: boolean;
  stability?: boolean;
  baselines?: boolean;
  resume?: boolean;
  shard?: string;
  pairsFile?: string;
  poolDirections?: boolean;
  family: string;
  dataDir?: string;
  offline?: boolean;
  quiet?: boolean;
  json?: boolean;
  /** Set by --no-report (commander stores it as `report: false`). */
  report?: boolean;
  noReport?: boolean;
}

/** The last stage: figures, tables and report.html drawn from results.json. */
export const REPORT_STAGE: FinalStage = {
  name: "report",
  async run(out, results) {
    const { writeReportFrom } = await import("../../report/write-report.js");
    await writeReportFrom(results, out);
  },
};

const KIND_FLAGS: Record<string, StudyComponentKind> = {
  heads: "head",
  layers: "layer",
  mlps: "mlp",
  "head-pos": "head_position",
};

/**
 * `tspatch study`: the whole analysis in one command (data → model → evaluation → pairs →
 * sweeps → statistics → results.json), resumable, with a summary on stdout.
 *
 * @example
 * await runCli(["study", "--quick", "--out", "runs/jv"], memoryIO());
 */
export function register(program: Command, ctx: CommandContext): void {
  const command = program
    .command("study")
    .description(
      "The whole analysis: train (or load) a model, build pairs, sweep heads, layers, MLPs and head × time step, " +
        "test every component under a fixed analysis plan, and write results.json",
    )
    .option("--dataset <name|file>", "dataset name or TRAIN/TEST file (default JapaneseVowels, bundled)")
    .option("--data <name|file>", "same as --dataset")
    .option("--split <split>", "split analysed (test|train)", "test")
    .option(
      "--model <train|dir|file.pth>",
      "train a fresh model, or a model directory, or a .pth checkpoint",
      "train",
    )
    .option("--strategy <name>", "pair strategy: misclassified|cross-class|noised", "misclassified")
    .option("--direction <dir>", "denoise|noise|both (each analysed separately)", "both")
    .option(
      "--metric <metric>",
      `effect metric: ${STUDY_METRICS.filter((m) => m !== "kl").join("|")} (kl is a distance, never negative: it is ranked in the sensitivity section, not tested)`,
      "dp_true",
    )
    .option("--test <test>", `test deciding significance: ${STUDY_TESTS.join("|")}`, "t")
    .option("--correction <method>", `multiple-testing correction: ${STUDY_CORRECTIONS.join("|")}`, "bh")
    .option("--head-mode <mode>", "z (true heads) or slice (the published study's compatibility mode)", "z")
    .option(
      "--kinds <list>",
      "component kinds swept: heads,layers,mlps,head-pos",
      "heads,layers,mlps,head-pos",
    )
    .option("--seeds <list>", "seeds for training, pairs and statistics (one value: all three)", "0")
    .option("--max-sources <n>", "sources per target (default 5; --quick 2)")
    .option(
      "--max-position-units <n|all>",
      "units per direction the head × time-step sweep runs on: a seeded subsample stratified by class above n (default 100; all: every unit)",
    )
    .option("--max-targets-per-class <n>", "targets per class (default all; --quick 1)")
    .option("--epochs <n>", "training epochs (default 100; --quick 3)")
    .option("--resamples <n>", "bootstrap and permutation resamples (default 10000; --quick 200)")
    .option(
      "--sesoi <x>",
      `smallest effect size of interest in the metric's units, for the important/negligible/inconclusive status (default per metric: ${STUDY_METRICS.map((m) => `${m} ${DEFAULT_SESOI[METRIC_COLUMNS[m] as EffectMetricName]}`).join(", ")})`,
    )
    .option(...MEMORY_BUDGET_OPTION)
    .option("--out <dir>", "output directory (default runs/<dataset>)")
    .option("--quick", "a small study (few epochs, pairs and resamples), for trying it out and for tests")
    .option(
      "--sensitivity",
      "also analyse the heads under every metric (dp_true, logit_diff, recovery, kl) and pair strategy (misclassified, cross-class, noised), with the agreement of their rankings, as a sensitivity section beside the plan (default: on; off under --quick and with the compatibility switches)",
    )
    .option("--no-sensitivity", "leave the sensitivity stage out")
    .option(
      "--stability",
      "also test the head ranking's stability under input perturbations and unit resampling (--quick: one perturbation)",
    )
    .option(
      "--baselines",
      "also compare attention, attribution patching and integrated gradients with exact patching, and run the random-patching null",
    )
    .option("--resume", "continue the study in --out, skipping finished stages")
    .option("--shard <i/n>", "run only the pairs of shard i of n (0-based); combine with tspatch merge")
    .option("--pairs-file <file.csv>", "compatibility: the published study's pairs (source,target columns)")
    .option(
      "--pool-directions",
      "compatibility: analyse denoise and noise pairs together, as the published study",
    )
    .option(
      "--family <scope>",
      "per-direction, or pooled (compatibility; needs --pool-directions)",
      "per-direction",
    )
    .option("--data-dir <dir>", "search this directory for datasets first")
    .option("--offline", "never download datasets")
    .option("--quiet", "no progress bars")
    .option("--no-report", "skip the figures and report.html (results.json and the tables only)")
    .option("--json", "print the summary as JSON");
  addArchitectureOptions(command).action(async (flags: StudyFlags) => {
    const started = performance.now();
    flags.noReport = flags.report === false;
    const config = studyConfig(flags, ctx.io.cwd);
    const shard = flags.shard === undefined ? null : parseShard(flags.shard);
    const out = resolve(ctx.io.cwd, flags.out ?? `runs/${outName(config.dataset)}`);
    // Only an explicit budget changes the runtime batches: the default depends on free memory.
    const budget = flags.memoryBudget === undefined ? null : memoryBudget(flags.memoryBudget);
    const run = await runStudy({
      config,
      out,
      resume: flags.resume,
      shard,
      data: {
        cwd: ctx.io.cwd,
        env: ctx.io.env,
        dataDir: flags.dataDir,
        download: flags.offline ? false : undefined,
      },
      signal: ctx.signal,
      progress: (stage, unit) => progressBar(ctx.io, stage, { unit, quiet: flags.quiet }),
      log: flags.quiet ? undefined : (line) => ctx.io.stderr(`study: ${line}\n`),
      warn: (line) => ctx.io.stderr(`${line}\n`),
      trainMemoryBudget: budget?.bytes,
      memoryPlan:
        budget === null
          ? undefined
          : (model, masked) => planMemory(model, patchedRunCost(model, masked), budget, 256),
      finalStages: flags.noReport ? [] : [REPORT_STAGE],
    });
    const seconds = (performance.now() - started) / 1000;
    if (run.results === null) {
      const summary = { out, shard: flags.shard, stages: run.timings, seconds: Number(seconds.toFixed(3)) };
      if (flags.json) printJson(ctx, summary);
      else
        ctx.io.stdout(
          `shard ${flags.shard} done in ${formatSeconds(seconds)}: ${out}\nmerge the shards with: tspatch merge <shard dirs> --out <dir>\n`,
        );
      return;
    }
    if (flags.json) printJson(ctx, summaryJson(run.results, out, seconds));
    else ctx.io.stdout(summaryText(run.results, out, seconds));
  });
}

/** The configuration from the flags: the plan's defaults, `--quick`'s scale, then explicit flags. */
export function studyConfig(flags: StudyFlags, cwd: string): StudyConfig {
  let config = defaultStudyConfig();
  if (flags.quick) config = quickScale(config);
  const dataset = flags.dataset ?? flags.data ?? config.dataset;
  const choice = <T extends string>(value: string, choices: readonly T[], field: string): T => {
    if (!choices.includes(value as T)) {
      throw inputError(`unknown value "${value}"`, { field, hint: `use one of: ${choices.join(", ")}` });
    }
    return value as T;
  };
  const integer = (value: string | undefined, field: string, min: number, fallback: number): number => {
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value.trim()) || Number(value) < min) {
      throw inputError(`${field} must be an integer ≥ ${min}, got "${value}"`, { field });
    }
    return Number(value);
  };
  const seeds = flags.seeds.split(",").map((s) => integer(s, "--seeds", 0, 0));
  if (seeds.length > 3) {
    throw inputError(`--seeds takes up to three values (training, pairs, statistics), got ${seeds.length}`, {
      field: "--seeds",
      hint: "e.g. --seeds 0,1,2",
    });
  }
  const kinds = flags.kinds.split(",").map((k) => {
    const kind = KIND_FLAGS[k.trim()];
    if (kind === undefined) {
      throw inputError(`unknown component kind "${k}"`, {
        field: "--kinds",
        hint: `use: ${Object.keys(KIND_FLAGS).join(", ")}`,
      });
    }
    return kind;
  });
  const family = choice(flags.family, ["per-direction", "pooled"] as const, "--family");
  if (family === "pooled" && !flags.poolDirections) {
    throw inputError("--family pooled needs --pool-directions", {
      field: "--family",
      hint: "directions are analysed separately; pooling them is a compatibility switch: add --pool-directions",
    });
  }
  const model = flags.model === "train" ? "train" : resolve(cwd, flags.model);
  const strategy = choice(flags.strategy, ["misclassified", "cross-class", "noised"] as const, "--strategy");
  const direction = choice(flags.direction, ["denoise", "noise", "both"] as const, "--direction");
  if (flags.poolDirections && direction !== "both") {
    throw inputError("--pool-directions needs --direction both", { field: "--pool-directions" });
  }
  return {
    ...config,
    dataset: isPath(dataset) ? resolve(cwd, dataset) : dataset,
    split: choice(flags.split, ["test", "train"] as const, "--split"),
    model,
    strategy,
    direction,
    metric: testableStudyMetric(choice(flags.metric, STUDY_METRICS, "--metric")),
    test: choice(flags.test, STUDY_TESTS, "--test"),
    correction: choice(flags.correction, STUDY_CORRECTIONS, "--correction"),
    headMode: choice(flags.headMode, ["z", "slice"] as const, "--head-mode"),
    kinds: COMPONENT_KINDS.filter((k) => kinds.includes(k)),
    seeds: { train: seeds[0], pairs: seeds[1] ?? seeds[0], stats: seeds[2] ?? seeds[0] },
    maxSourcesPerTarget: integer(flags.maxSources, "--max-sources", 1, config.maxSourcesPerTarget),
    maxPositionUnits: positionUnitsFlag(flags.maxPositionUnits, config.maxPositionUnits),
    maxTargetsPerClass:
      flags.maxTargetsPerClass === undefined
        ? config.maxTargetsPerClass
        : integer(flags.maxTargetsPerClass, "--max-targets-per-class", 1, 0),
    training: {
      ...config.training,
      epochs: integer(flags.epochs, "--epochs", 1, config.training.epochs),
      ...trainedArchitecture(flags, model),
    },
    bootstrapResamples: integer(flags.resamples, "--resamples", 100, config.bootstrapResamples),
    pairsFile: flags.pairsFile === undefined ? null : resolve(cwd, flags.pairsFile),
    sesoi: parseSesoi(flags.sesoi),
    poolDirections: flags.poolDirections ?? false,
    familyPooled: family === "pooled",
    sensitivity: sensitivityChoice(flags, config.sensitivity),
    stability: flags.stability ?? false,
    baselines: flags.baselines ?? false,
  };
}

/** The sensitivity stage: asked for, refused, or the default (never with the compatibility switches). */
function sensitivityChoice(flags: StudyFlags, fallback: boolean): boolean {
  const compatibility = flags.pairsFile !== undefined || flags.poolDirections === true;
  if (flags.sensitivity === true && compatibility) {
    throw inputError("--sensitivity does not apply to the published study's compatibility switches", {
      field: "--sensitivity",
      hint: "drop --pairs-file / --pool-directions, or --sensitivity",
    });
  }
  return flags.sensitivity ?? (fallback && !compatibility);
}

/** `--max-position-units`: a positive integer, or `all` (null: every unit). */
function positionUnitsFlag(value: string | undefined, fallback: number | null): number | null {
  if (value === undefined) return fallback;
  if (value.trim() === "all") return null;
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < 1) {
    throw inputError(`--max-position-units must be a positive integer or all, got "${value}"`, {
      field: "--max-position-units",
      hint: "e.g. --max-position-units 100 (the default), or all to sweep every unit",
    });
  }
  return n;
}

function parseSesoi(value: string | undefined): number | null {
  if (value === undefined) return null;
  const x = Number(value);
  if (value.trim() === "" || !Number.isFinite(x) || x <= 0) {
    throw inputError(`--sesoi must be a positive number, got "${value}"`, {
      field: "--sesoi",
      hint: "a distance from 0 in the metric's units below which an effect does not matter, e.g. --sesoi 0.01 for ΔP(true)",
    });
  }
  return x;
}

function isPath(value: string): boolean {
  return /[\\/]|\.(ts|arff)$/i.test(value);
}

function outName(dataset: string): string {
  return (dataset.split(/[\\/]/).pop() ?? dataset).replace(/(_(TRAIN|TEST))?\.(ts|arff)$/i, "");
}

export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (m === null || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) {
    throw inputError(`--shard must be i/n with 0 ≤ i < n, got "${text}"`, {
      field: "--shard",
      hint: "e.g. --shard 0/4 … --shard 3/4, then tspatch merge",
    });
  }
  return { index: Number(m[1]), count: Number(m[2]) };
}

function fmt(x: number | null, digits = 3): string {
  return x === null ? "—" : x.toFixed(digits);
}

/** The per-direction lines of the final summary. */
export function summaryText(results: StudyResults, out: string, seconds: number): string {
  const lines: string[] = [];
  const m = results.model;
  lines.push(
    `${results.data.name}: model accuracy ${fmt(m.accuracy)} (${m.n_evaluated - m.n_misclassified}/${m.n_evaluated}) on ${results.data.analysis_split}`,
  );
  lines.push(
    `plan: ${results.plan.metric}, ${results.plan.test} test, ${results.plan.correction} within each family, α = ${results.plan.alpha}, heads = ${results.plan.head_mode}${results.plan.sesoi === null ? "" : `, SESOI ±${results.plan.sesoi}`}`,
  );
  const warnings = results.diagnostics?.findings.filter((f) => f.severity !== "info") ?? [];
  if (warnings.length > 0) {
    lines.push(
      `diagnostics: ${warnings.length} warnings (${[...new Set(warnings.map((f) => f.code))].join(", ")}); see results.json "diagnostics"`,
    );
  }
  for (const d of results.directions) {
    const pairs = results.pairs.by_direction.find((p) => p.direction === d.direction);
    const nPairs =
      d.direction === "pooled"
        ? results.pairs.by_direction.reduce((s, p) => s + p.n_pairs, 0)
        : (pairs?.n_pairs ?? 0);
    lines.push("");
    lines.push(
      `${d.direction}: ${nPairs} pairs, ${d.n_units} units${pairs?.repeats ? " (inputs repeat across pairs; cluster CIs in results.json)" : ""}`,
    );
    for (const k of d.kinds) {
      lines.push(
        `  ${k.kind}: ${k.counts.naive}/${k.counts.total} significant naive, ${k.counts.corrected}/${k.counts.total} corrected` +
          (k.counts.status === undefined
            ? ""
            : `; ${k.counts.status.important} important, ${k.counts.status.negligible} negligible, ${k.counts.status.inconclusive} inconclusive`),
      );
    }
    const sampled = results.plan.head_position_units;
    const units = sampled?.by_direction[d.direction];
    if (sampled !== undefined && units !== undefined && units.sampled < units.of) {
      lines.push(
        `  head × time step on ${units.sampled} of ${units.of} units, sampled with seed ${sampled.seed} (--max-position-units; all: every unit)`,
      );
    }
    const heads = d.kinds.find((k) => k.kind === "head");
    if (heads !== undefined) {
      for (const name of heads.top.slice(0, 3)) {
        const c = heads.components.find((x) => x.name === name);
        if (c === undefined) continue;
        lines.push(
          `    ${name}: mean ${fmt(c.mean, 4)} [${fmt(c.ci.low, 4)}, ${fmt(c.ci.high, 4)}], d_z ${fmt(c.d_z, 2)}, p_adj ${fmt(c.p_adj, 4)}${c.significant_corrected ? " *" : ""}`,
        );
      }
    }
  }
  if (results.sensitivity !== undefined) lines.push("", sensitivityLine(results.sensitivity));
  if (results.reproduction !== undefined) {
    const r = results.reproduction;
    lines.push("");
    lines.push(
      `reproduction (compatibility switches): ${r.counts.corrected}/${r.counts.total} heads significant after BH (published ${r.published.significant}/${r.published.total}), d(denoise vs noise) ${fmt(r.cohen_d_denoise_vs_noise, 2)}`,
    );
  }
  lines.push("");
  lines.push(`results: ${out}/results.json  (${formatSeconds(seconds)})`);
  return `${lines.join("\n")}\n`;
}

/** One line: per direction, how the other variants' head rankings agree with the plan's. */
export function sensitivityLine(s: SensitivitySection): string {
  const analysed = new Set(
    s.variants.filter((v) => v.counts !== null).map((v) => `${v.direction}:${v.name}`),
  );
  const parts = [...new Set(s.variants.map((v) => v.direction))].map((direction) => {
    const rhos = s.agreement
      .filter((a) => a.direction === direction && (a.a === s.plan_variant || a.b === s.plan_variant))
      .flatMap((a) =>
        a.rho.estimate === null ? [] : [{ rho: a.rho.estimate, other: a.a === s.plan_variant ? a.b : a.a }],
      )
      .sort((x, y) => x.rho - y.rho);
    if (rhos.length === 0) return `${direction}: no other variant`;
    const median = rhos[(rhos.length - 1) >> 1].rho;
    return `${direction} median ${median.toFixed(2)}, lowest ${rhos[0].rho.toFixed(2)} (${rhos[0].other})`;
  });
  return `sensitivity: ${analysed.size} variants analysed; head-ranking ρ with the plan (${s.plan_variant}): ${parts.join("; ")}`;
}

/** The summary as JSON (`--json`). */
export function summaryJson(results: StudyResults, out: string, seconds: number) {
  return {
    out,
    dataset: results.data.name,
    accuracy: results.model.accuracy,
    directions: results.directions.map((d) => ({
      direction: d.direction,
      units: d.n_units,
      kinds: Object.fromEntries(d.kinds.map((k) => [k.kind, { ...k.counts, top: k.top }])),
    })),
    reproduction: results.reproduction?.counts ?? null,
    seconds: Number(seconds.toFixed(3)),
  };
}

/** The architecture flags of a study that trains its model; refused when it loads one instead. */
function trainedArchitecture(
  flags: StudyFlags,
  model: string,
): Pick<StudyConfig["training"], "architecture"> {
  const architecture = parseArchitectureFlags(flags);
  const given = Object.keys(architecture);
  if (given.length === 0) return {};
  if (model !== "train") {
    throw inputError("architecture flags apply only when the study trains its model", {
      field: "--model",
      hint: "drop the architecture flags (the loaded model has its own), or use --model train",
    });
  }
  return { architecture };
}

/** The plan's metric, refused when a test against 0 means nothing for it (see untestableMetric). */
function testableStudyMetric(metric: StudyMetric): StudyMetric {
  const untestable = untestableMetric(METRIC_COLUMNS[metric] as EffectMetricName);
  if (untestable === null) return metric;
  throw inputError(`--metric ${metric} cannot be the plan's metric: ${untestable}`, {
    field: "--metric",
    hint: "choose dp_true, logit_diff (the change in logit difference) or recovery; KL appears in the sensitivity section, ranked by its smallest mean",
  });
}
