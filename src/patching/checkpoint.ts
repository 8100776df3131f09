import { createHash } from "node:crypto";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { inputError } from "../errors.js";
import type { EffectMetrics } from "./metrics.js";
import type { Alignment, Component, Pair, RowStatus } from "./types.js";

/**
 * The checkpoint of a sweep: a JSON-lines file whose first line identifies the
 * sweep (a hash of its pairs, components and settings) and whose every further
 * line is one finished pair. Lines are appended whole after each chunk, so
 * killing the process loses at most the chunk in flight; a torn last line is
 * ignored when reading.
 */

const KIND = "tspatch-sweep-checkpoint";

interface Header {
  kind: typeof KIND;
  version: 2;
  hash: string;
  /** How pairs were grouped into runtime calls; a resumed sweep uses the same (absent in old files). */
  grouping?: Grouping;
}

/**
 * How a sweep groups pairs into chunks and patched runs into runtime calls. Float results depend
 * on it in the last digits (the runtime's kernels sum in another order for another batch), so a
 * resumed sweep restores it from the checkpoint.
 */
export interface Grouping {
  pairsPerBatch: number;
  batchRows: number;
}

interface PairLine {
  pair: string;
  sourceLogits: number[];
  targetLogits: number[];
  /** Real steps of the source and the target, and the overlap (same for every row of the pair). */
  steps: [number, number, number];
  /** Per component, in component order: the row status, then [dpTrue, recovery|null, logitDiff, dLogitDiff, klSource] unless not_applicable. */
  rows: [RowStatus, ...(number | null)[]][];
}

export interface CheckpointMeta {
  fingerprint: string;
  components: readonly Component[];
  pairs: readonly Pair[];
  basis: string;
  epsilon: number;
  freezeMlps: boolean;
  align: Alignment;
  /** The grouping asked for; an existing checkpoint's own grouping wins. */
  grouping: Grouping;
}

/** One finished (pair, component) row: its status, the pair's alignment, and the metrics (null when not applicable). */
export interface FinishedRow {
  status: RowStatus;
  overlap: number;
  sourceSteps: number;
  targetSteps: number;
  metrics: EffectMetrics | null;
}

export interface FinishedPair {
  baseline: { pair: Pair; sourceLogits: Float64Array; targetLogits: Float64Array };
  rows: FinishedRow[];
}

export class SweepCheckpoint {
  private constructor(
    readonly path: string,
    private readonly done: Map<string, FinishedPair>,
    /** The grouping the sweep was started with (restored on resume). */
    readonly grouping: Grouping,
  ) {}

  /**
   * Open (or start) the checkpoint at `path` for the sweep described by `meta`.
   * A checkpoint of a different sweep is an InputError (never silently mixed).
   *
   * @example
   * const cp = SweepCheckpoint.open("effects.csv.checkpoint", meta);
   */
  /**
   * The grouping a checkpoint file was started with, or null (no file, not a checkpoint, or one
   * that predates groupings). Read before the pairs are split into parts, so a resumed sweep
   * splits them as the interrupted one did.
   *
   * @example
   * const perChunk = SweepCheckpoint.groupingOf(path)?.pairsPerBatch ?? 16;
   */
  static groupingOf(path: string): Grouping | null {
    if (!existsSync(path)) return null;
    try {
      const header = JSON.parse(readFileSync(path, "utf8").split("\n", 1)[0]) as Partial<Header>;
      return header.kind === KIND && header.grouping !== undefined ? header.grouping : null;
    } catch {
      return null;
    }
  }

  static open(path: string, meta: CheckpointMeta): SweepCheckpoint {
    const hash = createHash("sha256")
      .update(
        JSON.stringify([
          meta.fingerprint,
          meta.components,
          meta.pairs,
          meta.basis,
          meta.epsilon,
          meta.freezeMlps,
          meta.align,
        ]),
      )
      .digest("hex");
    const done = new Map<string, FinishedPair>();
    const byKey = new Map(meta.pairs.map((p) => [`${p.id}:${p.direction}`, p]));
    let grouping = meta.grouping;
    if (existsSync(path)) {
      const lines = readFileSync(path, "utf8").split("\n");
      let header: Header | undefined;
      try {
        header = JSON.parse(lines[0]) as Header;
      } catch {
        header = undefined;
      }
      if (header?.kind !== KIND) {
        throw inputError("this is not a tspatch sweep checkpoint", {
          file: path,
          line: 1,
          hint: "delete the file or choose another output path",
        });
      }
      if (header.hash !== hash || header.version !== 2) {
        throw inputError(
          "the checkpoint belongs to a different sweep (other model or data content, pairs, components or settings)",
          {
            file: path,
            hint: "delete the checkpoint to start over, or rerun with the same options to resume",
          },
        );
      }
      grouping = validGrouping(header.grouping) ?? grouping;
      for (const text of lines.slice(1)) {
        if (text.trim() === "") continue;
        let line: PairLine;
        try {
          line = JSON.parse(text) as PairLine;
        } catch {
          continue; // a line torn by an interruption: that pair is recomputed
        }
        const pair = byKey.get(line.pair);
        if (pair === undefined || line.rows.length !== meta.components.length) continue;
        done.set(line.pair, {
          baseline: {
            pair,
            sourceLogits: Float64Array.from(line.sourceLogits),
            targetLogits: Float64Array.from(line.targetLogits),
          },
          rows: line.rows.map(([status, dpTrue, recovery, logitDiff, dLogitDiff, klSource]) => ({
            status,
            sourceSteps: line.steps[0],
            targetSteps: line.steps[1],
            overlap: line.steps[2],
            metrics:
              status === "not_applicable"
                ? null
                : {
                    dpTrue: dpTrue as number,
                    recovery,
                    logitDiff: logitDiff as number,
                    dLogitDiff: dLogitDiff as number,
                    klSource: klSource as number,
                  },
          })),
        });
      }
    } else {
      const header: Header = { kind: KIND, version: 2, hash, grouping };
      writeFileSync(path, `${JSON.stringify(header)}\n`);
    }
    return new SweepCheckpoint(path, done, grouping);
  }

  /** Pairs already finished, by `id:direction`. */
  finished(): Map<string, FinishedPair> {
    return this.done;
  }

  /** Record one finished pair. */
  append(pair: Pair, baseline: FinishedPair["baseline"], rows: readonly FinishedRow[]): void {
    const first = rows[0];
    const line: PairLine = {
      pair: `${pair.id}:${pair.direction}`,
      sourceLogits: Array.from(baseline.sourceLogits),
      targetLogits: Array.from(baseline.targetLogits),
      steps: first === undefined ? [0, 0, 0] : [first.sourceSteps, first.targetSteps, first.overlap],
      rows: rows.map(({ status, metrics: m }) =>
        m === null ? [status] : [status, m.dpTrue, m.recovery, m.logitDiff, m.dLogitDiff, m.klSource],
      ),
    };
    appendFileSync(this.path, `${JSON.stringify(line)}\n`);
  }
}

function validGrouping(g: Grouping | undefined): Grouping | null {
  const ok = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 1;
  return g !== undefined && ok(g.pairsPerBatch) && ok(g.batchRows)
    ? { pairsPerBatch: g.pairsPerBatch, batchRows: g.batchRows }
    : null;
}
