import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeConfig } from "../src/model/config.js";
import { HookedTST } from "../src/model/hooked-tst.js";
import { saveModel } from "../src/model/model-dir.js";
import { Rng } from "../src/random/rng.js";
import { REPO } from "./setup.js";

/**
 * Peak memory under `--memory-budget` on long series, as a user runs the commands: each case a
 * child process under /usr/bin/time (peak RSS = its maximum resident set), on a synthetic
 * univariate two-class dataset written here (seeded) and a seeded random model of the same
 * length. Prints case, budget, peak RSS, peak / budget and wall seconds; "none" is a budget
 * too large to bind (the behaviour without one: 256 rows per call, arena on).
 */
export async function benchMemory(): Promise<void> {
  if (!existsSync(TIME)) {
    process.stdout.write("bench memory: needs /usr/bin/time for the peak RSS of a child process\n");
    return;
  }
  const work = mkdtempSync(join(tmpdir(), "tspatch-memory-"));
  try {
    const long = 1500;
    const data = writeSynthetic(work, long, 20, 7);
    const train361 = writeSynthetic(work, 361, 40, 8, "TRAIN");
    const model = join(work, "model");
    const config = makeConfig({ channels: 1, seqLen: long, classes: 2 });
    const labelMap = { kind: "dense" as const, classes: ["a", "b"], outputs: 2 };
    saveModel(HookedTST.fromConfig(config, 0, { labelMap }), model);
    const pairs = join(work, "pairs.csv");
    writeFileSync(pairs, "source,target\n0,1\n");
    const inference = ["64GiB", "2GiB", "1GiB"];
    const cases: [string, string[], string[]][] = [
      [`eval, length ${long}, 20 cases`, ["eval", "--model", model, "--data", data, "--quiet"], inference],
      [
        `sweep 24 heads × 1 pair, length ${long}`,
        [
          "sweep",
          "--model",
          model,
          "--data",
          data,
          "--pairs-file",
          pairs,
          "--out",
          join(work, "e.csv"),
          "--quiet",
        ],
        inference,
      ],
      [
        "train 40 × 361, batch 32, 1 epoch",
        ["train", "--data", train361, "--epochs", "1", "--out", join(work, "t"), "--quiet"],
        // 2 GiB cannot hold a batch of 32 (exit 2 naming the batch size that fits).
        ["64GiB", "3GiB", "2GiB"],
      ],
    ];
    const rows = ["case | budget | peak RSS | peak / budget | wall s", "--- | --- | --- | --- | ---"];
    for (const [name, argv, budgets] of cases) {
      for (const budget of budgets) {
        const r = run([...argv, "--memory-budget", budget]);
        const budgetBytes = Number.parseFloat(budget) * 2 ** 30;
        const shown = budget === "64GiB" ? "none" : budget;
        const ratio = budget === "64GiB" ? "–" : (r.peak / budgetBytes).toFixed(2);
        const peak = r.ok ? `${(r.peak / 2 ** 30).toFixed(2)} GiB` : `exit ${r.status}: ${r.message}`;
        rows.push(`${name} | ${shown} | ${peak} | ${r.ok ? ratio : "–"} | ${r.wall.toFixed(1)}`);
        process.stdout.write(`${rows[rows.length - 1]}\n`);
      }
    }
    process.stdout.write(`\nbench memory (machine load affects wall time only)\n${rows.join("\n")}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const TIME = "/usr/bin/time";

/** A univariate two-class .ts file: noisy sines whose frequency depends on the class. */
export function writeSynthetic(
  dir: string,
  length: number,
  cases: number,
  seed: number,
  split = "TEST",
): string {
  const rng = new Rng(seed);
  const lines = [
    `@problemName Synth${length}`,
    "@univariate true",
    "@equalLength true",
    `@seriesLength ${length}`,
    "@classLabel true a b",
    "@data",
  ];
  for (let i = 0; i < cases; i++) {
    const label = i % 2 === 0 ? "a" : "b";
    const freq = label === "a" ? 0.05 : 0.08;
    const series = Array.from({ length }, (_, t) => (Math.sin(freq * t) + rng.normal() * 0.3).toFixed(3));
    lines.push(`${series.join(",")}:${label}`);
  }
  const file = join(dir, `Synth${length}_${split}.ts`);
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

function run(argv: string[]): { ok: boolean; status: number; peak: number; wall: number; message: string } {
  const start = performance.now();
  const result = spawnSync(
    TIME,
    ["-f", "TSPATCH_PEAK_KB %M", process.execPath, join(REPO, "bin/tspatch.js"), ...argv],
    {
      encoding: "utf8",
    },
  );
  const wall = (performance.now() - start) / 1000;
  const peak = Number(/TSPATCH_PEAK_KB (\d+)/.exec(result.stderr ?? "")?.[1] ?? Number.NaN) * 1024;
  const message = (/error: ([^\n]*)/.exec(result.stderr ?? "")?.[1] ?? "").slice(0, 80);
  return { ok: result.status === 0, status: result.status ?? -1, peak, wall, message };
}
