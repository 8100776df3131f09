import { runCli } from "./main.js";

/**
 * Entry point used by bin/tspatch.js. The first Ctrl-C (SIGINT) aborts the commands' signal, so a
 * long command can finish its current step and save (exit 130); a second one quits at once.
 */
export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(
      "\ntspatch: interrupted; finishing the current step (Ctrl-C again to quit at once)\n",
    );
    controller.abort();
  };
  process.on("SIGINT", onSigint);
  try {
    return await runCli(argv, undefined, { signal: controller.signal });
  } finally {
    process.off("SIGINT", onSigint);
  }
}
