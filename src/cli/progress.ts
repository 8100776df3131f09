import type { CliIO } from "./io.js";

/** Callback the library calls during long work; the CLI renders it. */
export type ProgressFn = (done: number, total: number, detail?: string) => void;

/**
 * A progress bar on stderr: redrawn in place on a terminal, a line every few
 * seconds otherwise (CI logs), nothing when `quiet`.
 *
 * @example
 * const bar = progressBar(io, "sweep", { unit: "pairs" });
 * for (let i = 0; i < n; i++) bar(i + 1, n);
 * bar.finish();
 */
export function progressBar(
  io: CliIO,
  label: string,
  options: { unit?: string; quiet?: boolean; intervalMs?: number; now?: () => number } = {},
): ProgressFn & { finish(): void } {
  const now = options.now ?? (() => performance.now());
  const unit = options.unit ?? "items";
  const interval = options.intervalMs ?? (io.isTTY ? 100 : 5000);
  const start = now();
  let lastDraw = -Infinity;
  let lastLine = "";
  let drawn = false;

  const render = (done: number, total: number, detail?: string): string => {
    const elapsed = (now() - start) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = `${"#".repeat(filled)}${"-".repeat(width - filled)}`;
    const eta = rate > 0 && total > done ? formatSeconds((total - done) / rate) : "--";
    const extra = detail ? `  ${detail}` : "";
    return `${label} [${bar}] ${done}/${total} ${unit}  ${rate.toFixed(rate < 10 ? 2 : 0)} ${unit}/s  ETA ${eta}${extra}`;
  };

  const update = ((done: number, total: number, detail?: string) => {
    if (options.quiet) return;
    const t = now();
    if (t - lastDraw < interval && done < total) return;
    lastDraw = t;
    lastLine = render(done, total, detail);
    if (io.isTTY) io.stderr(`\r${lastLine}\x1b[K`);
    else io.stderr(`${lastLine}\n`);
    drawn = true;
  }) as ProgressFn & { finish(): void };
  update.finish = () => {
    if (!options.quiet && drawn && io.isTTY) io.stderr("\n");
  };
  return update;
}

export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--";
  // Round once, so 59.6 s shows as 1m00s, never 0m60s.
  const total = Math.round(seconds);
  if (total < 60) return `${total}s`;
  const m = Math.floor(total / 60);
  const s = total % 60;
  if (m < 60) return `${m}m${String(s).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}
