/**
 * Input perturbations for stability checks, each on a strength grid, seeded per row (the same
 * random draws at every strength, so strengths differ only in size), and respecting each
 * series' real length: padded steps stay padding (0) and nothing moves into or out of them.
 *
 * - `gaussian:σ`   x + σ · std_c · N(0, 1) on real steps, std_c = the channel's standard
 *                  deviation over the real steps of all rows;
 * - `time-warp:w`  x(τ(t)) by linear interpolation, τ a smooth random monotone map of
 *                  [0, n−1] onto itself: the speed τ' is exp(w · N(0,1)) at 6 evenly spaced
 *                  knots, linearly interpolated, integrated and rescaled so τ(n−1) = n−1
 *                  (a random time warp in the spirit of Um et al. 2017, "Data augmentation of
 *                  wearable sensor data", §3);
 * - `shift:k`      circular shift right by k steps within the real length: x'[t] = x[(t−k) mod n];
 * - `shift-edge:k` shift right by k, the first k steps repeating x[0]: x'[t] = x[max(0, t−k)].
 *
 * Strength 0 returns the input unchanged (bit for bit).
 */
import { inputError } from "../errors.js";
import { Rng } from "../stats/rng.js";
import { STABILITY_STREAMS } from "./streams.js";

export const PERTURBATION_KINDS = ["gaussian", "time-warp", "shift", "shift-edge"] as const;
export type PerturbationKind = (typeof PERTURBATION_KINDS)[number];

export interface Perturbation {
  readonly kind: PerturbationKind;
  readonly strength: number;
}

/** Valid strengths of each kind (inclusive). */
export const STRENGTH_RANGES: Readonly<
  Record<PerturbationKind, { min: number; max: number; integer: boolean }>
> = {
  gaussian: { min: 0, max: 5, integer: false },
  "time-warp": { min: 0, max: 1, integer: false },
  shift: { min: 0, max: 1000, integer: true },
  "shift-edge": { min: 0, max: 1000, integer: true },
};

/** The default grid: 3 kinds × 3 strengths. */
export const DEFAULT_PERTURBATIONS: readonly string[] = [
  "gaussian:0.05,0.1,0.2",
  "time-warp:0.05,0.1,0.2",
  "shift:1,2,3",
];

export const PERTURB_FORMS =
  "gaussian:σ[,σ…] (σ in 0..5, × each channel's std), time-warp:w[,w…] (w in 0..1), shift:k[,k…] or shift-edge:k[,k…] (whole steps ≥ 0)";

/**
 * Parse `kind:s1,s2,…` specs (as given to `--perturb`) into perturbations.
 *
 * @example
 * parsePerturbations(["gaussian:0.05,0.1", "shift:1"]); // 3 perturbations
 */
export function parsePerturbations(specs: readonly string[], field = "--perturb"): Perturbation[] {
  const out: Perturbation[] = [];
  for (const spec of specs) {
    const colon = spec.indexOf(":");
    const kind = (colon < 0 ? spec : spec.slice(0, colon)).trim();
    if (!(PERTURBATION_KINDS as readonly string[]).includes(kind)) {
      throw inputError(`unknown perturbation "${kind}" in "${spec}"`, {
        field,
        hint: `use ${PERTURB_FORMS}`,
      });
    }
    const range = STRENGTH_RANGES[kind as PerturbationKind];
    const list = colon < 0 ? "" : spec.slice(colon + 1);
    if (list.trim() === "") {
      throw inputError(
        `perturbation "${kind}" needs strengths, e.g. ${kind}:${range.integer ? "1,2,3" : "0.05,0.1"}`,
        {
          field,
          hint: `use ${PERTURB_FORMS}`,
        },
      );
    }
    for (const text of list.split(",")) {
      const value = Number(text.trim());
      const ok =
        text.trim() !== "" &&
        Number.isFinite(value) &&
        value >= range.min &&
        value <= range.max &&
        (!range.integer || Number.isInteger(value));
      if (!ok) {
        throw inputError(
          `strength "${text.trim()}" of ${kind} is out of range: ${range.integer ? "a whole number of steps" : "a number"} in ${range.min}..${range.max}`,
          { field, hint: `use ${PERTURB_FORMS}` },
        );
      }
      out.push({ kind: kind as PerturbationKind, strength: value });
    }
  }
  return out;
}

