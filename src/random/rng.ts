/**
 * A small, fast, seeded pseudo-random generator: xoshiro128** (Blackman & Vigna [1]),
 * seeded through SplitMix32 so that nearby seeds give unrelated streams.
 *
 * Every random step in tspatch takes a seed; this is the one generator they share (bootstrap
 * resampling, sign-flip permutations, simulations, input noise, dropout masks). A `stream`
 * number derives independent generators from one user seed (e.g. one per column), so a result
 * does not change when unrelated work is added or reordered.
 *
 * References:
 * [1] D. Blackman, S. Vigna, "Scrambled linear pseudorandom number generators", ACM TOMS 47(4), 2021.
 * [2] D. Lemire, "Fast random integer generation in an interval", ACM TOMACS 29(1), 2019.
 *
 * @example
 * const rng = new Rng(42);
 * const u = rng.float();      // uniform in [0, 1)
 * const i = rng.int(10);      // uniform integer in 0..9
 * const z = rng.normal();     // standard normal
 */
export class Rng {
  // State in an Int32Array: plain fields would flip between small-integer and double
  // representations (uint32 values above 2^31) and allocate on every step.
  private readonly s = new Int32Array(4);
  private spareNormal = 0;
  private hasSpareNormal = false;

  /**
   * @param seed any finite number (integers up to 2^53 are distinct seeds)
   * @param stream derives an independent generator from the same seed
   */
  constructor(seed = 0, stream = 0) {
    if (!Number.isFinite(seed) || !Number.isFinite(stream)) {
      throw new RangeError(`Rng: \`seed\` and \`stream\` must be finite numbers, got ${seed}, ${stream}`);
    }
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 4294967296) >>> 0;
    let state = (lo ^ Math.imul(hi, 0x9e3779b9) ^ Math.imul(stream >>> 0, 0x85ebca6b)) >>> 0;
    const next = (): number => {
      // SplitMix32 (a 32-bit variant of Steele, Lea & Flood's SplitMix64) fills the state.
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s[0] = next();
    this.s[1] = next();
    this.s[2] = next();
    this.s[3] = next() | 1; // never the all-zero state
  }

  /** A uniform 32-bit unsigned integer. */
  uint32(): number {
    const s = this.s;
    const s0 = s[0];
    const s1 = s[1];
    const s2 = s[2] ^ s0;
    const s3 = s[3] ^ s1;
    const x = Math.imul(s1, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    s[1] = s1 ^ s2;
    s[0] = s0 ^ s3;
    s[2] = s2 ^ (s1 << 9);
    s[3] = (s3 << 11) | (s3 >>> 21);
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.uint32() >>> 5; // 27 bits
    const lo = this.uint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A uniform integer in [0, bound), without modulo bias (Lemire [2] for bound <= 2^21). */
  int(bound: number): number {
    if (bound <= 2097152) {
      // r * bound < 2^53, so the product is exact; its high 32 bits are the result and its low
      // 32 bits decide the (rare) rejection. Multiplying by 2^-32 is exact, unlike `%`, and fast.
      let m = this.uint32() * bound;
      let high = Math.floor(m * 2.3283064365386963e-10);
      let low = m - high * 4294967296;
      if (low < bound) {
        const threshold = (4294967296 - bound) % bound;
        while (low < threshold) {
          m = this.uint32() * bound;
          high = Math.floor(m * 2.3283064365386963e-10);
          low = m - high * 4294967296;
        }
      }
      return high;
    }
    const limit = 4294967296 - (4294967296 % bound);
    let r = this.uint32();
    while (r >= limit) r = this.uint32();
    return r % bound;
  }

  /**
   * Fill `out` with uniform integers in [0, bound): the same values as `out.length` calls of
   * {@link int}, with the generator state kept in locals (the hot loop of every bootstrap).
   */
  fillInts(out: Uint32Array | Int32Array, bound: number): void {
    if (bound > 2097152) {
      for (let i = 0; i < out.length; i++) out[i] = this.int(bound);
      return;
    }
    const s = this.s;
    let s0 = s[0];
    let s1 = s[1];
    let s2 = s[2];
    let s3 = s[3];
    // Lemire [2]: reject exactly when the low word is below (2^32 - bound) mod bound.
    const threshold = (4294967296 - bound) % bound;
    let i = 0;
    while (i < out.length) {
      const x = Math.imul(s1, 5);
      const r = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      const m = r * bound;
      const high = Math.floor(m * 2.3283064365386963e-10);
      if (m - high * 4294967296 < threshold) continue;
      out[i++] = high;
    }
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
  }

  /** A standard normal deviate (Marsaglia's polar method). */
  normal(): number {
    if (this.hasSpareNormal) {
      this.hasSpareNormal = false;
      return this.spareNormal;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.float() - 1;
      v = 2 * this.float() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * f;
    this.hasSpareNormal = true;
    return u * f;
  }

  /** An exponential deviate with rate 1. */
  exponential(): number {
    return -Math.log1p(-this.float());
  }
}
