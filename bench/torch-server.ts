/**
 * A PyTorch baseline script run as a server (its `--serve` mode): it loads its models once, then
 * answers one JSON line per request line. The benchmarks use it to interleave PyTorch passes with
 * their own, pass by pass, so that both sides see the same machine load (the machine is shared
 * and the load changes within seconds; figures taken minutes apart are not comparable).
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface, type Interface } from "node:readline";

export class TorchServer {
  private readonly lines: AsyncIterator<string>;
  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    reader: Interface,
    readonly ready: Record<string, unknown>,
  ) {
    this.lines = reader[Symbol.asyncIterator]();
  }

  /** Start `script --serve args`; undefined when /usr/bin/python3 or the script is missing or fails to start. */
  static async start(script: string, args: readonly string[]): Promise<TorchServer | undefined> {
    if (!existsSync("/usr/bin/python3") || !existsSync(script)) return undefined;
    const child = spawn("/usr/bin/python3", [script, "--serve", ...args], {
      env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE" },
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const reader = createInterface({ input: child.stdout });
    const first = await reader[Symbol.asyncIterator]().next();
    if (first.done) {
      process.stdout.write(
        `(PyTorch baseline unavailable: ${stderr.trim().split("\n").pop() ?? "no output"})\n`,
      );
      return undefined;
    }
    const server = new TorchServer(child, reader, JSON.parse(first.value) as Record<string, unknown>);
    return server;
  }

  /** Send one request line and parse the JSON answer. */
  async request<T>(line: string): Promise<T> {
    this.child.stdin.write(`${line}\n`);
    const next = await this.lines.next();
    if (next.done) throw new Error(`PyTorch server ended before answering "${line}"`);
    return JSON.parse(next.value) as T;
  }

  async stop(): Promise<void> {
    this.child.stdin.end("\n");
    await new Promise<void>((resolve) => {
      if (this.child.exitCode !== null) resolve();
      else this.child.once("exit", () => resolve());
    });
  }
}

/** Minimum and median of a list of timings. */
export function minMedian(values: readonly number[]): { min: number; median: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { min: sorted[0], median };
}
