/**
 * Statistics benchmark: BCa intervals of the mean for many columns at once, tspatch's
 * vectorised bootstrap against scipy.stats.bootstrap(method="BCa") timed in the same run
 * (/usr/bin/python3; skipped with a message when scipy is not there). Target: >= 3x faster.
 *
 * Cases (issue 7): 24 columns x n = 1,000 and 500 columns x n = 200, 10,000 resamples each;
 * each side is timed as the best of two runs.
 * scipy gets the same data and a `batch` that keeps its resample array near 100 MB (without
 * one it would allocate columns x resamples x n doubles at once: 1.9 GB and 8 GB here).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../src/random/rng.js";
import { bootstrapMeans } from "../src/stats/bootstrap.js";

interface Case {
  columns: number;
  n: number;
  resamples: number;
}

const CASES: Case[] = [
  { columns: 24, n: 1000, resamples: 10000 },
  { columns: 500, n: 200, resamples: 10000 },
];

const SCIPY_SCRIPT = `
import json, sys, time
import numpy as np
from scipy import stats
data = np.array(json.load(open(sys.argv[1])))
resamples = int(sys.argv[2])
batch = max(1, int(1.25e7 // data.size))
seconds = float("inf")
for _ in range(2):  # best of two, as for tspatch
    t0 = time.perf_counter()
    r = stats.bootstrap((data,), np.mean, axis=-1, n_resamples=resamples, method="BCa", batch=batch,
                        random_state=np.random.default_rng(0))
    seconds = min(seconds, time.perf_counter() - t0)
print(json.dumps({"seconds": seconds, "low": r.confidence_interval.low.tolist(),
                  "high": r.confidence_interval.high.tolist(), "se": r.standard_error.tolist()}))
`;

function makeData(c: Case): Float64Array[] {
  const rng = new Rng(2024);
  return Array.from({ length: c.columns }, (_, j) =>
    Float64Array.from({ length: c.n }, () =>
      j % 2 === 0 ? rng.normal() * 0.5 + 0.1 : rng.exponential() - 0.8,
    ),
  );
}

function scipyAvailable(): boolean {
  try {
    execFileSync("/usr/bin/python3", ["-c", "import scipy.stats"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export async function benchStats(): Promise<void> {
  const haveScipy = scipyAvailable();
  if (!haveScipy)
    process.stdout.write("scipy not available (/usr/bin/python3 -c 'import scipy'): timing tspatch only\n");
  const dir = mkdtempSync(join(tmpdir(), "tspatch-bench-stats-"));
  try {
    for (const c of CASES) {
      const data = makeData(c);
      const label = `BCa ${c.columns} columns x n=${c.n} x ${c.resamples} resamples`;
      // a short warm-up so the JIT has compiled the loops, then the best of two runs (the machine
      // may be shared; scipy gets the same treatment)
      bootstrapMeans(data, { resamples: 200 });
      let oursSeconds = Number.POSITIVE_INFINITY;
      let ours = bootstrapMeans(data, { resamples: 4 });
      for (let run = 0; run < 2; run++) {
        const t0 = performance.now();
        ours = bootstrapMeans(data, { resamples: c.resamples, seed: 0 });
        oursSeconds = Math.min(oursSeconds, (performance.now() - t0) / 1000);
      }
      let line = `${label}: tspatch ${oursSeconds.toFixed(2)} s`;
      if (haveScipy) {
        const input = join(dir, `data-${c.columns}-${c.n}.json`);
        writeFileSync(input, JSON.stringify(data.map((col) => Array.from(col))));
        const output = execFileSync("/usr/bin/python3", ["-c", SCIPY_SCRIPT, input, String(c.resamples)], {
          env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE" },
          maxBuffer: 64 * 1024 * 1024,
        }).toString();
        const scipy = JSON.parse(output) as { seconds: number; low: number[]; high: number[]; se: number[] };
        // Sanity: the two intervals agree within Monte Carlo error (in bootstrap standard errors).
        let worst = 0;
        ours.forEach((r, j) => {
          worst = Math.max(
            worst,
            Math.abs(r.confidenceInterval.low - scipy.low[j]) / scipy.se[j],
            Math.abs(r.confidenceInterval.high - scipy.high[j]) / scipy.se[j],
          );
        });
        line += `, scipy ${scipy.seconds.toFixed(2)} s, speed-up ${(scipy.seconds / oursSeconds).toFixed(1)}x (target >= 3x); `;
        line += `largest CI-end difference ${worst.toFixed(3)} bootstrap SE`;
      }
      process.stdout.write(`${line}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
