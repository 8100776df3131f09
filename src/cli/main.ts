import { Command, CommanderError } from "commander";
import { InputError, InterruptedError } from "../errors.js";
import { asInputError } from "../fs-error.js";
import { version } from "../version.js";
import { register as baselinesCommand } from "./commands/baselines.js";
import { register as datasetsCommand } from "./commands/datasets.js";
import { register as evalCommand } from "./commands/eval.js";
import { register as exportCommand } from "./commands/export.js";
import { register as importPthCommand } from "./commands/import-pth.js";
import { register as mergeCommand } from "./commands/merge.js";
import { register as patchCommand } from "./commands/patch.js";
import { register as reportCommand } from "./commands/report.js";
import { register as stabilityCommand } from "./commands/stability.js";
import { register as statsCommand } from "./commands/stats.js";
import { register as studyCommand } from "./commands/study.js";
import { register as sweepCommand } from "./commands/sweep.js";
import { register as trainCommand } from "./commands/train.js";
import type { CommandContext } from "./context.js";
import { type CliIO, processIO } from "./io.js";

/** Each command file exports one `register` that adds itself to the program. */
type Register = (program: Command, ctx: CommandContext) => void;

const commands: Register[] = [
  studyCommand,
  mergeCommand,
  datasetsCommand,
  trainCommand,
  evalCommand,
  exportCommand,
  importPthCommand,
  patchCommand,
  sweepCommand,
  statsCommand,
  reportCommand,
  stabilityCommand,
  baselinesCommand,
];

/**
 * Run the CLI with `argv` (without `node` and the script name) and return the
 * exit code: 0 ok, 1 internal error, 2 bad input or usage, 130 interrupted.
 *
 * @example
 * const code = await runCli(["datasets", "info", "JapaneseVowels", "--json"]);
 */
export async function runCli(
  argv: string[],
  io: CliIO = processIO(),
  options: { signal?: AbortSignal } = {},
): Promise<number> {
  const ctx: CommandContext = { io, exitCode: 0, signal: options.signal };
  const program = new Command("tspatch")
    .description("Activation patching for time-series Transformer classifiers.")
    .version(version, "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
    });
  for (const register of commands) register(program, ctx);
  try {
    await program.parseAsync(argv, { from: "user" });
    return ctx.exitCode;
  } catch (error) {
    return reportError(error, io);
  }
}

function reportError(thrown: unknown, io: CliIO): number {
  const error = asInputError(thrown);
  if (error instanceof CommanderError) {
    // Help and version exit through here with code 0; usage errors were already printed.
    return error.exitCode === 0 ? 0 : 2;
  }
  if (error instanceof InputError) {
    io.stderr(`tspatch: error: ${error.message}\n`);
    return 2;
  }
  if (error instanceof InterruptedError) {
    io.stderr(`tspatch: ${error.message}\n`);
    return 130;
  }
  const detail =
    error instanceof Error
      ? io.env.TSPATCH_DEBUG
        ? (error.stack ?? error.message)
        : error.message
      : String(error);
  io.stderr(
    `tspatch: internal error: ${detail}\n  This is a bug in tspatch; rerun with TSPATCH_DEBUG=1 for a stack trace and report it.\n`,
  );
  return 1;
}
