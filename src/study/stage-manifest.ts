import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../atomic-write.js";
import { InputError, InterruptedError, inputError } from "../errors.js";

/**
 * The record of a study's finished stages (`stages.json`), so `--resume` skips them. A stage is
 * recorded only after all its outputs were written (each atomically); the record is bound to the
 * configuration, so a resumed run never mixes outputs of two configurations.
 */
export interface StageRecord {
  format: "tspatch-study-stages";
  /** config.json's text the stages were run with (plus the shard, for a shard). */
  config: string;
  /** Finished stages in order, with their wall time (seconds; not part of results.json). */
  done: { stage: string; seconds: number }[];
}

export class StageManifest {
  private readonly path: string;

  private constructor(
    readonly dir: string,
    private readonly record: StageRecord,
  ) {
    this.path = join(dir, "stages.json");
  }

  /**
   * Open the manifest of `dir` for a run of `configText`: a fresh one, or (with `resume`) the
   * existing one, which must belong to the same configuration.
   *
   * @example
   * const manifest = StageManifest.open("runs/jv", configText, true);
   * await manifest.run("pairs", () => writePairs());
   */
  static open(dir: string, configText: string, resume: boolean): StageManifest {
    const path = join(dir, "stages.json");
    if (existsSync(path)) {
      if (!resume) {
        throw inputError("the output directory already holds a study", {
          file: dir,
          hint: "pass --resume to continue it, or choose another --out",
        });
      }
      const record = JSON.parse(readFileSync(path, "utf8")) as StageRecord;
      if (record.config !== configText) {
        throw inputError("--resume with other options than the study in this directory", {
          file: join(dir, "config.json"),
          hint: "re-run with the options of that study, or choose another --out",
        });
      }
      return new StageManifest(dir, record);
    }
    const manifest = new StageManifest(dir, { format: "tspatch-study-stages", config: configText, done: [] });
    manifest.save();
    return manifest;
  }

  isDone(stage: string): boolean {
    return this.record.done.some((d) => d.stage === stage);
  }

  /** Wall seconds of every finished stage. */
  timings(): Record<string, number> {
    return Object.fromEntries(this.record.done.map((d) => [d.stage, d.seconds]));
  }

  /**
   * Run `work` unless the stage is done; record it when it finishes. A failure becomes an
   * InputError naming the stage and saying that the earlier stages are kept.
   */
  async run(stage: string, work: () => Promise<void> | void): Promise<"ran" | "skipped"> {
    if (this.isDone(stage)) return "skipped";
    const started = performance.now();
    try {
      await work();
    } catch (error) {
      if (error instanceof InterruptedError) throw error;
      const kept = `earlier stages are kept in ${this.dir}; re-run with --resume`;
      if (error instanceof InputError) {
        const message = error.message.split("\n  fix: ")[0];
        throw inputError(`study stage "${stage}" failed: ${message}`, {
          hint: error.hint === undefined ? `fix the cause; ${kept}` : `${error.hint}; ${kept}`,
        });
      }
      throw inputError(`study stage "${stage}" failed: ${String((error as Error)?.message ?? error)}`, {
        hint: `fix the cause; ${kept}`,
      });
    }
    this.record.done.push({ stage, seconds: Number(((performance.now() - started) / 1000).toFixed(3)) });
    this.save();
    return "ran";
  }

  private save(): void {
    writeFileAtomic(this.path, `${JSON.stringify(this.record, null, 2)}\n`);
  }
}
