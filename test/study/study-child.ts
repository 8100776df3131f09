// Runs `tspatch study` from source in a child process (the resume test kills it with SIGKILL).
import { runCli } from "../../src/cli/main.js";

process.exitCode = await runCli(process.argv.slice(2));
