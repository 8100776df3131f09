/**
 * Parse time of each shared UEA file (median of 5 runs after one warm-up):
 * wall-clock and this process's CPU time (the latter is steadier on a busy
 * machine; the load average is printed for context).
 *
 *   node --import tsx scripts/parse-times.ts [dir]   (default ../shared/datasets)
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { parseTs } from "../src/data/ts-format.js";

const root = resolve(process.argv[2] ?? join(import.meta.dirname, "..", "..", "shared", "datasets"));
const files = readdirSync(root)
  .flatMap((d) => {
    const dir = join(root, d);
    return statSync(dir).isDirectory() ? readdirSync(dir).map((f) => join(dir, f)) : [];
  })
  .filter((f) => f.endsWith(".ts"))
  .sort();

console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}`,
);
console.log("file | bytes | cases | channels | length | read+parse wall ms | CPU ms | MB/s (wall)");
for (const file of files) {
  const run = () => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const ds = parseTs(readFileSync(file), { file });
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    return { ms, cpuMs: (cpu.user + cpu.system) / 1000, ds };
  };
  run(); // warm-up (JIT)
  const runs = Array.from({ length: 5 }, run);
  const ms = runs.map((r) => r.ms).sort((a, b) => a - b)[2];
  const cpuMs = runs.map((r) => r.cpuMs).sort((a, b) => a - b)[2];
  const { ds } = runs[0];
  const bytes = statSync(file).size;
  const lengths = [...ds.lengths];
  const length = `${Math.min(...lengths)}..${Math.max(...lengths)}`;
  console.log(
    `${file.slice(root.length + 1)} | ${bytes} | ${ds.cases} | ${ds.channels} | ${length} | ${ms.toFixed(1)} | ${cpuMs.toFixed(1)} | ${(bytes / 1e6 / (ms / 1000)).toFixed(0)}`,
  );
}
