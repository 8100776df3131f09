/**
 * Where a one-pair `tspatch sweep` spends its start-up, phase by phase, in a fresh Node process
 * (no tsx): the steps the command takes, timed one after another on a built checkout's dist/.
 * Each phase's time includes the modules it is the first to load.
 *
 *   node scripts/sweep-phases.mjs <checkout> <model.pth|dir> <data.ts> [rounds]
 *
 * Prints one JSON line per round: wall ms per phase. Run it on two checkouts (before / after a
 * change), alternately, to compare them under the same machine load.
 */
import { spawnSync } from "node:child_process";

const [checkout, model, data, rounds = "1", child] = process.argv.slice(2);
if (child !== "child") {
  for (let r = 0; r < Number(rounds); r++) {
    const out = spawnSync(process.execPath, [process.argv[1], checkout, model, data, "1", "child"], {
      encoding: "utf8",
    });
    process.stdout.write(out.stdout);
    if (out.status !== 0) process.stderr.write(out.stderr);
  }
} else {
  const dist = new URL(`file://${checkout}/dist/`);
  const at = {};
  let last = performance.now();
  at.node = last; // process start → this script running
  const mark = (name) => {
    const now = performance.now();
    at[name] = now - last;
    last = now;
  };
  const imp = (p) => import(new URL(p, dist).href);
  const main = await imp("cli/main.js");
  const sweepCmd = await imp("cli/commands/sweep.js").catch(() => null);
  void main;
  void sweepCmd;
  const { loadDataset } = await imp("data/registry.js");
  const { loadModel } = await imp("model/model-dir.js");
  const { prepareInputs } = await imp("model/prepare-inputs.js");
  const { forPatching } = await imp("patching/inputs.js");
  const { buildPairs } = await imp("patching/build-pairs.js");
  const { patchSanity } = await imp("diagnostics/patch-sanity.js");
  const { parseComponents } = await imp("patching/presets.js");
  const { sweep, cacheHooksFor } = await imp("patching/sweep.js");
  const { effectsLongCsv } = await imp("patching/effects-long.js");
  mark("import");
  const dataset = await loadDataset(data);
  mark("data");
  const { model: m } = loadModel(model, { data: dataset });
  mark("model");
  const inputs = forPatching(prepareInputs(m, dataset));
  const components = parseComponents(m.config, "heads", "z");
  mark("prepare");
  const built = await buildPairs(m, inputs, {
    strategy: "misclassified",
    list: [{ source: 0, target: 1 }],
    cacheHooks: cacheHooksFor(m, components),
  });
  mark("pairs");
  await patchSanity(m, built.inputs, built.pairs.pairs, components, { lengths: built.inputs.lengths });
  mark("sanity");
  const result = await sweep(m, built.inputs, built.pairs.pairs, { components });
  mark("sweep");
  effectsLongCsv(result.rows, inputs.labelMap);
  mark("csv");
  const round = Object.fromEntries(Object.entries(at).map(([k, v]) => [k, Math.round(v)]));
  process.stdout.write(`${JSON.stringify(round)}\n`);
}
