import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import ort from "onnxruntime-node";
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
}

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
  readonly threads: number;
  readonly spinning: boolean;
  readonly contribOps: boolean;

  constructor(options: RuntimeOptions = {}) {
    this.threads = options.threads ?? availableParallelism();
    this.spinning = options.spinning ?? false;
    this.contribOps = options.contribOps ?? false;
  }

  compile(graph: Graph, outputs: readonly string[]): Promise<CompiledGraph> {
    const bytes = toOnnx(graph, { outputs, contribOps: this.contribOps });
    return this.compileBytes(bytes);
  }

  compileBytes(bytes: Uint8Array): Promise<CompiledGraph> {
    const key = createHash("sha256").update(bytes).digest("hex");
    let session = this.sessions.get(key);
    if (session === undefined) {
      session = ort.InferenceSession.create(bytes, {
        intraOpNumThreads: this.threads,
        interOpNumThreads: 1,
        executionMode: "sequential",
        graphOptimizationLevel: "all",
        extra: { session: { "intra_op.allow_spinning": this.spinning ? "1" : "0" } },
      }).then((s) => new CompiledGraph(s));
      this.sessions.set(key, session);
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
  constructor(readonly session: ort.InferenceSession) {
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
      ortFeeds[name] = new ort.Tensor(t.dtype ?? dtypeOf(t.data), t.data, t.dims as number[]);
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

function dtypeOf(data: HostTensor["data"]): "float32" | "int64" | "bool" {
  return data instanceof Float32Array ? "float32" : data instanceof BigInt64Array ? "int64" : "bool";
}
