/**
 * Micro-benchmark: dropout keep-masks (train/dropout-masks.ts) with xoshiro128** on local
 * variables (as shipped) against the same loop drawing through the shared `Rng.uint32()`.
 * The two are timed in interleaved pairs (alternating order) so machine load hits both alike;
 * the figure is the median per-pair ratio.
 *
 * Run: node --import tsx scripts/dropout-mask-speed.ts [reps]
 */
import { Rng } from "../src/random/rng.js";
import { fillKeepMask } from "../src/train/dropout-masks.js";

/** The same geometric-skip loop, each uniform from the shared generator. */
function sharedMask(rng: Rng, out: Uint8Array, p: number): Uint8Array {
  out.fill(1);
  const invLogKeep = 1 / Math.log1p(-p);
  const gen = new Rng(rng.uint32(), rng.uint32());
  let i = -1;
  for (;;) {
    i += 1 + Math.floor(Math.log((gen.uint32() + 1) / 4294967296) * invLogKeep);
    if (i >= out.length) return out;
    out[i] = 0;
  }
}

const N = 3_000_000; // mask elements of one LSST training step (batch 32)
const reps = Number(process.argv[2] ?? 200);
const times = { local: [] as number[], shared: [] as number[] };
const out = new Uint8Array(N);
for (let r = 0; r < reps; r++) {
  const order = r % 2 === 0 ? (["local", "shared"] as const) : (["shared", "local"] as const);
  for (const name of order) {
    const t0 = process.hrtime.bigint();
    if (name === "local") fillKeepMask(new Rng(r, 7), out, 0.1);
    else sharedMask(new Rng(r, 7), out, 0.1);
    times[name].push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
}
const sorted = (v: number[]) => v.slice().sort((a, b) => a - b);
const at = (v: number[], q: number) => sorted(v)[Math.floor(q * (v.length - 1))];
const ratios = times.local.map((t, k) => times.shared[k] / t);
process.stdout.write(
  `ms per ${N / 1e6}M-element mask (p = 0.1), ${reps} interleaved pairs: ` +
    `local median ${at(times.local, 0.5).toFixed(2)} (min ${at(times.local, 0).toFixed(2)}), ` +
    `shared median ${at(times.shared, 0.5).toFixed(2)} (min ${at(times.shared, 0).toFixed(2)}); ` +
    `shared/local per pair: median ${at(ratios, 0.5).toFixed(3)} [IQR ${at(ratios, 0.25).toFixed(3)}–${at(ratios, 0.75).toFixed(3)}]\n`,
);
