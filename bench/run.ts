/**
 * `npm run bench [-- name ...]`: runs the benchmarks (all by default). Each
 * prints its own figures as ratios against a baseline measured in the same run
 * (PyTorch / scipy through /usr/bin/python3 when available), never as a pass/fail.
 */
const suites: Record<string, () => Promise<unknown>> = {
  graph: async () => (await import("./graph-ops.js")).benchGraphOps(),
  stats: async () => (await import("./stats.js")).benchStats(),
  infer: async () => (await import("./infer.js")).benchInfer(),
  train: async () => (await import("./train.js")).benchTrain(),
  patch: async () => (await import("./patch.js")).benchPatch(),
  startup: async () => (await import("./startup.js")).benchStartup(),
  study: async () => (await import("./study.js")).benchStudy(),
  baselines: async () => (await import("./baselines.js")).benchBaselines(),
  memory: async () => (await import("./memory.js")).benchMemory(),
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in suites));
if (unknown.length > 0) {
  process.stderr.write(
    `bench: unknown suite(s) ${unknown.join(", ")}; known: ${Object.keys(suites).join(", ")}\n`,
  );
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : Object.keys(suites)) {
  process.stdout.write(`\n== ${name} ==\n`);
  await suites[name]();
  process.stdout.write(`peak RSS so far: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB\n`);
}
