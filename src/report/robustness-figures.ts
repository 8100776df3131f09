import type { StudyResults } from "../study/results-schema.js";
import { atpScatterSpec, baselineRhoSpec } from "./figures/baselines.js";
import { randomNullSpec } from "./figures/random-null.js";
import { stabilitySpec } from "./figures/stability.js";
import type { FigureSpec } from "./figures.js";
import { effectLabel } from "./labels.js";

/** Stability and baselines measure ΔP(true) unless the plan's metric is the logit difference. */
function robustnessLabel(results: StudyResults): string {
  return effectLabel(results.plan.metric === "logit_diff" ? "logit_diff" : "dp_true");
}

/**
 * Figures 3 (stability), 2 (baselines vs exact patching) and 5 (random-patching null), for the
 * optional sections these results carry, in the order the report shows them.
 *
 * @example
 * const specs = robustnessFigureSpecs(results); // [] without the stability and baselines stages
 */
export function robustnessFigureSpecs(results: StudyResults): FigureSpec[] {
  const specs: FigureSpec[] = [];
  const label = robustnessLabel(results);
  const s = results.stability;
  const rows = (s?.perturbations ?? []).flatMap((p) =>
    p.directions.flatMap((d) => {
      const sp = d.agreement?.spearman;
      return sp === undefined || sp.estimate === null || sp.ci.low === null || sp.ci.high === null
        ? []
        : [
            {
              direction: d.direction,
              kind: p.kind,
              strength: p.strength,
              rho: sp.estimate,
              low: sp.ci.low,
              high: sp.ci.high,
              flagged: p.flagged,
            },
          ];
    }),
  );
  if (s !== undefined && rows.length > 0) {
    const level =
      s.perturbations.flatMap((p) => p.directions.flatMap((d) => d.agreement?.spearman.ci.level ?? []))[0] ??
      0.95;
    specs.push({
      id: "fig3-stability",
      title: "Figure 3. Stability of the head ranking",
      caption: `Spearman ρ between the head ranking on perturbed inputs and the unperturbed one (surviving units only), with the bootstrap CI, per perturbation kind and strength and per direction. A cross marks a perturbation that costs more than ${(100 * s.max_accuracy_drop).toFixed(0)} points of accuracy: its ranking is of a broken model.`,
      spec: stabilitySpec(rows, { level }),
    });
  }
  const b = results.baselines;
  if (b !== undefined && b.per_head.length > 0) {
    specs.push({
      id: "fig2a-atp-vs-exact",
      title: "Figure 2a. Attribution patching vs exact patching",
      caption: `Per head, the ${label} estimated by attribution patching (one backward pass per pair) against exact patching, mean over units, one panel per direction. Points on the dashed diagonal are heads where the cheap estimate is right; points far from it are where it fails (typically saturated attention).`,
      spec: atpScatterSpec(
        b.per_head.map((h) => ({ direction: h.direction, name: h.name, exact: h.exact, atp: h.atp })),
        { effectLabel: label },
      ),
    });
  }
  const rho = (b?.agreement ?? []).flatMap((a) =>
    a.spearman.estimate === null || a.spearman.ci.low === null || a.spearman.ci.high === null
      ? []
      : [
          {
            direction: a.direction,
            baseline: a.baseline.replaceAll("_", " "),
            rho: a.spearman.estimate,
            low: a.spearman.ci.low,
            high: a.spearman.ci.high,
          },
        ],
  );
  if (b !== undefined && rho.length > 0) {
    specs.push({
      id: "fig2b-baseline-agreement",
      title: "Figure 2b. Baselines against exact patching",
      caption:
        "Spearman ρ between each baseline's per-head scores and the exact patching effects (means over units), with the bootstrap CI over units, per direction. ρ near 1: the baseline ranks heads as patching does; near 0: it says nothing about them.",
      spec: baselineRhoSpec(rho, { level: b.agreement[0].spearman.ci.level }),
    });
  }
  const nul = b?.random_null;
  if (nul !== undefined && nul !== null && nul.histograms.length > 0) {
    const p = new Map(nul.heads.map((h) => [h.name, h.p]));
    specs.push({
      id: "fig5-random-null",
      title: "Figure 5. Random-patching null",
      caption: `For the ${nul.histograms.length} heads with the largest observed effect: the null distribution of the mean |effect| over the pairs when the head is patched from random inputs of other classes instead of the pair's source (${nul.draws} draws), and the observed mean |effect| (vertical rule). The panel title gives the empirical p-value (+1 corrected): the share of draws at least as large as the observed value.`,
      spec: randomNullSpec(
        nul.histograms.map((h) => ({
          name: h.name,
          observed: h.observed,
          p: p.get(h.name) ?? 1,
          nullMeans: h.null_means,
        })),
        { effectLabel: `mean |${label.replace(/^mean /, "").replace(" (", "| (")}` },
      ),
    });
  }
  return specs;
}
