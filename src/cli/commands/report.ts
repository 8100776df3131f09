import { resolve } from "node:path";
import type { Command } from "commander";
import { writeReport } from "../../report/write-report.js";
import { type CommandContext, printJson } from "../context.js";

interface ReportFlags {
  json?: boolean;
}

/**
 * `tspatch report <runDir> [--json]`: re-render a study's figures, tables and report.html from its
 * results.json (validated), without recomputing anything.
 *
 * @example
 * await runCli(["report", "runs/JapaneseVowels"], memoryIO());
 */
export function register(program: Command, ctx: CommandContext): void {
  program
    .command("report")
    .description("Re-render a study's figures, tables and report.html from its results.json")
    .argument("<runDir>", "the study's --out directory (holding results.json)")
    .option("--json", "print what was written as JSON")
    .action(async (runDir: string, flags: ReportFlags) => {
      const written = await writeReport(resolve(ctx.io.cwd, runDir), { runName: runDir });
      const summary = {
        report: `${runDir.replace(/\/$/, "")}/report.html`,
        figures: written.figures.map((f) => f.files.svg),
        tables: written.tables.length,
      };
      if (flags.json) printJson(ctx, summary);
      else
        ctx.io.stdout(
          `wrote ${summary.report} (${summary.figures.length} figures, ${summary.tables} table files)\n`,
        );
    });
}
