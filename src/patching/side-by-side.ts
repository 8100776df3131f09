import { rmSync } from "node:fs";
import { extname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { requireCommonJs } from "../commonjs.js";
import { InterruptedError } from "../errors.js";
import type { HookedTST } from "../model/hooked-tst.js";
import { Runtime } from "../runtime/session.js";
import { type FinishedPair, SweepCheckpoint } from "./checkpoint.js";
import type { InputTable } from "./engine.js";
import {
  assembleSweep,
  type FinishedSweep,
  type SweepOptions,
  type SweepResult,
  sweepFinished,
} from "./sweep.js";
import type { Pair } from "./types.js";

/**
 * A sweep in two halves side by side: the first half of its chunks on this thread, the second in
 * a worker thread, each with a single-threaded runtime and its own host work.
 *
 * Why: a runtime call runs synchronously on the thread that makes it. With two intra-op threads
 * on two cores, the second core idled through the host work between calls (feeds, metrics) and
 * through the many small operators that ONNX Runtime does not split (layer norms, transposes,
 * softmax over small matrices): a 400-pair LSST head sweep used 5.4–5.8 CPU seconds for 2.6–3.1 s
 * of wall time with two threads, and 4.4–5.4 CPU seconds with one. Two halves of one thread each
 * keep both cores busy (two processes of 200 pairs: 1.9 s against 2.6 s; see bench/sweep-command.ts
 * for the whole command). Calls dispatched to workers one by one did not help (measured): the host
 * work and the messages stayed on one thread.
 *
 * Results equal a one-thread sweep's to float32 rounding (≤ 1e-6; tested): the halves split at a
 * chunk boundary, so every chunk sees the same runtime batches, but single-threaded sessions can
 * sum a few values in another order than two threads (most sweeps come out byte-identical; the
 * LSST 400-pair CSV and the LSST study's effects do). The same command on the same machine gives
 * the same bytes; with `singleThreaded` (the study) every part is computed on single-threaded
 * sessions, so a shard's chunks give the single run's bytes on any number of cores. Each half keeps
 * its own checkpoint ({@link sideBySideCheckpoints}); one thread sweeps the same halves in turn,
 * so a sweep resumes either way.
 */

/** Fewest chunks that are worth a second thread (a worker and its sessions cost about 0.1 s). */
const MIN_CHUNKS = 4;

export interface SideBySideOptions {
  /** Threads to use (default: the model runtime's); below 2 the halves run in turn on this thread. */
  threads?: number;
  /**
   * Compute on single-threaded sessions even where the sweep runs on this thread alone (too few
   * chunks, or one thread): the bytes are then the same however the sweep was split and however
   * many cores the machine has (the study's shards rely on it). Default false: this thread's
   * sweep uses the model's runtime as it is.
   */
  singleThreaded?: boolean;
}

/**
 * The checkpoint files of a sweep side by side: the caller's for the first half, a sibling for
 * the second (remove both when the sweep is done).
 *
 * @example
 * for (const file of sideBySideCheckpoints("effects.csv.checkpoint")) rmSync(file, { force: true });
 */
export function sideBySideCheckpoints(checkpoint: string): [string, string] {
  return [checkpoint, `${checkpoint}.2`];
}

/**
 * {@link sweep} with its chunks in two halves on two threads when the machine has two cores and
 * the sweep has enough chunks; the same result.
 *
 * @example
 * const result = await sweepSideBySide(model, inputs, pairs, { components, checkpoint });
 */
export function sweepSideBySide(
  model: HookedTST,
  table: InputTable,
  pairs: readonly Pair[],
  options: SweepOptions,
  sides: SideBySideOptions = {},
): Promise<SweepResult> {
  return prepareSweepSideBySide(model, table, pairs, options, sides).run();
}

/** A sweep side by side whose worker is starting: {@link run} it, or {@link cancel} it. */
export interface PreparedSweep {
  run(): Promise<SweepResult>;
  /** Stop the worker without sweeping (e.g. a check before the sweep failed). */
  cancel(): Promise<void>;
}

/**
 * {@link sweepSideBySide} in two steps: the worker thread starts now (loading its modules and
 * the model, about 0.1 s) and sweeps when {@link PreparedSweep.run} is called, so its start-up
 * overlaps whatever the caller does in between (the sweep command's sanity checks).
 *
 * @example
 * const prepared = prepareSweepSideBySide(model, inputs, pairs, options);
 * if (checksFailed) await prepared.cancel(); else result = await prepared.run();
 */
export function prepareSweepSideBySide(
  model: HookedTST,
  table: InputTable,
  pairs: readonly Pair[],
  options: SweepOptions,
  sides: SideBySideOptions = {},
): PreparedSweep {
  // A resumed sweep keeps the chunks it was started with (its checkpoint's grouping wins in
  // sweepFinished too), so it splits its pairs where the interrupted one did.
  const started = options.checkpoint === undefined ? null : SweepCheckpoint.groupingOf(options.checkpoint);
  const perChunk = Math.max(1, started?.pairsPerBatch ?? options.pairsPerBatch ?? 16);
  const chunks = Math.ceil(pairs.length / perChunk);
  const threads = sides.threads ?? model.runtime.threads;
  // This thread's model: the caller's, or one on a single-threaded runtime (released after).
  const here = async <T>(use: (m: HookedTST) => Promise<T>, singleThreaded: boolean): Promise<T> => {
    if (!singleThreaded) return use(model);
    const single = singleThreadedCopy(model);
    try {
      return await use(single);
    } finally {
      await single.runtime.release();
    }
  };
  const pinned = sides.singleThreaded ?? false;
  if (chunks < MIN_CHUNKS) {
    return {
      run: async () => {
        if (options.checkpoint !== undefined)
          rmSync(sideBySideCheckpoints(options.checkpoint)[1], { force: true });
        const run = await here((m) => sweepFinished(m, table, pairs, options), pinned);
        return assembleSweep(pairs, options.components, run);
      },
      cancel: async () => undefined,
    };
  }
  const split = Math.ceil(chunks / 2) * perChunk;
  const halves = [pairs.slice(0, split), pairs.slice(split)] as const;
  const [mine, theirs] =
    options.checkpoint === undefined ? [undefined, undefined] : sideBySideCheckpoints(options.checkpoint);
  const done = [0, 0];
  const progress = (half: number) => (finished: number) => {
    done[half] = finished;
    options.onProgress?.(done[0] + done[1], pairs.length);
  };
  if (threads < 2) {
    // One thread: the same two halves one after the other (and the same checkpoints, so a sweep
    // started side by side resumes here and the other way round).
    const run = () =>
      here(async (m) => {
        const first = await sweepFinished(m, table, halves[0], {
          ...options,
          checkpoint: mine,
          onProgress: progress(0),
        });
        const second = await sweepFinished(m, table, halves[1], {
          ...options,
          checkpoint: theirs,
          onProgress: progress(1),
        });
        return assembleSweep(pairs, options.components, joinHalves(first, second));
      }, pinned);
    return { run, cancel: async () => undefined };
  }
  const worker = startHalf(model, table, halves[1], { ...options, checkpoint: theirs }, progress(1));
  const run = async (): Promise<SweepResult> => {
    const single = singleThreadedCopy(model);
    const onAbort = () => worker.abort();
    options.signal?.addEventListener("abort", onAbort);
    worker.go();
    try {
      const first = await sweepFinished(single, table, halves[0], {
        ...options,
        checkpoint: mine,
        onProgress: progress(0),
      }).catch(async (error: unknown) => {
        worker.abort();
        await worker.result.catch(() => undefined);
        throw error;
      });
      return assembleSweep(pairs, options.components, joinHalves(first, await worker.result));
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
      await single.runtime.release();
    }
  };
  return { run, cancel: () => worker.stop() };
}

/** The model (the same parameters and rows per call) on a new single-threaded runtime. */
function singleThreadedCopy(model: HookedTST): HookedTST {
  const single = model.onRuntime(
    new Runtime({
      threads: 1,
      memoryArena: model.runtime.memoryArena,
      memoryPattern: model.runtime.memoryPattern,
    }),
  );
  single.chunkSize = model.chunkSize;
  return single;
}

function joinHalves(
  first: FinishedSweep,
  second: Pick<FinishedSweep, "finished" | "resumedPairs">,
): FinishedSweep {
  return {
    ...first,
    finished: new Map<string, FinishedPair>([...first.finished, ...second.finished]),
    resumedPairs: first.resumedPairs + second.resumedPairs,
  };
}

/** What the main thread sends a worker half (everything structured-cloneable). */
export interface HalfRequest {
  config: HookedTST["config"];
  params: [string, Float32Array][];
  meta: {
    preprocess: HookedTST["preprocess"];
    labelMap: HookedTST["labelMap"];
    provenance: Record<string, unknown>;
  };
  chunkSize: number;
  memoryArena: boolean;
  memoryPattern: boolean;
  table: InputTable;
  pairs: readonly Pair[];
  options: Omit<SweepOptions, "onProgress" | "signal">;
}

/** What a worker half sends back. */
export type HalfMessage =
  | { kind: "progress"; finished: number }
  | { kind: "done"; finished: [string, FinishedPair][]; resumedPairs: number }
  | { kind: "error"; message: string; interrupted: boolean };

function startHalf(
  model: HookedTST,
  table: InputTable,
  pairs: readonly Pair[],
  options: SweepOptions,
  onProgress: (finished: number) => void,
): {
  result: Promise<Pick<FinishedSweep, "finished" | "resumedPairs">>;
  go(): void;
  abort(): void;
  stop(): Promise<void>;
} {
  // A view into a larger buffer would be cloned whole: send each tensor compact.
  const compact = (a: Float32Array) =>
    a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : a.slice();
  const { onProgress: _, signal: __, ...plain } = options;
  const request: HalfRequest = {
    config: model.config,
    params: [...model.params].map(([name, data]) => [name, compact(data)]),
    meta: { preprocess: model.preprocess, labelMap: model.labelMap, provenance: model.provenance },
    chunkSize: model.chunkSize,
    memoryArena: model.runtime.memoryArena,
    memoryPattern: model.runtime.memoryPattern,
    table: { x: table.x, mask: table.mask, rows: table.rows },
    pairs,
    options: plain,
  };
  // The worker module beside this one: .js in dist/ and the bundle; .ts under the tests, loaded
  // through tsx (a devDependency), which the worker registers first.
  const typescript = extname(fileURLToPath(import.meta.url)) === ".ts";
  const entry = new URL(`./sweep-half-worker${typescript ? ".ts" : ".js"}`, import.meta.url);
  const worker = typescript
    ? new Worker(
        `import(${JSON.stringify(pathToFileURL(requireCommonJs.resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs")).href)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`,
        { eval: true, workerData: request },
      )
    : new Worker(entry, { workerData: request });
  // Until it is told to sweep, a waiting worker must not keep the process alive.
  worker.unref();
  const result = new Promise<Pick<FinishedSweep, "finished" | "resumedPairs">>((resolve, reject) => {
    worker.on("message", (m: HalfMessage) => {
      if (m.kind === "progress") onProgress(m.finished);
      else if (m.kind === "done") {
        // The clone's pair objects are replaced by the caller's in assembleSweep.
        resolve({ finished: new Map(m.finished), resumedPairs: m.resumedPairs });
      } else
        reject(m.interrupted ? new InterruptedError(m.message) : new Error(`sweep worker: ${m.message}`));
    });
    worker.on("error", reject);
    worker.on("exit", (code) => {
      if (code !== 0) reject(new Error(`sweep worker exited with code ${code}`));
    });
  });
  result.catch(() => undefined); // a cancelled worker's result is never awaited
  return {
    result,
    go: () => {
      worker.ref();
      worker.postMessage("go");
    },
    abort: () => worker.postMessage("abort"),
    stop: async () => {
      await worker.terminate();
    },
  };
}