/** A label such as `gaussian:0.1`. */
export function perturbationLabel(p: Perturbation): string {
  return `${p.kind}:${p.strength}`;
}

export interface SeriesTable {
  /** rows × S × C. */
  readonly x: Float32Array;
  /** Real length of each row. */
  readonly lengths: ArrayLike<number>;
  readonly rows: number;
}

/**
 * A perturbed copy of every row (padding untouched).
 *
 * @example
 * const noisy = perturbRows(inputs, 25, 12, { kind: "gaussian", strength: 0.1 }, 0);
 */
export function perturbRows(
  table: SeriesTable,
  S: number,
  C: number,
  perturbation: Perturbation,
  seed: number,
): Float32Array {
  const { kind, strength } = perturbation;
  const out = Float32Array.from(table.x);
  if (strength === 0) return out;
  const kindIndex = PERTURBATION_KINDS.indexOf(kind);
  const std = kind === "gaussian" ? channelStd(table, S, C) : null;
  for (let r = 0; r < table.rows; r++) {
    const n = Math.min(S, table.lengths[r]);
    if (n === 0) continue;
    const base = r * S * C;
    const rng = new Rng(seed, STABILITY_STREAMS.perturbation + kindIndex * 0x100000 + (r & 0xfffff));
    const at = (t: number, c: number) => table.x[base + t * C + c];
    if (kind === "gaussian") {
      for (let t = 0; t < n; t++) {
        for (let c = 0; c < C; c++)
          out[base + t * C + c] = at(t, c) + strength * (std as Float64Array)[c] * rng.normal();
      }
    } else if (kind === "time-warp") {
      const tau = warp(n, strength, rng);
      for (let t = 0; t < n; t++) {
        const lo = Math.min(n - 1, Math.floor(tau[t]));
        const hi = Math.min(n - 1, lo + 1);
        const f = tau[t] - lo;
        for (let c = 0; c < C; c++) out[base + t * C + c] = (1 - f) * at(lo, c) + f * at(hi, c);
      }
    } else {
      const k = strength;
      for (let t = 0; t < n; t++) {
        const from = kind === "shift" ? (((t - k) % n) + n) % n : Math.max(0, t - k);
        for (let c = 0; c < C; c++) out[base + t * C + c] = at(from, c);
      }
    }
  }
  return out;
}

/** Standard deviation (ddof 0) of each channel over the real steps of all rows. */
function channelStd(table: SeriesTable, S: number, C: number): Float64Array {
  const sum = new Float64Array(C);
  const sq = new Float64Array(C);
  let count = 0;
  for (let r = 0; r < table.rows; r++) {
    const n = Math.min(S, table.lengths[r]);
    count += n;
    for (let t = 0; t < n; t++) {
      for (let c = 0; c < C; c++) {
        const v = table.x[(r * S + t) * C + c];
        sum[c] += v;
        sq[c] += v * v;
      }
    }
  }
  return sum.map((s, c) => (count === 0 ? 0 : Math.sqrt(Math.max(0, sq[c] / count - (s / count) ** 2))));
}

const WARP_KNOTS = 6;

/** τ(t) for t = 0..n−1: monotone, τ(0) = 0, τ(n−1) = n−1. */
function warp(n: number, strength: number, rng: Rng): Float64Array {
  const tau = new Float64Array(n);
  if (n < 2) return tau;
  const knots = Array.from({ length: WARP_KNOTS }, () => Math.exp(strength * rng.normal()));
  const speed = (t: number) => {
    const u = (t / (n - 1)) * (WARP_KNOTS - 1);
    const i = Math.min(WARP_KNOTS - 2, Math.floor(u));
    const f = u - i;
    return (1 - f) * knots[i] + f * knots[i + 1];
  };
  // Trapezoid rule between steps, then rescaled to end at n − 1.
  for (let t = 1; t < n; t++) tau[t] = tau[t - 1] + (speed(t - 1) + speed(t)) / 2;
  const scale = (n - 1) / tau[n - 1];
  for (let t = 0; t < n; t++) tau[t] = Math.min(n - 1, tau[t] * scale);
  return tau;
}
