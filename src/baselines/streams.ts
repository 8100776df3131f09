/**
 * Random streams of the baselines (the `stream` argument of Rng), disjoint from the other
 * registered streams: training uses 1, 2^30 + e, 2^31 + s (src/train/rng-streams.ts), weight
 * init 0x7157, pair sampling purpose · 2^24 + index (src/patching/sample.ts, purposes 1–3),
 * stability 0x2000_0000 + … (src/stability/streams.ts).
 */
export const BASELINE_STREAMS = {
  /** + pair index: the random sources of that pair's null draws. */
  randomNull: 0x1000_0000,
  /** Bootstrap of the agreement statistics. */
  agreement: 0x1800_0000,
} as const;
