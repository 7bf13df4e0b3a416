import type { FastifyInstance } from 'fastify';
import { doorOutcome, recordDoorEvent, requestFacts } from '../core/door-events.js';
import { errorBody, httpStatusOf, isToolError, ToolError } from '../core/errors.js';
import type { AuditSink, Authenticator } from '../core/pipeline.js';
import type { Database } from '../db/database.js';
import { bearerToken } from '../http/bearer.js';

export interface BackupRoutesOptions {
  database: Database;
  authenticator: Authenticator;
  audit: AuditSink;
  /** The snapshot itself (cli/backup.ts): PGlite's data directory as a gzipped tar. */
  snapshot: (database: Database) => Promise<Buffer>;
}

/**
 * POST /admin/backup: an online snapshot of the embedded database for `upc-mcp backup`, taken by the
 * process that owns the files. Administrators only; audited like every door.
 */
export async function backupRoutes(app: FastifyInstance, options: BackupRoutesOptions): Promise<void> {
  app.post('/admin/backup', async (request, reply) => {
    const started = performance.now();
    let outcome: { code?: ToolError['code']; subject?: string; role?: string } = {};
    try {
      const principal = await options.authenticator.authenticate(bearerToken(request));
      outcome = { subject: principal.subject, role: principal.role };
      if (principal.role !== 'admin')
        throw new ToolError('FORBIDDEN', 'Only administrators may take backups.');
      if (options.database.kind !== 'pglite')
        throw new ToolError(
          'CONFLICT',
          'This server runs on PostgreSQL: back it up with pg_dump (docs/RUNBOOK.md, "Backup and restore").',
        );
      const snapshot = await options.snapshot(options.database);
      return reply.type('application/gzip').send(snapshot);
    } catch (error) {
      const refusal = isToolError(error)
        ? error
        : new ToolError('INTERNAL', 'The backup failed; see the server log.');
      if (!isToolError(error)) request.log.error({ err: error }, 'backup failed');
      outcome.code = refusal.code;
      return reply
        .status(httpStatusOf(refusal.code))
        .send({ success: false, error: errorBody(refusal, request.id) });
    } finally {
      await recordDoorEvent(options.audit, request.log, {
        ...requestFacts(request),
        door: 'rest',
        tool: 'admin_backup',
        parameters: {},
        ...(outcome.subject
          ? { principal: { subject: outcome.subject, role: outcome.role as 'admin' } }
          : {}),
        outcome: doorOutcome(outcome.code),
        ...(outcome.code ? { errorCode: outcome.code } : {}),
        durationMs: performance.now() - started,
      });
    }
  });
}
