import { type LoadOptions, type LoadResult, runLoad } from './cannon.js';
import { loadAverage } from './machine.js';
import { median } from './stats.js';

export interface Target extends Omit<LoadOptions, 'label'> {
  label: string;
}

export interface TargetSummary {
  label: string;
  connections: number;
  runs: LoadResult[];
  /** Medians over the runs. */
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** Median server CPU per response (µs), when the target says how to read its server's CPU time. */
  serverCpuUsPerCall?: number;
  /** Median CPU per response (µs) of each process the target's `cpuProbes` read. */
  cpuUsPerCall?: Record<string, number>;
}

/**
 * Runs every target once per round, interleaved (A B C, A B C, ...), so that a burst of load from
 * elsewhere on a shared machine hits all targets alike instead of one of them. Reports the medians.
 */
export async function interleavedRounds(targets: Target[], rounds: number): Promise<TargetSummary[]> {
  const runs = new Map<string, LoadResult[]>(targets.map((t) => [t.label, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const target of targets) {
      const result = await runLoad(target);
      runs.get(target.label)!.push(result);
      console.log(
        `  round ${round}/${rounds} ${target.label.padEnd(34)} c=${String(target.connections).padStart(3)} ` +
          `${result.rps.toFixed(0).padStart(6)} req/s  p50 ${result.p50.toFixed(2)} ms  p99 ${result.p99.toFixed(2)} ms` +
          `${result.serverCpuUsPerCall !== undefined ? `  cpu/call ${result.serverCpuUsPerCall} µs` : ''}` +
          Object.entries(result.cpuUsPerCall ?? {})
            .map(([name, us]) => `  ${name} cpu/call ${us} µs`)
            .join('') +
          `${result.non2xx + result.errors > 0 ? `  non-2xx ${result.non2xx} errors ${result.errors}` : ''}  (load ${loadAverage()})`,
      );
    }
  }
  return targets.map((target) => {
    const list = runs.get(target.label)!;
    return {
      label: target.label,
      connections: target.connections,
      runs: list,
      rps: median(list.map((r) => r.rps)),
      p50: median(list.map((r) => r.p50)),
      p95: median(list.map((r) => r.p95)),
      p99: median(list.map((r) => r.p99)),
      non2xx: list.reduce((s, r) => s + r.non2xx, 0),
      errors: list.reduce((s, r) => s + r.errors, 0),
      ...(list.every((r) => r.serverCpuUsPerCall !== undefined)
        ? { serverCpuUsPerCall: median(list.map((r) => r.serverCpuUsPerCall!)) }
        : {}),
      ...(list.every((r) => r.cpuUsPerCall !== undefined)
        ? {
            cpuUsPerCall: Object.fromEntries(
              Object.keys(list[0]?.cpuUsPerCall ?? {}).map((name) => [
                name,
                median(list.map((r) => r.cpuUsPerCall![name] ?? Number.NaN)),
              ]),
            ),
          }
        : {}),
    };
  });
}
