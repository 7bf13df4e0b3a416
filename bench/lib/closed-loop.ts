import { summarise } from './stats.js';

export interface ClosedLoopResult {
  label: string;
  inFlight: number;
  calls: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  failures: number;
}

/**
 * A closed-loop load: `inFlight` workers each call `call()` back to back for `durationS` seconds (after
 * `warmupCalls` unmeasured calls). Used where one logical operation is several HTTP requests (the direct
 * Orthanc query: find studies, then their series), and for the server side of the same comparison, so
 * both sides are measured by the same client code.
 */
export async function closedLoop(
  label: string,
  call: () => Promise<void>,
  options: { inFlight: number; durationS: number; warmupCalls?: number },
): Promise<ClosedLoopResult> {
  for (let i = 0; i < (options.warmupCalls ?? 20); i++) await call();
  const samples: number[] = [];
  let failures = 0;
  const deadline = performance.now() + options.durationS * 1000;
  const started = performance.now();
  const worker = async () => {
    while (performance.now() < deadline) {
      const t = performance.now();
      try {
        await call();
        samples.push(performance.now() - t);
      } catch {
        failures += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, worker));
  const seconds = (performance.now() - started) / 1000;
  const summary = summarise(samples);
  return {
    label,
    inFlight: options.inFlight,
    calls: samples.length,
    rps: Math.round((samples.length / seconds) * 10) / 10,
    p50: summary.p50,
    p99: summary.p99,
    max: summary.max,
    failures,
  };
}
