import type { FastifyInstance } from 'fastify';
import type { ModuleManager } from '../core/module-manager.js';

export interface HealthRoutesOptions {
  manager: ModuleManager;
  version: string;
  isShuttingDown: () => boolean;
}

/**
 * /health tells a person what is wrong (200 with status "degraded" when a backend is down, so the server
 * stays in rotation for the tools that still work); /ready tells a load balancer whether to send traffic.
 */
export async function healthRoutes(app: FastifyInstance, options: HealthRoutesOptions): Promise<void> {
  app.get('/health', async () => {
    const health = await options.manager.health();
    return { status: health.status, version: options.version, modules: health.modules };
  });

  app.get('/ready', async (_request, reply) => {
    if (options.isShuttingDown()) return reply.status(503).send({ ready: false, reason: 'shutting down' });
    // Only the database decides readiness: a probe every few seconds must not also poll Orthanc.
    const database = await options.manager.healthOf('database');
    if (database && database.status !== 'up') {
      return reply.status(503).send({ ready: false, reason: 'database unavailable' });
    }
    return { ready: true };
  });
}
