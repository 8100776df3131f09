/**
 * Wall seconds per phase of a command (opening the model and data, building pairs, the sweep,
 * writing), for its JSON summary: with the process's own start-up (the whole command's time
 * minus these) they say where a command's time goes.
 *
 * @example
 * const phases = phaseClock(performance.now());
 * await load();
 * phases.mark("open");
 * phases.seconds(); // { open: 0.123 }
 */
export function phaseClock(start: number): { mark(phase: string): void; seconds(): Record<string, number> } {
  let last = start;
  const spent: Record<string, number> = {};
  return {
    mark(phase) {
      const now = performance.now();
      spent[phase] = Number((((spent[phase] ?? 0) * 1000 + now - last) / 1000).toFixed(3));
      last = now;
    },
    seconds: () => ({ ...spent }),
  };
}
