import { fileURLToPath } from "node:url";

/** What every benchmark shares: where the repo and ../shared are, the thread count, the reference cases. */
export const REPO = fileURLToPath(new URL("../", import.meta.url));
export const SHARED = process.env.TSPATCH_SHARED ?? fileURLToPath(new URL("../../shared/", import.meta.url));
/** Ours and PyTorch both run with this many threads (the machine's 2 cores). */
export const THREADS = 2;

/** The three reference checkpoints and the TEST file each was evaluated on (paths under SHARED). */
export const REFERENCE_CASES = [
  {
    name: "JapaneseVowels",
    pth: "TST_japanesevowels.pth",
    test: "datasets/JapaneseVowels/JapaneseVowels_eq_TEST.ts",
  },
  { name: "PenDigits", pth: "TST_pendigits.pth", test: "datasets/PenDigits/PenDigits_TEST.ts" },
  { name: "LSST", pth: "TST_lsst.pth", test: "datasets/LSST/LSST_TEST.ts" },
] as const;

/**
 * `n` pairs of distinct rows spread over `rows` rows by fixed arithmetic steps (no randomness
 * needed), as a pairs CSV, and how many distinct rows they use.
 */
export function spreadPairsCsv(n: number, rows: number): { csv: string; distinct: number } {
  const out = ["source,target"];
  const used = new Set<number>();
  for (let i = 0; out.length <= n; i++) {
    const source = (i * 7919) % rows;
    const target = (i * 104729 + 1) % rows;
    if (source === target) continue;
    out.push(`${source},${target}`);
    used.add(source).add(target);
  }
  return { csv: `${out.join("\n")}\n`, distinct: used.size };
}
