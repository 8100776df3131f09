// The CLI as a few bundled files: `npm run build` runs this after tsc.
//
// Why: Node resolves, reads, compiles and links every ES module separately, and a command's import
// graph is 100–150 of our files: 90–125 ms of a warm one-pair `sweep` (about 0.5 s in all) went to
// loading them. Bundled (one entry per command, shared code in chunks, packages left as imports),
// the same command loads its code in 22–34 ms (bench/startup.ts measures the whole command).
//
// dist/cli-bundle/ sits at the same depth as dist/<layer>/, so the modules that find the package's
// files from their own URL (datasets/, maps/) resolve the same paths from a chunk. bin/tspatch.js
// takes the bundle only when it is at least as new as dist/cli/run.js (a tsc-only rebuild falls
// back to the unbundled modules rather than run stale code).
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("../", import.meta.url));
const outdir = `${root}dist/cli-bundle`;
rmSync(outdir, { recursive: true, force: true });
await build({
  // The sweep's worker half is started by file name from the chunk beside it (side-by-side.ts).
  entryPoints: {
    run: `${root}dist/cli/run.js`,
    "sweep-half-worker": `${root}dist/patching/sweep-half-worker.js`,
  },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // npm packages stay imports: native addons (onnxruntime-node, resvg) load from node_modules as
  // before, and a user's `npm update` of a dependency is not hidden inside our files.
  packages: "external",
  sourcemap: "linked",
  logLevel: "warning",
});
