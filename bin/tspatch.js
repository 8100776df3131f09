#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/ (built by `npm ci` through the prepare script). The
// bundled CLI (dist/cli-bundle/, scripts/bundle-cli.mjs) starts faster; it is taken only when it is
// at least as new as the modules it was made from, so a tsc-only rebuild never runs stale code.
import { statSync } from "node:fs";

const modules = new URL("../dist/cli/run.js", import.meta.url);
const bundle = new URL("../dist/cli-bundle/run.js", import.meta.url);
const modified = (url) => statSync(url, { throwIfNoEntry: false })?.mtimeMs;
const built = modified(modules);
if (built === undefined) {
  process.stderr.write("tspatch: dist/ is missing; run `npm run build` in the package directory first.\n");
  process.exit(1);
}
const entry = (modified(bundle) ?? -1) >= built ? bundle : modules;
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
