/**
 * One training run with ONNX Runtime's memory options set by hand, for bench/memory.ts to measure
 * under /usr/bin/time (the CLI chooses them from the budget, so it cannot show each one alone):
 *
 *     node --import tsx bench/memory-child.ts '{"data": "...", "out": "...", "arena": false, "pattern": true, "microBatch": 8}'
 */
import { Runtime } from "../src/runtime/session.js";
import { trainModel } from "../src/train/train-model.js";

const args = JSON.parse(process.argv[2] ?? "{}") as {
  data: string;
  out: string;
  arena: boolean;
  pattern: boolean;
  microBatch?: number;
  epochs?: number;
};
const runtime = new Runtime({ memoryArena: args.arena, memoryPattern: args.pattern });
await trainModel({
  dataset: args.data,
  out: args.out,
  epochs: args.epochs ?? 1,
  microBatch: args.microBatch,
  exportOnnx: false,
  runtime,
  data: { env: { TSPATCH_OFFLINE: "1" } },
});
await runtime.release();
