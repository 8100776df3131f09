/**
 * Where the time of one training step goes inside ONNX Runtime: runs the TST's forward+backward
 * graph for a dataset with ORT's profiler on and sums the node times per op type (and the top
 * nodes), so a slow training step can be traced to the ops that dominate.
 *
 *     node --import tsx scripts/profile-train-step.ts [Dataset] [--steps 10] [--threads 2] [--data-dir DIR]
 */
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import ort from "onnxruntime-node";
import { fitPreprocess } from "../src/data/preprocess.js";
import { loadDataset } from "../src/data/registry.js";
import { toOnnx } from "../src/graph/onnx.js";
import { makeConfig } from "../src/model/config.js";
import { HookedTST } from "../src/model/hooked-tst.js";
import { buildTSTGraph, dropoutInputs } from "../src/model/tst-graph.js";
import { Rng } from "../src/random/rng.js";
import { gatherBatch } from "../src/train/batches.js";
import { trainData } from "../src/train/train-model.js";
import { drawDropoutMasks } from "../src/train/tst-step.js";

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const [, value] = args.splice(i, 2);
  return value;
};
const steps = Number(option("--steps", "10"));
const threads = Number(option("--threads", "2"));
const dataDir = option("--data-dir", resolve("../shared/datasets"));
const name = args[0] ?? "LSST";
const BATCH = 32;

const train = await loadDataset(name, { split: "train", dataDir });
const spec = fitPreprocess(train);
const config = makeConfig({
  channels: train.channels,
  seqLen: spec.padLength,
  classes: train.labelMap.outputs,
});
const model = HookedTST.fromConfig(config, 0, { preprocess: spec, labelMap: train.labelMap });
const data = trainData(model, train);
const masked = data.valid.some((v) => v === 0);
const built = buildTSTGraph(config, { mode: "train", mask: masked });
const bytes = toOnnx(built.graph, { outputs: built.outputs });
const session = await ort.InferenceSession.create(bytes, {
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: "sequential",
  graphOptimizationLevel: "all",
  enableProfiling: true,
  profileFilePrefix: "/tmp/tspatch-train-profile",
});
const feeds: Record<string, ort.Tensor> = {};
for (const [k, v] of Object.entries(model.weightFeeds())) {
  if (session.inputNames.includes(k))
    feeds[k] = new ort.Tensor("float32", v.data as Float32Array, v.dims as number[]);
}
let total = 0;
for (let s = 0; s < steps + 1; s++) {
  const batch = gatherBatch(
    data,
    Int32Array.from({ length: BATCH }, (_, i) => (s * BATCH + i) % data.cases),
  );
  feeds.x = new ort.Tensor("float32", batch.x, [BATCH, config.seqLen, config.channels]);
  if (masked) feeds.mask = new ort.Tensor("bool", batch.valid, [BATCH, config.seqLen]);
  const oneHot = new Float32Array(BATCH * config.classes);
  for (let b = 0; b < BATCH; b++) oneHot[b * config.classes + batch.labels[b]] = 1;
  feeds.labels = new ort.Tensor("float32", oneHot, [BATCH, config.classes]);
  const masks = drawDropoutMasks(model, BATCH, new Rng(0, s));
  for (const [k, shape] of dropoutInputs(config, BATCH))
    feeds[k] = new ort.Tensor("bool", masks.get(k)!, shape as number[]);
  const t0 = performance.now();
  await session.run(feeds, built.outputs);
  if (s > 0) total += performance.now() - t0;
}
session.endProfiling();
await session.release();
// onnxruntime-node does not return the file name: take the newest file with our prefix.
const file = readdirSync("/tmp")
  .filter(
    (f) => f.startsWith(`tspatch-train-profile-${process.pid}`) || f.startsWith("tspatch-train-profile"),
  )
  .map((f) => join("/tmp", f))
  .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
const events = JSON.parse(readFileSync(file, "utf8")) as {
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string; input_type_shape?: Record<string, number[]>[] };
}[];
rmSync(file, { force: true });
const byOp = new Map<string, number>();
const byNode = new Map<string, number>();
const describe = new Map<string, string>();
let nodeTotal = 0;
for (const e of events) {
  if (e.cat !== "Node" || !e.name.endsWith("_kernel_time")) continue;
  const op = e.args?.op_name ?? "?";
  byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
  byNode.set(e.name, (byNode.get(e.name) ?? 0) + e.dur);
  const shapes = (e.args?.input_type_shape ?? []).map((s) => JSON.stringify(Object.values(s)[0])).join(" ");
  describe.set(e.name, `${op} ${shapes}`);
  nodeTotal += e.dur;
}
const runs = steps + 1; // the profiler also saw the warm-up run
process.stdout.write(
  `${name}: ${config.seqLen} steps × ${config.channels} channels, batch ${BATCH}, ${threads} threads: ` +
    `${(total / steps).toFixed(1)} ms per runtime call; kernels ${(nodeTotal / runs / 1000).toFixed(1)} ms; ` +
    `${built.graph.nodes.length} IR nodes\n\nop type           ms/step   share\n`,
);
for (const [op, us] of [...byOp].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
  process.stdout.write(
    `${op.padEnd(16)} ${(us / runs / 1000).toFixed(2).padStart(8)}  ${((100 * us) / nodeTotal).toFixed(1).padStart(5)}%\n`,
  );
}
process.stdout.write("\ntop nodes\n");
for (const [node, us] of [...byNode].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
  const label = node.replace(/_kernel_time$/, "").padEnd(34);
  process.stdout.write(`${label} ${(us / runs / 1000).toFixed(2).padStart(8)} ms  ${describe.get(node)}\n`);
}
