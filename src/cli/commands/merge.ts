import { resolve } from "node:path";
import type { Command } from "commander";
import { mergeStudies } from "../../study/merge.js";
import { type CommandContext, printJson } from "../context.js";
import { progressBar } from "../progress.js";
import { REPORT_STAGE, summaryJson, summaryText } from "./study.js";

/**
 * `tspatch merge <shard dirs…> --out <dir>`: combine the shards of a study and finish it.
 *
 * @example
 * await runCli(["merge", "runs/s0", "runs/s1", "--out", "runs/all"], memoryIO());
 */
export function register(program: Command, ctx: CommandContext): void {
  program
    .command("merge")
    .description("Combine the shards of one study (tspatch study --shard i/n) into one study and finish it")
    .argument("<dirs...>", "the shard directories, every shard once")
    .requiredOption("--out <dir>", "directory of the merged study")
    .option("--quiet", "no progress output")
    .option("--json", "print the summary as JSON")
    .action(async (dirs: string[], flags: { out: string; quiet?: boolean; json?: boolean }) => {
      const started = performance.now();
      const out = resolve(ctx.io.cwd, flags.out);
      const run = await mergeStudies(
        dirs.map((d) => resolve(ctx.io.cwd, d)),
        out,
        {
          data: { cwd: ctx.io.cwd, env: ctx.io.env, download: false },
          signal: ctx.signal,
          progress: (stage, unit) => progressBar(ctx.io, stage, { unit, quiet: flags.quiet }),
          finalStages: [REPORT_STAGE],
        },
      );
      const seconds = (performance.now() - started) / 1000;
      if (run.results === null) return;
      if (flags.json) printJson(ctx, summaryJson(run.results, out, seconds));
      else ctx.io.stdout(summaryText(run.results, out, seconds));
    });
}
