import autocannon from 'autocannon';
import { summarise } from './stats.js';

export interface LoadOptions {
  label: string;
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Per-request bodies (e.g. one accession number each); overrides `body`. */
  nextBody?: () => string;
  connections: number;
  /** Seconds of measured load. */
  durationS?: number;
  /** Stop after this many requests instead of after a duration. */
  amount?: number;
  /** Seconds of unmeasured load first (JIT, pools, caches). Default 2; 0 skips it. */
  warmupS?: number;
  /** Called once a second with the running count, for progress output. */
  onTick?: (done: number) => void;
  /** The server's CPU time so far (ms); when given, the result carries its CPU time per response. */
  serverCpuMs?: () => number;
  /** More processes' CPU time so far (ms), by name; the result carries each one's CPU time per response. */
  cpuProbes?: Record<string, () => number>;
}

export interface LoadResult {
  label: string;
  connections: number;
  durationS: number;
  requests: number;
  /** Completed 2xx responses per second. */
  rps: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /**
   * Server CPU time (user + system, whole process) per response during the measured load, in µs. Less
   * sensitive than req/s to other work on a shared machine, though not immune (shared caches, SMT).
   */
  serverCpuUsPerCall?: number;
  /** CPU time per response of each of `cpuProbes` during the measured load, in µs. */
  cpuUsPerCall?: Record<string, number>;
}

/**
 * Runs autocannon against a live server. Latencies are collected from every response event (autocannon's
 * own histogram has 1 ms resolution, too coarse for sub-millisecond calls), only for 2xx responses, so
 * percentiles describe successful calls and failures are counted separately.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const warmup = options.warmupS ?? 2;
  if (warmup > 0 && options.amount === undefined) {
    await fire({ ...options, durationS: warmup }, () => {});
  }
  const samples: number[] = [];
  const statusCodes: Record<string, number> = {};
  let responses = 0;
  const cpuBefore = options.serverCpuMs?.();
  const probes = Object.entries(options.cpuProbes ?? {});
  const probesBefore = probes.map(([, read]) => read());
  const result = await fire(options, (status, time) => {
    responses += 1;
    statusCodes[status] = (statusCodes[status] ?? 0) + 1;
    if (status >= 200 && status < 300) samples.push(time);
  });
  const cpuUsed = cpuBefore === undefined ? undefined : options.serverCpuMs!() - cpuBefore;
  const probesUsed = probes.map(([name, read], i) => [name, read() - (probesBefore[i] ?? 0)] as const);
  const summary = summarise(samples);
  const sorted = [...samples].sort((a, b) => a - b);
  const seconds = result.duration;
  return {
    label: options.label,
    connections: options.connections,
    durationS: Math.round(seconds * 100) / 100,
    requests: samples.length,
    rps: Math.round((samples.length / seconds) * 10) / 10,
    p50: summary.p50,
    p90: sorted[Math.min(sorted.length - 1, Math.ceil(0.9 * sorted.length) - 1)] ?? Number.NaN,
    p95: sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)] ?? Number.NaN,
    p99: summary.p99,
    max: summary.max,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    ...(cpuUsed !== undefined && responses > 0
      ? { serverCpuUsPerCall: Math.round((cpuUsed * 1000) / responses) }
      : {}),
    ...(probes.length > 0 && responses > 0
      ? {
          cpuUsPerCall: Object.fromEntries(
            probesUsed.map(([name, used]) => [name, Math.round((used * 1000) / responses)]),
          ),
        }
      : {}),
  };
}

function fire(
  options: LoadOptions,
  onResponse: (status: number, timeMs: number) => void,
): Promise<autocannon.Result> {
  const nextBody = options.nextBody;
  const request: autocannon.Request = {
    method: options.method ?? 'POST',
    // The query string too (a QIDO-RS search is a GET with its query in the URL).
    path: `${new URL(options.url).pathname}${new URL(options.url).search}`,
  };
  if (nextBody) {
    request.setupRequest = (req) => ({ ...req, body: nextBody() });
  }
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        method: options.method ?? 'POST',
        headers: options.headers ?? {},
        ...(options.body !== undefined ? { body: options.body } : {}),
        requests: [request],
        connections: options.connections,
        ...(options.amount !== undefined
          ? { amount: options.amount }
          : { duration: options.durationS ?? 10 }),
        timeout: 30,
      },
      (error: Error | null, result: autocannon.Result) => (error ? reject(error) : resolve(result)),
    );
    let done = 0;
    instance.on('response', (_client, status, _bytes, time) => {
      done += 1;
      onResponse(status, time);
    });
    const tick = options.onTick;
    if (tick) instance.on('tick', () => tick(done));
  });
}
