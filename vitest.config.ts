import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    maxWorkers: 2,
    // Optimised runtime graphs go to a per-run temporary cache, not the user's ~/.cache.
    env: { TSPATCH_ORT_CACHE: join(tmpdir(), `tspatch-test-ort-${process.pid}`) },
  },
});
