import type * as Commander from "commander";
import { requireCommonJs } from "../commonjs.js";
import { InputError, InterruptedError } from "../errors.js";
import { asInputError } from "../fs-error.js";
import { version } from "../version.js";
import type { CommandContext } from "./context.js";
import { type CliIO, processIO } from "./io.js";

/** Each command file exports one `register` that adds itself to the program. */
type Register = (program: Commander.Command, ctx: CommandContext) => void;

/**
 * The commands, in the order `--help` lists them, each loaded only when needed: a command's
 * module pulls in its whole import graph (the report's Vega, the statistics' special functions,
 * the model and runtime), and compiling modules a command never uses was most of a small
 * command's start-up.
 */
const COMMANDS: Record<string, () => Promise<{ register: Register }>> = {
  study: () => import("./commands/study.js"),
  merge: () => import("./commands/merge.js"),
  datasets: () => import("./commands/datasets.js"),
  train: () => import("./commands/train.js"),
  eval: () => import("./commands/eval.js"),
  export: () => import("./commands/export.js"),
  "import-pth": () => import("./commands/import-pth.js"),
  patch: () => import("./commands/patch.js"),
  sweep: () => import("./commands/sweep.js"),
  stats: () => import("./commands/stats.js"),
  report: () => import("./commands/report.js"),
  stability: () => import("./commands/stability.js"),
  baselines: () => import("./commands/baselines.js"),
};

/** The command `argv` names (its first word), none for the version, every command for help and typos. */
async function commandsFor(argv: readonly string[]): Promise<Register[]> {
  const first = argv[0] ?? "";
  const named =
    first === "-V" || first === "--version"
      ? []
      : Object.hasOwn(COMMANDS, first)
        ? [first]
        : Object.keys(COMMANDS);
  const modules = await Promise.all(named.map((name) => COMMANDS[name]()));
  return modules.map((m) => m.register);
}

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
  const { Command } = requireCommonJs("commander") as typeof Commander;
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
  try {
    for (const register of await commandsFor(argv)) register(program, ctx);
    await program.parseAsync(argv, { from: "user" });
    return ctx.exitCode;
  } catch (error) {
    return reportError(error, io);
  }
}

function reportError(thrown: unknown, io: CliIO): number {
  const error = asInputError(thrown);
  if (error instanceof (requireCommonJs("commander") as typeof Commander).CommanderError) {
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
