/**
 * False-coverage-rate-adjusted confidence intervals for parameters selected after looking at the
 * data (Benjamini & Yekutieli [1]). An ordinary 95% CI printed only for the components that
 * passed BH does not cover 95% of the time: selection favours estimates that are far from zero.
 *
 * Definition 1 of [1]: select R of m parameters (here: the rejections of BH at level q); give
 * each selected parameter the marginal CI at level 1 − R·q/m. Theorem 1 of [1]: for independent
 * estimates (and for BH selection under positive regression dependence, Theorem 4) the expected
 * proportion of selected CIs that miss their parameter is ≤ q. Unselected parameters get no
 * interval (null). With R = m the level is 1 − q, the ordinary interval.
 *
 * The marginal CI here is the t interval x̄ ± t_{df, 1 − R·q/(2m)} · s/√n (the mean-effect
 * analysis; see ttest.ts).
 *
 * References:
 * [1] Y. Benjamini, D. Yekutieli, "False discovery rate-adjusted multiple confidence intervals for
 *     selected parameters", JASA 100(469), 2005.
 */
import type { ConfidenceInterval } from "./results.js";
import { tConfidenceInterval } from "./ttest.js";

export interface FcrInput {
  readonly estimate: number;
  readonly standardError: number;
  readonly df: number;
}

export interface FcrResult {
  /** 1 − R·q/m, the level of every selected interval (NaN when nothing is selected). */
  readonly level: number;
  /** Number selected (R) and family size (m). */
  readonly selected: number;
  readonly m: number;
  readonly q: number;
  /** One per input: the adjusted interval when selected, null otherwise. */
  readonly intervals: (ConfidenceInterval | null)[];
}

/**
 * FCR-adjusted t intervals for the selected components of a family.
 *
 * @example
 * const r = fcrIntervals([{ estimate: 1, standardError: 0.2, df: 9 }, { estimate: 0.1, standardError: 0.2, df: 9 }], [true, false], 0.05);
 * r.level; // 0.975 (R = 1, m = 2)
 */
export function fcrIntervals(rows: readonly FcrInput[], selected: readonly boolean[], q = 0.05): FcrResult {
  if (rows.length !== selected.length) {
    throw new RangeError(`${rows.length} estimates but ${selected.length} selection flags`);
  }
  if (!(q > 0 && q < 1)) throw new RangeError(`\`q\` must be in (0, 1), got ${q}`);
  const m = rows.length;
  const R = selected.filter(Boolean).length;
  const level = R === 0 ? Number.NaN : 1 - (R * q) / m;
  const intervals = rows.map((row, j) =>
    selected[j] && Number.isFinite(row.standardError) && row.df > 0
      ? tConfidenceInterval(row.estimate, row.standardError, row.df, level, "two-sided")
      : null,
  );
  return { level, selected: R, m, q, intervals };
}
