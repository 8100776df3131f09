/**
 * Saturation: inputs whose P(true) is within `threshold` of 0 or 1. There the softmax is flat,
 * dP/dlogit = P(1 − P) ≤ threshold, so ΔP(true), recovery (on P) and KL barely move however much
 * a patch changes the logits: in the noise direction with P(true) > 0.999 a head that lowers the
 * true logit by 0.3 changes ΔP by about −3·10⁻⁴. The logit difference is not capped.
 */
import { softmax } from "../patching/metrics.js";
import type { PairBaseline } from "../patching/sweep.js";
import type { Finding } from "./finding.js";

/** Metrics that saturation caps (the ones computed from probabilities). */
export const CAPPED_METRICS = ["dp_true", "recovery", "kl_source"] as const;

/**
 * Saturation findings per direction, over the distinct patched (run target) inputs.
 *
 * @example
 * saturationFindings(result.baselines).map(formatFinding);
 */
export function saturationFindings(
  baselines: readonly PairBaseline[],
  threshold = 1e-3,
  /** How the user switches to the logit difference in the calling command. */
  switchHint = "stats --metric d_logit_diff",
): Finding[] {
  const findings: Finding[] = [];
  for (const direction of ["denoise", "noise"] as const) {
    const seen = new Map<number, number>();
    for (const b of baselines) {
      if (b.pair.direction !== direction || seen.has(b.pair.target)) continue;
      seen.set(b.pair.target, softmax(b.targetLogits)[b.pair.trueClass]);
    }
    const p = [...seen.values()];
    const high = p.filter((v) => v > 1 - threshold).length;
    const low = p.filter((v) => v < threshold).length;
    if (high + low === 0) continue;
    const sorted = p.slice().sort((a, b) => a - b);
    const median = sorted[Math.floor((sorted.length - 1) / 2)];
    const fraction = (high + low) / p.length;
    findings.push({
      code: "saturation",
      severity: fraction >= 0.2 ? "warning" : "info",
      message:
        `${direction}: ${high + low} of ${p.length} patched inputs have P(true) within ${threshold} of ` +
        `${high > 0 && low > 0 ? "0 or 1" : high > 0 ? "1" : "0"} (median P(true) ${median.toPrecision(5)}); ` +
        `ΔP(true), recovery and KL are capped there: analyse d_logit_diff (${switchHint})`,
      detail: {
        direction,
        inputs: p.length,
        near_one: high,
        near_zero: low,
        threshold,
        median_p_true: median,
        capped_metrics: [...CAPPED_METRICS],
        suggested_metric: "d_logit_diff",
      },
    });
  }
  return findings;
}
