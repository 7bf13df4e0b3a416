import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { errorBody, ToolError } from '../core/errors.js';

const ALWAYS_ANSWERED = new Set(['/health', '/ready', '/metrics']);
const RETRY_AFTER_SECONDS = 2;
const SAMPLE_INTERVAL_MS = 100;
const RESOLUTION_MS = 10;

/**
 * Event-loop lag, sampled every 100 ms as the mean delay of the last window. A window without readings
 * keeps the previous value: the Node histogram has none when the process was merely short of CPU, and
 * treating that as an infinite lag (as @fastify/under-pressure 9 does) sheds load that is not there.
 */
export class EventLoopLag {
  readonly #histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  readonly #timer: NodeJS.Timeout;
  #lagMs = 0;

  constructor() {
    this.#histogram.enable();
    this.#timer = setInterval(() => this.#sample(), SAMPLE_INTERVAL_MS);
    this.#timer.unref();
  }

  get lagMs(): number {
    return this.#lagMs;
  }

  #sample(): void {
    if (this.#histogram.count > 0) {
      this.#lagMs = Math.max(0, this.#histogram.mean / 1e6 - RESOLUTION_MS);
    }
    this.#histogram.reset();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#histogram.disable();
  }
}

/**
 * Refuses new work with 503 OVERLOADED while the event loop lags, before latency explodes for everyone.
 * Health, readiness and metrics are always answered so operators can see what is happening.
 */
export async function registerLoadShedding(app: FastifyInstance, maxEventLoopDelayMs: number): Promise<void> {
  if (maxEventLoopDelayMs <= 0) return;
  const lag = new EventLoopLag();
  app.addHook('onClose', async () => lag.stop());
  app.addHook('onRequest', async (request, reply) => {
    if (lag.lagMs <= maxEventLoopDelayMs || ALWAYS_ANSWERED.has(request.url.split('?')[0] ?? '')) return;
    const error = new ToolError('OVERLOADED', 'The server is busy. Retry in a moment.', {
      retry_after_seconds: RETRY_AFTER_SECONDS,
    });
    return reply
      .status(503)
      .header('retry-after', String(RETRY_AFTER_SECONDS))
      .send({ success: false, error: errorBody(error, request.id) });
  });
}
