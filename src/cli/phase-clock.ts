/**
 * Wall and CPU seconds per phase of a command (opening the model and data, building pairs, the
 * sweep, writing), for its JSON summary: with the process's own start-up (the whole command's
 * time minus these) they say where a command's time goes. CPU seconds count every thread of the
 * process (ONNX Runtime's pool included) and, unlike wall time, hardly move when other work
 * shares the machine.
 *
 * @example
 * const phases = phaseClock(performance.now());
 * await load();
 * phases.mark("open");
 * phases.seconds(); // { open: 0.123 }
 */
export function phaseClock(start: number): {
  mark(phase: string): void;
  seconds(): Record<string, number>;
  cpuSeconds(): Record<string, number>;
} {
  let last = start;
  let lastCpu = process.cpuUsage();
  const wall: Record<string, number> = {};
  const cpu: Record<string, number> = {};
  const add = (into: Record<string, number>, phase: string, seconds: number) => {
    into[phase] = Number(((into[phase] ?? 0) + seconds).toFixed(3));
  };
  return {
    mark(phase) {
      const now = performance.now();
      const used = process.cpuUsage(lastCpu);
      add(wall, phase, (now - last) / 1000);
      add(cpu, phase, (used.user + used.system) / 1e6);
      last = now;
      lastCpu = process.cpuUsage();
    },
    seconds: () => ({ ...wall }),
    cpuSeconds: () => ({ ...cpu }),
  };
}
