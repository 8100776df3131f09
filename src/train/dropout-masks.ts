import type { Rng } from "../random/rng.js";

/**
 * Fill `out` with an inverted-dropout keep mask: each element independently 0 with probability p,
 * else 1 (Bernoulli, as `torch.nn.functional.dropout`). The graph multiplies by the mask and
 * scales by 1/(1 − p).
 *
 * A training step needs millions of mask elements (LSST: ~3 M per batch of 32) but only a share p
 * of them are zeros, so the zeros are placed by geometric skips (Devroye, "Non-Uniform Random
 * Variate Generation", 1986, §X.2: the gap before the next zero of a Bernoulli(p) sequence is
 * floor(ln U / ln(1 − p))), one draw per zero instead of one per element. The uniforms come from
 * xoshiro128** (the generator of `Rng`, Blackman & Vigna) run on local variables, seeded with four
 * draws from `rng`; U = (k + 1) / 2^32 ∈ (0, 1] for a 32-bit draw k. The step is copied here
 * rather than called through `Rng.uint32()` because the call is slower: on 3 M-element masks the
 * shared generator took 1.13–1.18× the time of this loop (median of 200 interleaved pairs, three
 * runs; scripts/dropout-mask-speed.ts, on a loaded 2-core machine).
 *
 * @example
 * const mask = fillKeepMask(new Rng(0), new Uint8Array(1000), 0.1); // about 900 ones
 */
export function fillKeepMask(rng: Rng, out: Uint8Array, p: number): Uint8Array {
  if (!(p >= 0 && p < 1)) throw new RangeError(`fillKeepMask: dropout \`p\` must be in [0, 1), got ${p}`);
  out.fill(1);
  if (p === 0) return out;
  const invLogKeep = 1 / Math.log1p(-p);
  let s0 = rng.uint32() | 0;
  let s1 = rng.uint32() | 0;
  let s2 = rng.uint32() | 0;
  let s3 = rng.uint32() | 1; // never the all-zero state
  const n = out.length;
  let i = -1;
  for (;;) {
    const x = Math.imul(s1, 5);
    const r = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    i += 1 + Math.floor(Math.log((r + 1) / 4294967296) * invLogKeep);
    if (i >= n) return out;
    out[i] = 0;
  }
}
