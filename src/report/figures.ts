import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import { writeFileAtomic } from "../atomic-write.js";
import type { StudyResults } from "../study/results-schema.js";
import { effectSizeSpec } from "./figures/effect-sizes.js";
import { headImportanceSpec } from "./figures/head-importance.js";
import { type PipelineStage, pipelineSpec } from "./figures/pipeline.js";
import { positionMapSpec } from "./figures/position-map.js";
import { sensitivityFigureSpecs } from "./figures/sensitivity.js";
import { CORRECTION_LABELS, effectLabel, percent, TEST_LABELS } from "./labels.js";
import { specToSvg, svgToPng } from "./render-figure.js";
import { robustnessFigureSpecs } from "./robustness-figures.js";

/**
 * The report's figures, built from results.json: which figures exist depends on what the study ran
 * (the timestep × head map only with a head × position sweep; fig2 baselines, fig3 stability and
 * fig5 null distribution only with the study's stability and baselines stages).
 */

export interface FigureSpec {
  /** File stem, e.g. "fig1-head-importance". */
  readonly id: string;
  readonly title: string;
  /** What the figure shows and how to read it (the report's caption and the image's alt text). */
  readonly caption: string;
  readonly spec: TopLevelSpec;
}

export interface ReportFigure extends Omit<FigureSpec, "spec"> {
  readonly svg: string;
  /** Paths written, relative to the run directory. */
  readonly files: { readonly svg: string; readonly png: string };
}

/**
 * The Vega-Lite specs of every figure these results support, in report order.
 *
 * @example
 * const specs = figureSpecs(results); // [{ id: "pipeline", ... }, { id: "fig1-head-importance", ... }, ...]
 */
export function figureSpecs(results: StudyResults): FigureSpec[] {
  const { plan } = results;
  const correction = CORRECTION_LABELS[plan.correction];
  const label = effectLabel(plan.metric);
  const headKinds = results.directions.flatMap((d) =>
    d.kinds.filter((k) => k.kind === "head").map((k) => ({ direction: d.direction, kind: k })),
  );
  const specs: FigureSpec[] = [
    {
      id: "pipeline",
      title: "The study pipeline",
      caption:
        "The stages this study ran, in order; each writes its output atomically and is skipped on --resume when done.",
      spec: pipelineSpec(pipelineStages(results)),
    },
  ];
  if (headKinds.length > 0) {
    specs.push({
      id: "fig1-head-importance",
      title: "Figure 1. Head importance",
      caption: `The ${label} when one head is patched, per layer and head, one panel per direction (never pooled). Filled diamond: significant after ${correction.name} correction across the family; open circle: significant only without correction. Colour scale centred on zero (blue: the patch lowers the metric, orange: raises it).`,
      spec: headImportanceSpec(
        headKinds.flatMap(({ direction, kind }) =>
          kind.components.map((c) => ({
            direction,
            layer: c.layer,
            head: c.head ?? 0,
            mean: c.mean,
            significant: c.significant_corrected,
            significantNaive: c.significant_naive,
          })),
        ),
        { effectLabel: label, correctionLabel: correction.short },
      ),
    });
    const rows = headKinds.flatMap(({ direction, kind }) =>
      kind.components.flatMap((c) =>
        c.d_z === null || c.d_z_ci.low === null || c.d_z_ci.high === null
          ? []
          : [
              {
                direction,
                name: c.name,
                dz: c.d_z,
                low: c.d_z_ci.low,
                high: c.d_z_ci.high,
                significant: c.significant_corrected,
              },
            ],
      ),
    );
    if (rows.length > 0) {
      const level = headKinds[0].kind.components[0]?.d_z_ci.level ?? 1 - plan.alpha;
      specs.push({
        id: "fig4-effect-sizes",
        title: "Figure 4. Effect sizes",
        caption: `Cohen's d_z (mean effect divided by the standard deviation of the per-unit effects) per head with its ${percent(level)} noncentral-t confidence interval. Filled diamond: significant after ${correction.name} correction (${TEST_LABELS[plan.test]}). Heads whose d_z is undefined (constant effects) are left out.`,
        spec: effectSizeSpec(rows, { level, correctionLabel: correction.short }),
      });
    }
  }
  const maps = results.directions.flatMap((d) =>
    d.kinds.flatMap((k) => (k.map === undefined ? [] : [{ direction: d.direction, map: k.map }])),
  );
  if (maps.length > 0) {
    specs.push({
      id: "head-position-map",
      title: "Timestep × head map",
      caption: `The ${label} when one head is patched at one time step only (the head × position sweep), per direction. Black dot: significant after ${correction.name} correction across the map's cells (the map is its own family). Grey: the step is padding in every pair, so it was never patched (not applicable).${subsampleNote(plan.head_position_units)}`,
      spec: positionMapSpec(
        maps.flatMap(({ direction, map }) =>
          map.cells.map((c) => ({
            direction,
            head: `L${c.layer}H${c.head}`,
            position: c.position,
            mean: c.mean,
            significant: c.significant_corrected,
          })),
        ),
        { effectLabel: label, correctionLabel: correction.short },
      ),
    });
  }
  specs.push(...robustnessFigureSpecs(results), ...sensitivityFigureSpecs(results));
  return specs;
}

