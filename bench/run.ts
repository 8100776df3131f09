import { loadavg } from "node:os";

/**
 * `npm run bench [-- name ...]`: runs the benchmarks (all by default). Each
 * prints its own figures as ratios against a baseline measured in the same run
 * (PyTorch / scipy through /usr/bin/python3 when available), never as a pass/fail.
 */
const suites: Record<string, (flags: readonly string[]) => Promise<unknown>> = {
  graph: async () => (await import("./graph-ops.js")).benchGraphOps(),
  stats: async () => (await import("./stats.js")).benchStats(),
  infer: async () => (await import("./infer.js")).benchInfer(),
  train: async () => (await import("./train.js")).benchTrain(),
  patch: async () => (await import("./patch.js")).benchPatch(),
  startup: async () => (await import("./startup.js")).benchStartup(),
  "sweep-command": async () => (await import("./sweep-command.js")).benchSweepCommand(),
  scaling: async (flags) => (await import("./scaling.js")).benchScaling(flags),
  study: async () => (await import("./study.js")).benchStudy(),
  baselines: async () => (await import("./baselines.js")).benchBaselines(),
  memory: async () => (await import("./memory.js")).benchMemory(),
};

// Words are suite names; --flags go to every suite that reads them (scaling: --quick, --docs).
const wanted = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const flags = process.argv.slice(2).filter((a) => a.startsWith("--"));
const unknown = wanted.filter((name) => !(name in suites));
if (unknown.length > 0) {
  process.stderr.write(
    `bench: unknown suite(s) ${unknown.join(", ")}; known: ${Object.keys(suites).join(", ")}\n`,
  );
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : Object.keys(suites)) {
  // The machine may be shared: the load says how far apart to read the absolute figures.
  process.stdout.write(
    `\n== ${name} == (load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(", ")})\n`,
  );
  await suites[name](flags);
  process.stdout.write(`peak RSS so far: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB\n`);
}
