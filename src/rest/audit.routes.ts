import type { FastifyInstance } from 'fastify';
import type { InvocationPipeline } from '../core/pipeline.js';
import { runTool, sendOutcome } from './tools.routes.js';

const NUMERIC = new Set(['limit', 'before_id', 'after_id']);

/** Query strings carry text; the tools' schemas expect numbers for paging fields. */
function toParameters(query: Record<string, string | undefined>): Record<string, unknown> {
  const parameters: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === '') continue;
    parameters[key] = NUMERIC.has(key) && /^\d+$/.test(value) ? Number(value) : value;
  }
  return parameters;
}

/** Audit search and export for auditors and administrators; each request is itself audited. */
export async function auditRoutes(
  app: FastifyInstance,
  { pipeline }: { pipeline: InvocationPipeline },
): Promise<void> {
  app.get<{ Querystring: Record<string, string> }>('/admin/audit', async (request, reply) =>
    sendOutcome(
      request,
      reply,
      await runTool(pipeline, request, reply, 'admin_search_audit', toParameters(request.query)),
    ),
  );

  app.get<{ Querystring: Record<string, string> }>('/admin/audit/phi-access', async (request, reply) =>
    sendOutcome(
      request,
      reply,
      await runTool(pipeline, request, reply, 'admin_get_phi_access_report', toParameters(request.query)),
    ),
  );

  app.get<{ Querystring: Record<string, string> }>('/admin/audit/export', async (request, reply) => {
    const outcome = await runTool(
      pipeline,
      request,
      reply,
      'admin_export_audit',
      toParameters(request.query),
    );
    if (!outcome.ok) return sendOutcome(request, reply, outcome);
    const result = outcome.result as {
      format: 'csv' | 'jsonl';
      content: string;
      next_after_id: number | null;
    };
    if (result.next_after_id !== null) void reply.header('x-next-after-id', String(result.next_after_id));
    void reply.header('content-disposition', `attachment; filename="audit.${result.format}"`);
    void reply.type(result.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
    return result.content;
  });
}