/**
 * Render every figure to `<outDir>/<id>.svg` and `.png` (each written atomically) and return them
 * with their SVG text for the report.
 *
 * @example
 * const figures = await renderFigures(results, "runs/jv/figures");
 */
export async function renderFigures(results: StudyResults, outDir: string): Promise<ReportFigure[]> {
  mkdirSync(outDir, { recursive: true });
  const out: ReportFigure[] = [];
  for (const { spec, ...figure } of figureSpecs(results)) {
    const svg = await specToSvg(spec);
    writeFileAtomic(join(outDir, `${figure.id}.svg`), svg);
    writeFileAtomic(join(outDir, `${figure.id}.png`), svgToPng(svg));
    out.push({ ...figure, svg, files: { svg: `figures/${figure.id}.svg`, png: `figures/${figure.id}.png` } });
  }
  return out;
}

/** The stages this study ran, with one or two lines of what each produced. */
export function pipelineStages(results: StudyResults): PipelineStage[] {
  const { data, model, pairs, plan } = results;
  const kinds = [...new Set(results.directions.flatMap((d) => d.kinds.map((k) => k.kind)))];
  const pairCounts = pairs.by_direction.map((p) => `${p.n_pairs} ${p.direction}`).join(" + ");
  const optional = (["stability", "baselines", "diagnostics", "sensitivity", "reproduction"] as const)
    .filter((s) => results[s] !== undefined)
    .map((s) => ({
      name: s,
      detail: [s === "reproduction" ? "published table re-computed" : "see its section"],
    }));
  return [
    {
      name: "data",
      detail: [
        data.name,
        `${data.splits[data.analysis_split] ?? "?"} ${data.analysis_split} rows, ${data.channels} channels`,
      ],
    },
    {
      name: "model",
      detail: [model.origin, `${model.architecture.layers} layers × ${model.architecture.heads} heads`],
    },
    {
      name: "evaluation",
      detail: [
        `accuracy ${model.accuracy.toFixed(3)}`,
        `${model.n_misclassified} of ${model.n_evaluated} misclassified`,
      ],
    },
    { name: "pairs", detail: [pairs.strategy, pairCounts === "" ? "none" : `${pairCounts} pairs`] },
    {
      name: "sweeps",
      detail: [kinds.join(", ").replace("head_position", "head × position"), `head mode ${plan.head_mode}`],
    },
    {
      name: "statistics",
      detail: [
        `${TEST_LABELS[plan.test].replace(/ test$/, "")}, ${CORRECTION_LABELS[plan.correction].short}`,
        `BCa, ${plan.bootstrap_resamples} resamples`,
      ],
    },
    ...optional,
    { name: "figures", detail: ["SVG + PNG"] },
    { name: "report", detail: ["report.html"] },
  ];
}

/** The map's units when `--max-position-units` subsampled them (nothing when every unit was swept). */
function subsampleNote(units: StudyResults["plan"]["head_position_units"]): string {
  if (units === undefined) return "";
  const parts = Object.entries(units.by_direction)
    .filter(([, u]) => u.sampled < u.of)
    .map(([d, u]) => `${d} ${u.sampled} of ${u.of}`);
  return parts.length === 0
    ? ""
    : ` Computed on a class-stratified random subsample of units (${parts.join(", ")}; seed ${units.seed}; see Methods).`;
}
