import type { TopLevelSpec } from "vega-lite";
import type { StudyResults } from "../../study/results-schema.js";
import { FIGURE_CONFIG, legendTitle, SEQUENTIAL_SCHEME } from "../figure-theme.js";
import type { FigureSpec } from "../figures.js";
import { percent } from "../labels.js";

/** The agreement of two variants' head rankings in one direction (each unordered pair once). */
export interface SensitivityCell {
  readonly direction: string;
  readonly a: string;
  readonly b: string;
  readonly rho: number;
  readonly low: number | null;
  readonly high: number | null;
}

/** Cells whose fill is darker than this ρ get white text (viridis is dark at its low end). */
const DARK_BELOW = 0.25;

/**
 * The variant × variant heatmap of head-ranking agreement: Spearman ρ as fill (viridis over
 * [−1, 1], monotone in lightness, so it reads in greyscale and with colour-vision deficiencies)
 * and as text with its CI in every cell; one panel per direction, the variants in `order`.
 *
 * @example
 * const spec = sensitivitySpec(cells, ["misclassified · dp_true", "misclassified · kl"], { level: 0.95 });
 */
export function sensitivitySpec(
  cells: readonly SensitivityCell[],
  order: readonly string[],
  options: { readonly level: number },
): TopLevelSpec {
  // Both halves of the symmetric matrix, and the diagonal (a ranking agrees with itself).
  const values = cells.flatMap((c) => {
    const label = c.rho.toFixed(2);
    const ci = c.low === null || c.high === null ? "[n/a]" : `[${c.low.toFixed(2)}, ${c.high.toFixed(2)}]`;
    const dark = c.rho < DARK_BELOW;
    return [
      { direction: c.direction, a: c.a, b: c.b, rho: c.rho, label, ci, dark },
      { direction: c.direction, a: c.b, b: c.a, rho: c.rho, label, ci, dark },
    ];
  });
  const directions = [...new Set(cells.map((c) => c.direction))];
  for (const d of directions) {
    const names = new Set(cells.filter((c) => c.direction === d).flatMap((c) => [c.a, c.b]));
    for (const name of order.filter((n) => names.has(n))) {
      values.push({ direction: d, a: name, b: name, rho: 1, label: "1", ci: "", dark: false });
    }
  }
  const axis = { labelLimit: 400 } as const;
  const encoding = {
    x: {
      field: "b",
      type: "nominal",
      sort: [...order],
      title: "variant (pair strategy · metric)",
      axis: { ...axis, labelAngle: -40 },
    },
    // The rows are the same variants as the columns (one title, on x, says so); without a second
    // title and with the legend on top the matrix keeps the width its CI text needs.
    // Row labels on two lines (strategy, metric): vega sizes the margin by an estimate of the
    // label width well above the real one, and the narrower margin lets the cells keep their size.
    y: {
      field: "a",
      type: "nominal",
      sort: [...order],
      title: null,
      axis: { ...axis, labelExpr: "[split(datum.label, ' · ')[0] + ' ·', split(datum.label, ' · ')[1]]" },
    },
  } as const;
  const textColour = { condition: { test: "datum.dark", value: "white" }, value: "black" } as const;
  const layer = [
    {
      mark: { type: "rect", stroke: "white", strokeWidth: 1 },
      encoding: {
        color: {
          field: "rho",
          type: "quantitative",
          title: legendTitle("Spearman ρ (rank correlation)"),
          scale: { scheme: SEQUENTIAL_SCHEME, domain: [-1, 1] },
          legend: { orient: "top", direction: "horizontal", gradientLength: 240 },
        },
        tooltip: [
          { field: "a", title: "variant a" },
          { field: "b", title: "variant b" },
          { field: "rho", format: ".3f", title: "ρ" },
        ],
      },
    },
    // ρ above its CI: two text marks, so the CI can be a size smaller than ρ yet still readable.
    {
      mark: { type: "text", fontSize: 12, baseline: "middle", dy: -7 },
      encoding: { text: { field: "label", type: "nominal" }, color: textColour },
    },
    {
      mark: { type: "text", fontSize: 10, baseline: "middle", dy: 8 },
      encoding: { text: { field: "ci", type: "nominal" }, color: textColour },
    },
  ] as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "Agreement of the head rankings between analysis variants",
      subtitle: `Spearman ρ (top) with its ${percent(options.level)} bootstrap CI over units (below); heads ranked by |mean|, KL to the source by its smallest mean`,
    },
    // One panel per direction, each with its own variants (a strategy without pairs in a direction
    // leaves no empty row), and one shared colour scale.
    vconcat: directions.map((direction) => ({
      title: { text: `${direction} direction`, fontSize: 12, fontWeight: "normal" },
      data: { values: values.filter((v) => v.direction === direction) },
      width: { step: 80 },
      height: { step: 40 },
      encoding,
      layer: [...layer],
    })),
    resolve: { scale: { color: "shared" } },
    config: FIGURE_CONFIG,
    // Vega-Lite's types reject the `as const` encodings shared by the panels; the spec is checked when rendered.
  } as TopLevelSpec;
}

/**
 * The sensitivity figure for results that carry the sensitivity section (none otherwise).
 *
 * @example
 * const specs = sensitivityFigureSpecs(results);
 */
export function sensitivityFigureSpecs(results: StudyResults): FigureSpec[] {
  const s = results.sensitivity;
  const cells = (s?.agreement ?? []).flatMap((a) =>
    a.rho.estimate === null
      ? []
      : [
          {
            direction: a.direction,
            a: a.a,
            b: a.b,
            rho: a.rho.estimate,
            low: a.rho.ci.low,
            high: a.rho.ci.high,
          },
        ],
  );
  if (s === undefined || cells.length === 0) return [];
  const order = [...new Set(s.variants.map((v) => v.name))];
  return [
    {
      id: "fig6-sensitivity",
      title: "Figure 6. Sensitivity of the head ranking to the metric and the pair strategy",
      caption: `Each cell compares the head rankings of two analysis variants (rows and columns: pair strategy · metric; the plan is ${s.plan_variant}): Spearman ρ of the head rankings (by |mean| effect; KL to the source, a distance left after patching, by its smallest mean), with its ${percent(s.agreement[0].rho.ci.level)} bootstrap CI over units. Light cells (ρ near 1): the two choices find the same heads; dark cells (ρ near 0 or below): the conclusion depends on the choice. Variants with no pairs are left out (see the table).`,
      spec: sensitivitySpec(cells, order, { level: s.agreement[0].rho.ci.level }),
    },
  ];
}
