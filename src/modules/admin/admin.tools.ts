import { z } from 'zod';
import { READ_ONLY } from '../../core/annotations.js';
import type { SystemFacts } from '../../core/module.js';
import { defineTool } from '../../core/tool.js';

const moduleHealthSchema = z.object({
  status: z.enum(['up', 'down']),
  latency_ms: z.number(),
  error: z.string().optional(),
});

export const systemStatusOutput = z.object({
  status: z.enum(['ok', 'degraded']),
  version: z.string(),
  uptime_seconds: z.number().int(),
  started_at: z.iso.datetime(),
  modules: z.record(z.string(), moduleHealthSchema),
  tools_registered: z.number().int(),
});

export function adminTools(deps: SystemFacts) {
  return [
    defineTool({
      name: 'admin_get_system_status',
      title: 'System status',
      description:
        'Reports the server version, uptime and the health of every connected system (PACS, database, ...). ' +
        'Use it when a tool answers UPSTREAM_UNAVAILABLE, or to check that the practice systems are up.',
      input: z.object({}),
      output: systemStatusOutput,
      permission: 'admin:read',
      annotations: READ_ONLY,
      phi: false,
      examples: [{ description: 'Check every module', parameters: {} }],
      async handler() {
        const health = await deps.health();
        const modules = Object.fromEntries(
          Object.entries(health.modules).map(([name, m]) => [
            name,
            m.error
              ? { status: m.status, latency_ms: m.latency_ms, error: m.error }
              : { status: m.status, latency_ms: m.latency_ms },
          ]),
        );
        return {
          status: health.status,
          version: deps.version,
          uptime_seconds: Math.floor((Date.now() - deps.startedAt.getTime()) / 1000),
          started_at: deps.startedAt.toISOString(),
          modules,
          tools_registered: deps.toolCount(),
        };
      },
    }),
  ];
}
