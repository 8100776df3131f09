import type { TopLevelSpec } from "vega-lite";
import { FIGURE_CONFIG } from "../figure-theme.js";

/** One head's random-patching null and its observed effect. */
export interface NullHistogram {
  readonly name: string;
  /** Observed mean |effect| over the pairs. */
  readonly observed: number;
  /** Empirical p of the observed effect against the null. */
  readonly p: number;
  /** The null statistic of each draw: mean |effect| over the pairs. */
  readonly nullMeans: readonly number[];
}

/**
 * Figure 5: histogram of the random-patching null (mean |effect| per draw) for each head shown (one panel per
 * head), with the observed mean |effect| as a vertical rule.
 *
 * @example
 * const spec = randomNullSpec([{ name: "L0H3", observed: 0.12, p: 0.02, nullMeans: [0.01, 0.03] }], { effectLabel: "|ΔP(true)| (probability)" });
 */
export function randomNullSpec(
  heads: readonly NullHistogram[],
  options: { readonly effectLabel: string },
): TopLevelSpec {
  // Each null value carries its head's observed effect, so one facet holds both layers.
  const values = heads.flatMap((h) =>
    h.nullMeans.map((v) => ({ head: `${h.name} (p = ${h.p.toFixed(3)})`, v, observed: h.observed })),
  );
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "Random-patching null of the top heads",
      subtitle:
        "histogram: the null mean |effect| over the pairs, one value per draw of random sources from other classes; rule: the observed mean |effect|",
    },
    data: { values },
    facet: { column: { field: "head", type: "nominal", title: null, sort: null } },
    spec: {
      width: 180,
      height: 150,
      layer: [
        {
          mark: { type: "bar", color: "#56B4E9", stroke: "#0072B2", strokeWidth: 0.5 },
          encoding: {
            x: { field: "v", type: "quantitative", bin: { maxbins: 20 }, title: options.effectLabel },
            y: { aggregate: "count", type: "quantitative", title: "draws (count)" },
          },
        },
        {
          mark: { type: "rule", color: "#D55E00", strokeWidth: 2 },
          encoding: { x: { field: "observed", type: "quantitative", aggregate: "max" } },
        },
      ],
    },
    config: FIGURE_CONFIG,
  };
}
