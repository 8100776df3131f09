/**
 * Where a CLI command reads and writes. Commands never touch `process` directly,
 * so tests run them in-process and capture what they print.
 */
export interface CliIO {
  /** Results (tables, JSON). */
  stdout(text: string): void;
  /** Progress, notices, errors. */
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  cwd: string;
  /** True when stderr is an interactive terminal (progress bars redraw in place). */
  isTTY: boolean;
}

export function processIO(): CliIO {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    isTTY: Boolean(process.stderr.isTTY),
  };
}

/** An IO that records everything, for tests. */
export function memoryIO(overrides: Partial<CliIO> = {}): CliIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    env: {},
    cwd: process.cwd(),
    isTTY: false,
    ...overrides,
  };
}
