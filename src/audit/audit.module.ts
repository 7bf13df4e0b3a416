import type { Module, ModuleFactory } from '../core/module.js';
import { auditDb } from './audit.store.js';
import { auditTools } from './audit.tools.js';
import type { AuditWriter } from './audit.writer.js';

/**
 * The audit log as a module: its health is the writer's, its tools are search, report and export. The
 * writer itself belongs to the pipeline (every call is audited), so the app hands it in.
 */
export function auditModule(writer: AuditWriter, identifierKey: Buffer): ModuleFactory {
  return ({ database, practiceZone }): Module => ({
    name: 'audit',
    tools: auditTools(auditDb(database.db), practiceZone, identifierKey),
    async healthCheck() {
      const stats = writer.stats;
      const details = { queued: stats.queued, last_commit_ms: Math.round(stats.lastCommitMs * 100) / 100 };
      return writer.isAvailable()
        ? { ok: true, details }
        : { ok: false, error: 'audit log writes are failing', details };
    },
    async shutdown() {
      await writer.close();
    },
  });
}
