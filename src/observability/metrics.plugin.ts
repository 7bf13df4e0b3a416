import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { errorBody, ToolError } from '../core/errors.js';
import type { ModuleManager } from '../core/module-manager.js';
import type { Authenticator } from '../core/pipeline.js';
import { bearerToken } from '../http/bearer.js';
import type { Metrics } from './metrics.js';

export interface MetricsPluginOptions {
  metrics: Metrics;
  manager: ModuleManager;
  authenticator: Authenticator;
  scrapeToken?: string | undefined;
  /** Loopback callers may scrape without a token (METRICS_ALLOW_LOOPBACK). */
  allowLoopback?: boolean;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const START = Symbol('metricsStart');

declare module 'fastify' {
  interface FastifyRequest {
    [START]?: number;
  }
}

/**
 * HTTP metrics for every request and GET /metrics for Prometheus. Scrapes are answered to admin tokens
 * and to callers presenting METRICS_TOKEN (and to loopback callers when METRICS_ALLOW_LOOPBACK is on);
 * everyone else gets 401/403.
 */
export const metricsPlugin = fp(async (app: FastifyInstance, options: MetricsPluginOptions) => {
  const { metrics } = options;
  app.addHook('onRequest', async (request) => {
    request[START] = performance.now();
    metrics.activeRequests.inc();
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.activeRequests.dec();
    const endpoint = request.routeOptions.url ?? 'unmatched';
    const seconds = (performance.now() - (request[START] ?? performance.now())) / 1000;
    metrics.httpRequests.inc({ method: request.method, endpoint, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ method: request.method, endpoint }, seconds);
  });

  app.get('/metrics', async (request, reply) => {
    const denied = await scrapeRefusal(request, options);
    if (denied)
      return reply
        .status(denied.code === 'UNAUTHENTICATED' ? 401 : 403)
        .send({ success: false, error: errorBody(denied, request.id) });
    const health = await options.manager.health();
    for (const [module, state] of Object.entries(health.modules))
      metrics.moduleUp.set({ module }, state.status === 'up' ? 1 : 0);
    void reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
});

async function scrapeRefusal(
  request: FastifyRequest,
  options: MetricsPluginOptions,
): Promise<ToolError | undefined> {
  if (options.allowLoopback && LOOPBACK.has(request.ip)) return undefined;
  const token = bearerToken(request);
  if (!token)
    return new ToolError('UNAUTHENTICATED', 'Metrics need a bearer token (METRICS_TOKEN or an admin token).');
  if (options.scrapeToken && safeEqual(token, options.scrapeToken)) return undefined;
  try {
    const principal = await options.authenticator.authenticate(token);
    if (principal.role === 'admin') return undefined;
  } catch {
    return new ToolError('UNAUTHENTICATED', 'The token is not valid for metrics.');
  }
  return new ToolError('FORBIDDEN', 'Only administrators and the metrics scraper may read metrics.');
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
