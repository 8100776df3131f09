/**
 * A 400-pair × 24-head sweep as a user runs it: `tspatch sweep` from the shell on the
 * JapaneseVowels and LSST reference checkpoints, against the study's PyTorch loop (one clean and
 * one hooked batch-1 run per pair and head, scripts/bench/torch_patch.py) measured in the same
 * run. The PyTorch loop's cost per pair does not depend on which pairs (fixed shapes), so its
 * pass over the study's pairs gives its seconds per pair, and the ratio is the loop's projected
 * time for the same 400 pairs over the command's wall time (goal: ≥ 20×).
 *
 * Where the command's time goes: process start-up (wall minus the command's own `seconds`), and
 * the command's phases from its JSON summary (`phase_seconds`: open model and data, pairs, sanity
 * checks, sweep, CSV writing). A warm-up run fills the caches first (optimised graphs, parsed
 * data), as any second command would find them. Rounds alternate the two sides; medians.
 * BENCH_BASE=<another checkout, built>: its command too in the same rounds (before/after a change
 * under the same load), as a row of its own.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REFERENCE_CASES, REPO, SHARED, spreadPairsCsv, THREADS } from "./setup.js";
import { minMedian, TorchServer } from "./torch-server.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PAIRS = Number(process.env.BENCH_PAIRS ?? 400);

interface CommandRun {
  wall: number;
  cpu: number;
  seconds: number;
  phases: Record<string, number>;
}

export async function benchSweepCommand(): Promise<void> {
  const torch = await TorchServer.start(`${REPO}scripts/bench/torch_patch.py`, [
    "--threads",
    String(THREADS),
  ]);
  const work = mkdtempSync(join(tmpdir(), "tspatch-sweep-command-"));
  const cache = join(work, "cache");
  const lines: string[] = [];
  try {
    for (const c of REFERENCE_CASES.filter((r) => r.name !== "PenDigits")) {
      const data = join(SHARED, c.test);
      const pairsFile = join(work, `${c.name}-pairs.csv`);
      const rows = c.name === "LSST" ? 2466 : 370;
      writeFileSync(pairsFile, spreadPairsCsv(PAIRS, rows).csv);
      const argv = [
        "sweep",
        ...["--model", join(SHARED, "models/reference", c.pth), "--data", data],
        ...["--pairs-file", pairsFile, "--out", join(work, "effects.csv"), "--quiet"],
      ];
      const base = process.env.BENCH_BASE;
      runCommand(argv, cache); // warm-up: the caches a second command finds
      if (base) runCommand(argv, join(work, "base-cache"), base);
      const ours: CommandRun[] = [];
      const theirs: CommandRun[] = [];
      const studyPerPair: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const runTorch = async () => {
          if (torch === undefined) return;
          const pass = await torch.request<{ seconds: number }>(`study ${c.name}`);
          studyPerPair.push(
            pass.seconds / (torch.ready.ready as Record<string, { pairs: number }>)[c.name].pairs,
          );
        };
        if (r % 2 === 0) {
          await runTorch();
          ours.push(runCommand(argv, cache));
          if (base) theirs.push(runCommand(argv, join(work, "base-cache"), base));
        } else {
          if (base) theirs.push(runCommand(argv, join(work, "base-cache"), base));
          ours.push(runCommand(argv, cache));
          await runTorch();
        }
      }
      const study = studyPerPair.length > 0 ? minMedian(studyPerPair).median : Number.NaN;
      const row = (runs: CommandRun[], label: string) => {
        const wall = minMedian(runs.map((o) => o.wall)).median;
        const cpu = minMedian(runs.map((o) => o.cpu)).median;
        const inside = minMedian(runs.map((o) => o.seconds)).median;
        const phase = (name: string) => minMedian(runs.map((o) => o.phases[name] ?? 0)).median.toFixed(2);
        const ratio = (study * PAIRS) / wall;
        return `| ${label} | ${wall.toFixed(2)} | ${Number.isNaN(cpu) ? "–" : cpu.toFixed(2)} | ${(wall - inside).toFixed(2)} | ${phase("open")} | ${phase("pairs")} | ${phase("sanity")} | ${phase("sweep")} | ${phase("write")} | ${Number.isNaN(study) ? "n/a" : (study * 1000).toFixed(0)} | ${Number.isNaN(ratio) ? "n/a" : `${ratio.toFixed(1)}×`} |`;
      };
      lines.push(row(ours, c.name));
      if (base) lines.push(row(theirs, `${c.name} (BENCH_BASE)`));
    }
  } finally {
    await torch?.stop();
    rmSync(work, { recursive: true, force: true });
  }
  process.stdout.write(
    `tspatch sweep, ${PAIRS} pairs × 24 heads (denoise, z), whole command from the shell, warm caches, ${THREADS} threads; ${ROUNDS} interleaved rounds, medians (seconds)\n`,
  );
  process.stdout.write(
    "| model | wall | CPU | start-up | open | pairs | sanity | sweep | write | study loop ms/pair | study loop ÷ command (goal 20×) |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
  );
  process.stdout.write(`${lines.join("\n")}\n`);
}

const TIME = "/usr/bin/time";

function runCommand(argv: string[], cache: string, checkout = REPO): CommandRun {
  const cli = join(checkout, "bin/tspatch.js");
  const start = performance.now();
  const result = spawnSync(TIME, ["-f", "TSPATCH_CPU %U %S", process.execPath, cli, ...argv], {
    env: { ...process.env, TSPATCH_CACHE: cache },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const wall = (performance.now() - start) / 1000;
  if (result.status !== 0) throw new Error(`bench sweep-command: tspatch failed:\n${result.stderr}`);
  const cpuLine = /TSPATCH_CPU ([\d.]+) ([\d.]+)/.exec(result.stderr ?? "");
  const summary = JSON.parse(result.stdout) as { seconds: number; phase_seconds: Record<string, number> };
  return {
    wall,
    cpu: cpuLine ? Number(cpuLine[1]) + Number(cpuLine[2]) : Number.NaN,
    seconds: summary.seconds,
    phases: summary.phase_seconds,
  };
}
