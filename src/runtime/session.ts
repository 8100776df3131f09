import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, unlinkSync } from "node:fs";
import { arch, availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import type ort from "onnxruntime-node";
import { writeFileAtomic } from "../atomic-write.js";
import { cacheDirectory } from "../cache-dir.js";
import { requireCommonJs } from "../commonjs.js";
import type { Graph } from "../graph/ir.js";
import { toOnnx } from "../graph/onnx.js";

/** A tensor crossing into or out of ONNX Runtime. bool tensors use Uint8Array. */
export interface HostTensor {
  data: Float32Array | BigInt64Array | Uint8Array;
  dims: readonly number[];
  dtype?: "float32" | "int64" | "bool";
}

export interface RuntimeOptions {
  /** Intra-op threads (default: the number of available cores). */
  threads?: number;
  /**
   * Let idle pool threads spin between ops (ONNX Runtime's default) instead of sleeping.
   * Default false: on a machine shared with other work a spinning thread takes the core that
   * another pool thread (or process) needs, and every op then waits for a descheduled thread
   * (PenDigits at batch 256, 2 threads, load ≈ 7 on 2 cores: 65 ms per batch spinning, 18 ms
   * not). PyTorch's baseline runs with OMP_WAIT_POLICY=PASSIVE, the same policy.
   */
  spinning?: boolean;
  /**
   * Let graphs use ONNX Runtime contrib ops (`toOnnx`'s `contribOps`: attention as one
   * MultiHeadAttention kernel). Default false: on the reference models at batch 256 it was faster
   * only for the shortest sequences (PenDigits, S = 8: −6%) and slower for S = 25 and 36 (+15%),
   * ONNX Runtime's per-(row, head) kernel losing to batched MatMuls there.
   */
  contribOps?: boolean;
  /**
   * Directory for ONNX Runtime's optimised graphs (default `<cache>/ort`, see `cacheDirectory`;
   * `null` = no disk cache). A command's first run writes each graph as ONNX Runtime optimised
   * it; later runs load that file with optimisation off and skip the optimiser. Environment:
   * TSPATCH_ORT_CACHE=0 turns it off, TSPATCH_ORT_CACHE=<dir> moves it.
   */
  optimizedCacheDir?: string | null;
  /**
   * ONNX Runtime's CPU memory arena (default true). The arena keeps freed blocks for reuse, so
   * a process's peak RSS grows to about twice the live tensors (training 40 rows of length 361
   * in batches of 32: 4.18 GB with it, 2.25 GB without, same weights); without it every
   * tensor goes back to the allocator, at the cost of system time (JapaneseVowels training,
   * 5 epochs: 0.26 s → 1.0 s sys). A memory budget that binds turns it off.
   */
  memoryArena?: boolean;
  /**
   * ONNX Runtime's memory pattern (default true): after a run it pre-allocates one block for the
   * planned tensors of that input shape. Alone off it lowered the training case above to
   * 2.36 GB; with the arena off as well it changes little (2.23 GB).
   */
  memoryPattern?: boolean;
}

type Ort = typeof ort;
let ortModule: Promise<Ort> | undefined;

/** ONNX Runtime's binding, loaded with the first session: commands that never run a graph skip it. */
function loadOrt(): Promise<Ort> {
  ortModule ??= Promise.resolve().then(() => requireCommonJs("onnxruntime-node") as Ort);
  return ortModule;
}

const ORT_VERSION: string = (requireCommonJs("onnxruntime-node/package.json") as { version: string }).version;

/**
 * Compiles IR graphs into ONNX Runtime sessions, once per graph signature
 * (the ONNX bytes), and runs them on typed arrays.
 *
 * @example
 * const rt = new Runtime();
 * const session = await rt.compile(g, ["logits"]);
 * const { logits } = await session.run({ x: { data, dims: [2, 25, 12] } });
 */
export class Runtime {
  private readonly sessions = new Map<string, Promise<CompiledGraph>>();
  /** Graph records read from the disk cache (see knownGraph): each read once per runtime. */
  private readonly known = new Map<string, { graphKey: string; outputs: string[] }>();
  readonly threads: number;
  readonly spinning: boolean;
  readonly contribOps: boolean;
  readonly optimizedCacheDir: string | null;
  readonly memoryArena: boolean;
  readonly memoryPattern: boolean;

  constructor(options: RuntimeOptions = {}) {
    this.threads = options.threads ?? availableParallelism();
    this.spinning = options.spinning ?? false;
    this.contribOps = options.contribOps ?? false;
    this.optimizedCacheDir =
      options.optimizedCacheDir !== undefined ? options.optimizedCacheDir : defaultOptimizedCacheDir();
    this.memoryArena = options.memoryArena ?? true;
    this.memoryPattern = options.memoryPattern ?? true;
  }

  compile(graph: Graph, outputs: readonly string[]): Promise<CompiledGraph> {
    const bytes = toOnnx(graph, { outputs, contribOps: this.contribOps });
    return this.compileBytes(bytes);
  }

  compileBytes(bytes: Uint8Array): Promise<CompiledGraph> {
    return this.compileKey(graphKeyOf(bytes), () => bytes);
  }

  /**
   * {@link compileBytes} for a graph known by its key (the SHA-256 of its bytes, as
   * {@link knownGraph} returns it): `bytes` is called only when no session and no optimised
   * file of that key exists, so a warm command never serialises the graph.
   */
  compileKey(graphKey: string, bytes: () => Uint8Array): Promise<CompiledGraph> {
    let session = this.sessions.get(graphKey);
    if (session === undefined) {
      session = loadOrt().then(
        async (runtime) => new CompiledGraph(await this.createSession(runtime, bytes, graphKey), runtime),
      );
      this.sessions.set(graphKey, session);
    }
    return session;
  }

  /**
   * The graph recorded for `signature` (a caller's digest of everything that makes the graph's
   * bytes, its code included) by {@link recordGraph}, when the disk cache holds its optimised
   * file; else null. A damaged record reads as none.
   */
  knownGraph(signature: string): { graphKey: string; outputs: string[] } | null {
    if (this.optimizedCacheDir === null) return null;
    const seen = this.known.get(signature);
    if (seen !== undefined) return seen;
    try {
      const record = JSON.parse(readFileSync(this.graphRecord(signature), "utf8")) as unknown;
      const { graphKey, outputs } = (record ?? {}) as { graphKey?: unknown; outputs?: unknown };
      if (typeof graphKey !== "string" || !/^[0-9a-f]{64}$/.test(graphKey)) return null;
      if (!Array.isArray(outputs) || !outputs.every((o) => typeof o === "string")) return null;
      if (
        !existsSync(
          join(this.optimizedCacheDir, `${optimizedGraphKey(graphKey, this.sessionOptions())}.onnx`),
        )
      )
        return null;
      const found = { graphKey, outputs: outputs as string[] };
      this.known.set(signature, found);
      return found;
    } catch {
      return null;
    }
  }

  /** Record that `signature` serialises to `bytes` with these outputs (best effort: a cache). */
  recordGraph(signature: string, bytes: Uint8Array, outputs: readonly string[]): void {
    if (this.optimizedCacheDir === null) return;
    try {
      mkdirSync(join(this.optimizedCacheDir, "graphs"), { recursive: true });
      writeFileAtomic(this.graphRecord(signature), JSON.stringify({ graphKey: graphKeyOf(bytes), outputs }));
    } catch {
      // An unwritable cache costs only the speed-up.
    }
  }

  private graphRecord(signature: string): string {
    const name = createHash("sha256").update(signature).digest("hex");
    return join(this.optimizedCacheDir as string, "graphs", `${name}.json`);
  }

  private sessionOptions(): ort.InferenceSession.SessionOptions {
    return {
      intraOpNumThreads: this.threads,
      interOpNumThreads: 1,
      executionMode: "sequential",
      enableCpuMemArena: this.memoryArena,
      enableMemPattern: this.memoryPattern,
      graphOptimizationLevel: "all",
      // Errors only: ONNX Runtime warns on every optimised-graph write that the file is
      // hardware-specific, which the cache key already accounts for.
      logSeverityLevel: 3,
      extra: { session: { "intra_op.allow_spinning": this.spinning ? "1" : "0" } },
    };
  }

  private async createSession(
    runtime: Ort,
    graphBytes: () => Uint8Array,
    knownKey: string,
  ): Promise<ort.InferenceSession> {
    let made: Uint8Array | undefined;
    const bytes = () => {
      made ??= graphBytes();
      return made;
    };
    const options = this.sessionOptions();
    if (this.optimizedCacheDir === null) return runtime.InferenceSession.create(bytes(), options);
    const file = join(this.optimizedCacheDir, `${optimizedGraphKey(knownKey, options)}.onnx`);
    if (existsSync(file)) {
      try {
        // Already optimised: running the optimiser again would only repeat its work.
        return await runtime.InferenceSession.create(readFileSync(file), {
          ...options,
          graphOptimizationLevel: "disabled",
        });
      } catch {
        // A damaged or foreign file: drop it and optimise afresh below.
        removeQuietly(file);
      }
    }
    const data = bytes();
    // Named by the bytes made here: a key that does not match them never names their optimised file.
    const written = join(this.optimizedCacheDir, `${optimizedGraphKey(graphKeyOf(data), options)}.onnx`);
    const tmp = `${written}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    try {
      mkdirSync(this.optimizedCacheDir, { recursive: true });
    } catch {
      // An unwritable cache costs only the speed-up.
      return runtime.InferenceSession.create(data, options);
    }
    const session = await runtime.InferenceSession.create(data, { ...options, optimizedModelFilePath: tmp });
    try {
      // Rename is atomic: a concurrent command sees the whole file or none.
      renameSync(tmp, written);
    } catch {
      removeQuietly(tmp);
    }
    return session;
  }

  /** Number of compiled sessions kept (for tests and diagnostics). */
  get cachedSessions(): number {
    return this.sessions.size;
  }

  async release(): Promise<void> {
    const sessions = await Promise.all(this.sessions.values());
    this.sessions.clear();
    await Promise.all(sessions.map((s) => s.session.release()));
  }
}

export class CompiledGraph {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  constructor(
    readonly session: ort.InferenceSession,
    private readonly runtime: Ort,
  ) {
    this.inputNames = session.inputNames;
    this.outputNames = session.outputNames;
  }

  /**
   * Run with named feeds (extra feeds the graph does not use are ignored) and
   * return the requested outputs (default: all).
   */
  async run(
    feeds: Record<string, HostTensor>,
    fetch?: readonly string[],
  ): Promise<Record<string, HostTensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const name of this.inputNames) {
      const t = feeds[name];
      if (t === undefined) throw new Error(`runtime: no value fed for input "${name}"`);
      ortFeeds[name] = new this.runtime.Tensor(t.dtype ?? dtypeOf(t.data), t.data, t.dims as number[]);
    }
    const result = await this.session.run(ortFeeds, (fetch ?? this.outputNames) as string[]);
    const out: Record<string, HostTensor> = {};
    for (const [name, tensor] of Object.entries(result)) {
      out[name] = {
        data: tensor.data as HostTensor["data"],
        dims: tensor.dims,
        dtype: tensor.type as HostTensor["dtype"],
      };
    }
    return out;
  }
}

/** A graph's key: the SHA-256 of its ONNX bytes. */
function graphKeyOf(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * The cache key of an optimised graph: the graph's bytes, ONNX Runtime's version, the session
 * options and the CPU. "all"-level optimisations pick kernels and layouts for the processor
 * they ran on, so a file is only reused on the same kind of CPU with the same runtime.
 */
function optimizedGraphKey(graphKey: string, options: ort.InferenceSession.SessionOptions): string {
  return createHash("sha256")
    .update(JSON.stringify([graphKey, ORT_VERSION, options, arch(), cpus()[0]?.model ?? "unknown-cpu"]))
    .digest("hex");
}

function defaultOptimizedCacheDir(): string | null {
  const setting = process.env.TSPATCH_ORT_CACHE;
  if (setting === "0") return null;
  return setting ? setting : join(cacheDirectory(), "ort");
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

function dtypeOf(data: HostTensor["data"]): "float32" | "int64" | "bool" {
  return data instanceof Float32Array ? "float32" : data instanceof BigInt64Array ? "int64" : "bool";
}
