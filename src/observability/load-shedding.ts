import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import { errorBody, ToolError } from '../core/errors.js';

const ALWAYS_ANSWERED = new Set(['/health', '/ready', '/metrics']);
const RETRY_AFTER_SECONDS = 2;

/**
 * Refuses new work with 503 OVERLOADED while the event loop lags, before latency explodes for everyone.
 * Health, readiness and metrics are always answered so operators can see what is happening.
 */
export async function registerLoadShedding(app: FastifyInstance, maxEventLoopDelayMs: number): Promise<void> {
  if (maxEventLoopDelayMs <= 0) return;
  await app.register(underPressure, {
    maxEventLoopDelay: maxEventLoopDelayMs,
    sampleInterval: 100,
    retryAfter: RETRY_AFTER_SECONDS,
    pressureHandler: (request, reply) => {
      if (ALWAYS_ANSWERED.has(request.url.split('?')[0] ?? '')) return undefined;
      const error = new ToolError('OVERLOADED', 'The server is busy. Retry in a moment.', {
        retry_after_seconds: RETRY_AFTER_SECONDS,
      });
      void reply.status(503).header('retry-after', String(RETRY_AFTER_SECONDS));
      // under-pressure sends a non-null return value as the reply (its typings say void).
      return { success: false, error: errorBody(error, request.id) } as unknown as undefined;
    },
  });
}
