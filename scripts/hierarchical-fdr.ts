/**
 * Error rates of the inference layer by simulation (issue 16): the false discovery rate of flat BH
 * and of Yekutieli's hierarchical BH (layers → heads → positions) under the null and in mixed
 * scenarios, the type-I error of TOST at the equivalence bound, and the false coverage rate of the
 * FCR-adjusted intervals. Prints Markdown tables.
 *
 * Run: node --import tsx scripts/hierarchical-fdr.ts [--sims 2000] [--seed 0]
 */
import { normalSf } from "../src/stats/distributions.js";
import { tostMean } from "../src/stats/equivalence.js";
import { fcrIntervals } from "../src/stats/fcr.js";
import { componentTree, type HypothesisNode, hierarchicalFdr } from "../src/stats/hierarchical.js";
import { adjustPValues } from "../src/stats/multiplicity.js";
import { Rng } from "../src/stats/rng.js";
import { ttest1samp } from "../src/stats/ttest.js";

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}

const sims = flag("sims", 2000);
const seed = flag("seed", 0);
const q = 0.05;
const LAYERS = 3;
const HEADS = 8;
const POSITIONS = 8;

type Scenario = { name: string; active: (l: number, h: number, p: number) => boolean; z: number };
const scenarios: Scenario[] = [
  { name: "null (no effect anywhere)", active: () => false, z: 0 },
  {
    name: "clustered (3 heads of layer 1, half their positions)",
    active: (l, h, p) => l === 1 && h < 3 && p % 2 === 0,
    z: 3.5,
  },
  {
    name: "scattered (1 position in each of 12 heads)",
    active: (l, h, p) => (l * HEADS + h) % 2 === 0 && p === 0,
    z: 3.5,
  },
];

const out: string[] = [];
out.push(
  `### FDR: flat BH over ${LAYERS * HEADS * POSITIONS} position hypotheses vs hierarchical BH (q = ${q}, ${sims} simulations)`,
  "",
  "| scenario | flat FDR | flat power | hierarchical FDR (all nodes) | hierarchical power (positions) | Yekutieli bound |",
  "|---|---|---|---|---|---|",
);
let stream = 0;
for (const s of scenarios) {
  const rng = new Rng(seed, ++stream);
  let flatFdp = 0;
  let flatPower = 0;
  let hierFdp = 0;
  let hierPower = 0;
  for (let rep = 0; rep < sims; rep++) {
    const names: string[] = [];
    const p: number[] = [];
    const truth = new Map<string, boolean>();
    for (let l = 0; l < LAYERS; l++)
      for (let h = 0; h < HEADS; h++)
        for (let k = 0; k < POSITIONS; k++) {
          const active = s.active(l, h, k);
          const name = `L${l}H${h}P${k}`;
          names.push(name);
          p.push(2 * normalSf(Math.abs(rng.normal() + (active ? s.z : 0))));
          truth.set(name, active);
          if (active) truth.set(`L${l}H${h}`, true).set(`L${l}`, true);
        }
    const trueLeaves = names.filter((n) => truth.get(n)).length;
    const flat = adjustPValues(p, "bh", q).reject;
    const flatFound = names.filter((_, j) => flat[j]);
    flatFdp += flatFound.length === 0 ? 0 : flatFound.filter((n) => !truth.get(n)).length / flatFound.length;
    if (trueLeaves > 0) flatPower += flatFound.filter((n) => truth.get(n)).length / trueLeaves;
    const hier = hierarchicalFdr(componentTree(names, p) as HypothesisNode[], q);
    const found = hier.decisions.filter((d) => d.rejected).map((d) => d.name);
    hierFdp += found.length === 0 ? 0 : found.filter((n) => !truth.get(n)).length / found.length;
    if (trueLeaves > 0) hierPower += found.filter((n) => n.includes("P") && truth.get(n)).length / trueLeaves;
  }
  const pct = (v: number) => `${((100 * v) / sims).toFixed(2)}%`;
  const power = (v: number) => (s.z === 0 ? "—" : pct(v));
  out.push(
    `| ${s.name} | ${pct(flatFdp)} | ${power(flatPower)} | ${pct(hierFdp)} | ${power(hierPower)} | ${(2 * 1.44 * q * 100).toFixed(1)}% |`,
  );
}

out.push(
  "",
  `### TOST type-I error at the equivalence bound (μ = SESOI = 0.01, sd 0.02, α = 0.05, ${sims} simulations)`,
  "",
  "| n | rejection rate |",
  "|---|---|",
);
for (const n of [9, 35, 100]) {
  const rng = new Rng(seed, ++stream);
  let rejected = 0;
  for (let rep = 0; rep < sims; rep++) {
    const x = Array.from({ length: n }, () => 0.01 + 0.02 * rng.normal());
    if (tostMean(x, { low: -0.01, high: 0.01 }).pvalue < 0.05) rejected++;
  }
  out.push(`| ${n} | ${((100 * rejected) / sims).toFixed(2)}% |`);
}

out.push(
  "",
  `### False coverage rate of FCR-adjusted vs ordinary 95% CIs after BH (24 components, 8 with effect 0.9 sd, n = 12, ${sims} simulations)`,
  "",
  "| intervals | FCR |",
  "|---|---|",
);
{
  const rng = new Rng(seed, ++stream);
  let fcr = 0;
  let naive = 0;
  for (let rep = 0; rep < sims; rep++) {
    const truth = Array.from({ length: 24 }, (_, j) => (j < 8 ? 0.9 : 0));
    const tests = truth.map((mu) => ttest1samp(Array.from({ length: 12 }, () => mu + rng.normal())));
    const selected = adjustPValues(
      tests.map((t) => t.pvalue),
      "bh",
      q,
    ).reject;
    const r = fcrIntervals(
      tests.map((t) => ({ estimate: t.estimate, standardError: t.standardError, df: t.df })),
      selected,
      q,
    );
    let missed = 0;
    let naiveMissed = 0;
    r.intervals.forEach((ci, j) => {
      if (ci === null) return;
      if (truth[j] < ci.low || truth[j] > ci.high) missed++;
      const plain = tests[j].confidenceInterval(0.95);
      if (truth[j] < plain.low || truth[j] > plain.high) naiveMissed++;
    });
    fcr += missed / Math.max(1, r.selected);
    naive += naiveMissed / Math.max(1, r.selected);
  }
  out.push(
    `| FCR-adjusted (1 − R·q/m) | ${((100 * fcr) / sims).toFixed(2)}% |`,
    `| ordinary 95% | ${((100 * naive) / sims).toFixed(2)}% |`,
  );
}
process.stdout.write(`${out.join("\n")}\n\n(seed ${seed})\n`);
