import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REFERENCE_CASES, REPO, SHARED } from "./setup.js";

/**
 * Start-up of small commands, as a user runs them from the shell: each command cold (an empty
 * optimised-graph cache, so ONNX Runtime optimises every graph and writes it) and warm (the cache
 * filled by the cold run), interleaved round by round so that machine load hits both alike. The
 * ratio cold/warm is the figure; wall and CPU seconds are printed beside it. CPU time comes from
 * /usr/bin/time when it exists (it is steadier than wall time on a shared machine).
 * BENCH_BASE=<another checkout, built>: also times that checkout's warm run in the same rounds
 * (before/after a change, under the same load).
 */
export async function benchStartup(): Promise<void> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  const work = mkdtempSync(join(tmpdir(), "tspatch-startup-"));
  try {
    const cases = REFERENCE_CASES.filter((c) => c.name !== "PenDigits");
    const models: Record<string, string> = {};
    for (const c of cases) {
      const dir = join(work, c.name);
      run(
        ["import-pth", join(SHARED, "models/reference", c.pth), "--data", join(SHARED, c.test), "--out", dir],
        {},
      );
      models[c.name] = dir;
    }
    const pairs = join(work, "pair.csv");
    writeFileSync(pairs, "source,target\n0,1\n");
    const commands: Record<string, string[]> = { "datasets info": ["datasets", "info", "JapaneseVowels"] };
    for (const c of cases) {
      const data = join(SHARED, c.test);
      commands[`eval ${c.name}`] = ["eval", "--model", models[c.name], "--data", data, "--quiet"];
      commands[`patch ${c.name}`] = [
        "patch",
        "--model",
        models[c.name],
        "--data",
        data,
        "--source",
        "0",
        "--target",
        "1",
      ];
      commands[`sweep 1 pair ${c.name}`] = [
        "sweep",
        ...["--model", models[c.name], "--data", data, "--pairs-file", pairs],
        ...["--out", join(work, "effects.csv"), "--quiet"],
      ];
    }
    const base = process.env.BENCH_BASE;
    process.stdout.write(`${rounds} interleaved rounds; seconds are medians (wall / CPU)\n`);
    process.stdout.write(
      `| command | cold wall | warm wall | cold CPU | warm CPU | cold/warm (wall) | cold/warm (CPU) |${base ? " base warm wall | base warm CPU | base/warm (CPU) |" : ""}\n|---|---|---|---|---|---|---|${base ? "---|---|---|" : ""}\n`,
    );
    for (const [name, argv] of Object.entries(commands)) {
      const cold: Timing[] = [];
      const warm: Timing[] = [];
      const before: Timing[] = [];
      const warmCache = join(work, "warm-cache");
      run(argv, { TSPATCH_CACHE: warmCache });
      for (let r = 0; r < rounds; r++) {
        const coldCache = join(work, `cold-cache-${r}`);
        cold.push(run(argv, { TSPATCH_CACHE: coldCache }));
        rmSync(coldCache, { recursive: true, force: true });
        warm.push(run(argv, { TSPATCH_CACHE: warmCache }));
        if (base) before.push(run(argv, { TSPATCH_CACHE: warmCache }, base));
      }
      const cw = median(cold.map((t) => t.wall));
      const ww = median(warm.map((t) => t.wall));
      const cc = median(cold.map((t) => t.cpu));
      const wc = median(warm.map((t) => t.cpu));
      const bw = median(before.map((t) => t.wall));
      const bc = median(before.map((t) => t.cpu));
      process.stdout.write(
        `| ${name} | ${cw.toFixed(2)} | ${ww.toFixed(2)} | ${fmt(cc)} | ${fmt(wc)} | ${(cw / ww).toFixed(2)}× | ${Number.isNaN(cc) ? "–" : `${(cc / wc).toFixed(2)}×`} |${base ? ` ${bw.toFixed(2)} | ${fmt(bc)} | ${(bc / wc).toFixed(2)}× |` : ""}\n`,
      );
    }
    // The floor under every row: Node's own start, in the same environment. NODE_EXTRA_CA_CERTS
    // (set on some machines for a proxy) makes Node parse a CA bundle before any of our code runs.
    const extraCerts = process.env.NODE_EXTRA_CA_CERTS;
    const floor = median(Array.from({ length: rounds }, () => nodeStart(process.env)));
    let line = `Node's own start (\`node -e 0\`): ${floor.toFixed(2)} s wall`;
    if (extraCerts !== undefined) {
      const { NODE_EXTRA_CA_CERTS: _, ...without } = process.env;
      const bare = median(Array.from({ length: rounds }, () => nodeStart(without)));
      line += `; ${bare.toFixed(2)} s without NODE_EXTRA_CA_CERTS (set here to ${extraCerts})`;
    }
    process.stdout.write(`${line}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function nodeStart(env: NodeJS.ProcessEnv): number {
  const start = performance.now();
  spawnSync(process.execPath, ["-e", "0"], { env });
  return (performance.now() - start) / 1000;
}

interface Timing {
  wall: number;
  cpu: number;
}

const TIME = "/usr/bin/time";

function run(argv: string[], env: Record<string, string>, checkout = REPO): Timing {
  const cli = join(checkout, "bin/tspatch.js");
  const useTime = existsSync(TIME);
  const command = useTime ? TIME : process.execPath;
  const args = useTime ? ["-f", "TSPATCH_CPU %U %S", process.execPath, cli, ...argv] : [cli, ...argv];
  const start = performance.now();
  const result = spawnSync(command, args, { env: { ...process.env, ...env }, encoding: "utf8" });
  const wall = (performance.now() - start) / 1000;
  if (result.status !== 0)
    throw new Error(`bench startup: tspatch ${argv.join(" ")} failed:\n${result.stderr}`);
  const cpuLine = /TSPATCH_CPU ([\d.]+) ([\d.]+)/.exec(result.stderr ?? "");
  return { wall, cpu: cpuLine ? Number(cpuLine[1]) + Number(cpuLine[2]) : Number.NaN };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function fmt(v: number): string {
  return Number.isNaN(v) ? "–" : v.toFixed(2);
}
