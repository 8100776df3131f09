import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { makeConfig } from "../src/model/config.js";
import { HookedTST } from "../src/model/hooked-tst.js";
import { saveModel } from "../src/model/model-dir.js";
import { Rng } from "../src/random/rng.js";
import { REPO } from "./setup.js";

/**
 * Peak memory under `--memory-budget` on long series, as a user runs the commands: each case a
 * child process under /usr/bin/time (peak RSS = its maximum resident set), run one at a time, on
 * synthetic univariate two-class datasets written here (seeded) and a seeded random model of the
 * same length. Prints case, budget, peak RSS, peak / budget and wall seconds; "none" is a budget
 * too large to bind (the behaviour before budgets: whole batches, 256 rows per call, arena on).
 * Then ONNX Runtime's two memory options one at a time, on the same training at a fixed
 * micro-batch. `TSPATCH_MEMORY_CASES=train,sweep` runs only the cases whose names contain one of
 * those words.
 */
export async function benchMemory(): Promise<void> {
  if (!existsSync(TIME)) {
    process.stdout.write("bench memory: needs /usr/bin/time for the peak RSS of a child process\n");
    return;
  }
  const only = (process.env.TSPATCH_MEMORY_CASES ?? "").split(",").filter((w) => w !== "");
  const wanted = (name: string) => only.length === 0 || only.some((w) => name.includes(w));
  const work = mkdtempSync(join(tmpdir(), "tspatch-memory-"));
  try {
    const long = 1500;
    const test1500 = writeSynthetic(work, long, 20, 7);
    const train361 = writeSynthetic(work, 361, 40, 8, "TRAIN");
    const train1500 = writeSynthetic(work, long, 8, 9, "TRAIN");
    const test361 = writeSynthetic(work, 361, 20, 10);
    const models = new Map<number, string>();
    for (const length of [361, long]) {
      const dir = join(work, `model-${length}`);
      const config = makeConfig({ channels: 1, seqLen: length, classes: 2 });
      const labelMap = { kind: "dense" as const, classes: ["a", "b"], outputs: 2 };
      saveModel(HookedTST.fromConfig(config, 0, { labelMap }), dir);
      models.set(length, dir);
    }
    const pairs = join(work, "pairs.csv");
    writeFileSync(pairs, "source,target\n0,1\n2,3\n5,4\n7,6\n8,9\n11,10\n");
    const sweep = (length: number, data: string) => [
      "sweep",
      ...["--model", models.get(length) as string, "--data", data, "--pairs-file", pairs],
      ...["--out", join(work, `e${length}.csv`), "--quiet"],
    ];
    const train = (data: string, extra: string[]) => [
      ...["train", "--data", data, "--epochs", "1", "--out", join(work, "t"), "--quiet"],
      ...extra,
    ];
    const cases: [string, string[], string[]][] = [
      ["train 40 × 361, batch 32, 1 epoch", train(train361, []), ["64GiB", "2GiB", "1GiB"]],
      [
        `train 8 × ${long}, batch 8, 1 epoch`,
        train(train1500, ["--batch-size", "8", "--val-fraction", "0"]),
        ["3GiB", "2GiB", "1GiB"],
      ],
      ["sweep 24 heads × 6 pairs, length 361", sweep(361, test361), ["64GiB", "1GiB"]],
      [`sweep 24 heads × 6 pairs, length ${long}`, sweep(long, test1500), ["2GiB", "1GiB"]],
      [
        "baselines 6 pairs, length 361 (AtP, IG from 32 nodes, saliency)",
        [
          ...["baselines", "--model", models.get(361) as string, "--data", test361, "--pairs-file", pairs],
          ...["--ig-steps", "32", "--null-draws", "0", "--resamples", "100", "--quiet"],
        ],
        ["64GiB", "1GiB"],
      ],
      [
        "study --quick (JapaneseVowels, trained)",
        ["study", "--quick", "--no-report", "--out", join(work, "study"), "--quiet"],
        ["64GiB", "1GiB"],
      ],
    ];
    const rows = ["case | budget | peak RSS | peak / budget | wall s", "--- | --- | --- | --- | ---"];
    const print = (row: string) => {
      rows.push(row);
      process.stdout.write(`${row}\n`);
    };
    for (const [name, argv, budgets] of cases) {
      if (!wanted(name)) continue;
      for (const budget of budgets) {
        rmSync(join(work, "t"), { recursive: true, force: true });
        rmSync(join(work, "study"), { recursive: true, force: true });
        const r = run([process.execPath, join(REPO, "bin/tspatch.js"), ...argv, "--memory-budget", budget]);
        const budgetBytes = Number.parseFloat(budget) * 2 ** 30;
        const shown = budget === "64GiB" ? "none" : budget;
        const ratio = budget === "64GiB" ? "–" : (r.peak / budgetBytes).toFixed(2);
        const peak = r.ok ? `${(r.peak / 2 ** 30).toFixed(2)} GiB` : `exit ${r.status}: ${r.message}`;
        print(`${name} | ${shown} | ${peak} | ${r.ok ? ratio : "–"} | ${r.wall.toFixed(1)}`);
      }
    }
    const options = [
      "arena on, pattern on",
      "arena on, pattern off",
      "arena off, pattern on",
      "arena off, pattern off",
    ];
    const ortRows = [
      "ONNX Runtime options (train 40 × 361, micro-batches of 8) | peak RSS | wall s",
      "--- | --- | ---",
    ];
    for (const [i, label] of options.entries()) {
      if (!wanted("ort")) break;
      rmSync(join(work, "t"), { recursive: true, force: true });
      const child = {
        data: train361,
        out: join(work, "t"),
        arena: i < 2,
        pattern: i % 2 === 0,
        microBatch: 8,
      };
      const r = run([
        process.execPath,
        "--import",
        "tsx",
        join(REPO, "bench/memory-child.ts"),
        JSON.stringify(child),
      ]);
      ortRows.push(
        `${label} | ${r.ok ? `${(r.peak / 2 ** 30).toFixed(2)} GiB` : `exit ${r.status}`} | ${r.wall.toFixed(1)}`,
      );
      process.stdout.write(`${ortRows[ortRows.length - 1]}\n`);
    }
    const load = loadavg()
      .map((l) => l.toFixed(1))
      .join(", ");
    process.stdout.write(
      `\nbench memory (load average ${load} on ${availableParallelism()} cores: wall times are noisy, peaks are not)\n${rows.join("\n")}\n\n${ortRows.join("\n")}\n`,
    );
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
  const result = spawnSync(TIME, ["-f", "TSPATCH_PEAK_KB %M", ...argv], {
    encoding: "utf8",
    cwd: REPO,
    env: { ...process.env, TSPATCH_OFFLINE: "1" },
  });
  const wall = (performance.now() - start) / 1000;
  const peak = Number(/TSPATCH_PEAK_KB (\d+)/.exec(result.stderr ?? "")?.[1] ?? Number.NaN) * 1024;
  const message = (/error: ([^\n]*)/.exec(result.stderr ?? "")?.[1] ?? "").slice(0, 160);
  return { ok: result.status === 0, status: result.status ?? -1, peak, wall, message };
}
