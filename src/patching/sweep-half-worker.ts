/**
 * The worker thread of a sweep side by side (side-by-side.ts): the model rebuilt from the sent
 * weights on a single-threaded runtime, the second half's chunks swept, the finished pairs sent
 * back. It sweeps on "go" (it starts while the parent still checks); "abort" stops it at the next
 * runtime call, as Ctrl-C stops a sweep.
 */
import { parentPort, workerData } from "node:worker_threads";
import { InterruptedError } from "../errors.js";
import { HookedTST } from "../model/hooked-tst.js";
import { Runtime } from "../runtime/session.js";
import type { HalfMessage, HalfRequest } from "./side-by-side.js";
import { sweepFinished } from "./sweep.js";

const port = parentPort;
if (port === null) throw new Error("sweep-half-worker: run as a worker thread");
const request = workerData as HalfRequest;
const controller = new AbortController();
let go: () => void = () => undefined;
const started = new Promise<void>((resolve) => {
  go = resolve;
});
port.on("message", (m: unknown) => {
  if (m === "abort") controller.abort();
  if (m === "go") go();
});
const send = (m: HalfMessage) => port.postMessage(m);

const runtime = new Runtime({
  threads: 1,
  memoryArena: request.memoryArena,
  memoryPattern: request.memoryPattern,
});
try {
  const model = new HookedTST(request.config, new Map(request.params), request.meta, runtime);
  model.chunkSize = request.chunkSize;
  await started; // modules and model ready; sweep when the parent says so
  const run = await sweepFinished(model, request.table, request.pairs, {
    ...request.options,
    signal: controller.signal,
    onProgress: (finished) => send({ kind: "progress", finished }),
  });
  send({ kind: "done", finished: [...run.finished], resumedPairs: run.resumedPairs });
} catch (error) {
  send({
    kind: "error",
    message: error instanceof Error ? error.message : String(error),
    interrupted: error instanceof InterruptedError,
  });
} finally {
  await runtime.release();
  port.close();
}
