import { runCli } from "./main.js";

/** Entry point used by bin/tspatch.js. */
export async function main(argv: string[]): Promise<number> {
  return runCli(argv);
}
