/**
 * `tspatch merge`: combine the shards of one study (`tspatch study --shard i/n`, run anywhere)
 * into one study directory, then run its remaining stages (statistics, results). Every shard
 * ran the same data, model, evaluation and pairs stages (deterministic) and swept the chunks of
 * pairs whose number ≡ i (mod n); merged effects are put back in the single run's order (pair order, then
 * component order), so the merged results.json is the one a single run writes.
 */

import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../atomic-write.js";
import { inputError } from "../errors.js";
import { EFFECTS_LONG_COLUMNS } from "../patching/effects-long.js";
import { KIND_FILES, type StudyConfig } from "./config.js";
import { POSITION_UNITS_FILE, runStudy, type StudyOptions, type StudyRun, stageNames } from "./pipeline.js";
import type { StageRecord } from "./stage-manifest.js";

/** Files every shard writes identically, copied once. */
const SHARED_FILES = [
  "config.json",
  "pairs.csv",
  "predictions.csv",
  ".study/data.json",
  ".study/evaluation.json",
  ".study/pairs.json",
  ".study/findings-evaluation.json",
  ".study/findings-pairs.json",
];

/** Shared files a shard writes only for some configurations (compared and copied when the first shard has them). */
const OPTIONAL_SHARED_FILES = [POSITION_UNITS_FILE];

/**
 * Merge shard directories into `out` and finish the study there.
 *
 * @example
 * const run = await mergeStudies(["runs/s0", "runs/s1"], "runs/all");
 */
export async function mergeStudies(
  dirs: readonly string[],
  out: string,
  options: Omit<StudyOptions, "config" | "out" | "resume" | "shard"> = {},
): Promise<StudyRun> {
  if (dirs.length === 0)
    throw inputError("no shard directories given", {
      hint: "tspatch merge runs/s0 runs/s1 … --out runs/all",
    });
  const shards = dirs.map((dir) => readShard(dir));
  const count = shards[0].count;
  const seen = new Set<number>();
  for (const s of shards) {
    if (s.count !== count) {
      throw inputError(`shard ${s.index}/${s.count} belongs to a split into ${s.count}, not ${count}`, {
        file: s.dir,
        hint: "merge the shards of one split only",
      });
    }
    if (seen.has(s.index)) throw inputError(`shard ${s.index}/${count} given twice`, { file: s.dir });
    seen.add(s.index);
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
  if (missing.length > 0) {
    throw inputError(`shards ${missing.map((i) => `${i}/${count}`).join(", ")} are missing`, {
      hint: "run every shard (tspatch study --shard i/n) and pass all their directories",
    });
  }
  const first = shards[0].dir;
  const shared = [...SHARED_FILES, ...OPTIONAL_SHARED_FILES.filter((f) => existsSync(join(first, f)))];
  for (const s of shards.slice(1)) {
    for (const file of [...shared, "model/weights.safetensors"]) {
      if (!readFileSync(join(s.dir, file)).equals(readFileSync(join(first, file)))) {
        throw inputError(`${file} differs from the first shard's (${first})`, {
          file: join(s.dir, file),
          hint: "the shards ran different configurations, data or models; re-run them with the same options",
        });
      }
    }
  }
  const config = JSON.parse(readFileSync(join(first, "config.json"), "utf8")) as StudyConfig;
  mkdirSync(join(out, ".study"), { recursive: true });
  mkdirSync(join(out, "effects"), { recursive: true });
  mkdirSync(join(out, "model"), { recursive: true });
  if (existsSync(join(out, "stages.json"))) {
    throw inputError("the output directory already holds a study", {
      file: out,
      hint: "choose another --out",
    });
  }
  for (const file of shared) writeFileAtomic(join(out, file), readFileSync(join(first, file)));
  for (const file of readdirSync(join(first, "model")))
    copyFileSync(join(first, "model", file), join(out, "model", file));
  const order = pairOrder(join(first, ".study/pairs.json"));
  for (const kind of config.kinds) {
    const file = KIND_FILES[kind].file;
    const lines = shards.flatMap((s) => {
      const text = readFileSync(join(s.dir, file), "utf8").split("\n");
      return text.slice(1).filter((line) => line !== "");
    });
    const keyOf = (line: string) => {
      const cells = line.split(",", 5);
      return order.get(`${cells[0]}:${cells[4]}`) ?? Number.MAX_SAFE_INTEGER;
    };
    const sorted = lines
      .map((line, i) => ({ line, i, key: keyOf(line) }))
      .sort((a, b) => a.key - b.key || a.i - b.i);
    writeFileAtomic(
      join(out, file),
      `${[EFFECTS_LONG_COLUMNS.join(","), ...sorted.map((s) => s.line)].join("\n")}\n`,
    );
  }
  const text = readFileSync(join(first, "config.json"), "utf8");
  const record: StageRecord = {
    format: "tspatch-study-stages",
    config: text,
    done: stageNames(config, { index: 0, count }).map((stage) => ({ stage, seconds: 0 })),
  };
  writeFileAtomic(join(out, "stages.json"), `${JSON.stringify(record, null, 2)}\n`);
  return runStudy({ ...options, config, out, resume: true, shard: null });
}

function readShard(dir: string): { dir: string; index: number; count: number } {
  const file = join(dir, "shard.json");
  if (!existsSync(file)) {
    throw inputError("not a finished shard (no shard.json)", {
      file: dir,
      hint: "run tspatch study --shard i/n into it (again with --resume if it was interrupted)",
    });
  }
  const { shard } = JSON.parse(readFileSync(file, "utf8")) as { shard: string };
  const [index, count] = shard.split("/").map(Number);
  return { dir, index, count };
}

function pairOrder(file: string): Map<string, number> {
  const { pairs } = JSON.parse(readFileSync(file, "utf8")) as { pairs: { id: number; direction: string }[] };
  return new Map(pairs.map((p, i) => [`${p.id}:${p.direction}`, i]));
}
