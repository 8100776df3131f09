import type { CliIO } from "./io.js";

/** What every command gets: where to print, and a slot for a non-zero exit code. */
export interface CommandContext {
  io: CliIO;
  exitCode: number;
  /** Aborted on Ctrl-C (SIGINT): long commands finish their current step, save, and exit 130. */
  signal?: AbortSignal;
}

/** Print a JSON document on stdout, one trailing newline. */
export function printJson(ctx: CommandContext, value: unknown): void {
  ctx.io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}
