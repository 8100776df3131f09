/**
 * Random streams of the stability analysis (the `stream` argument of Rng), disjoint from the
 * other registered streams (see src/baselines/streams.ts for the list).
 */
export const STABILITY_STREAMS = {
  /** + kind · 2^20 + row: the perturbation of one row (the same draws at every strength). */
  perturbation: 0x2000_0000,
  /** + direction and statistic: bootstraps of the rank agreement. */
  agreement: 0x2800_0000,
  /** Resampling stability: bootstrap over units. */
  resampling: 0x2c00_0000,
} as const;
