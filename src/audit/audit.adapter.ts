import type { Adapter } from '../core/adapter.js';
import type { AnyTool } from '../core/tool.js';
import type { AuditWriter } from './audit.writer.js';

/** The audit log as a module: its health is the writer's, its tools are search, report and export. */
export function auditAdapter(writer: AuditWriter, tools: AnyTool[]): Adapter {
  return {
    name: 'audit',
    async initialize() {},
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
    tools: () => tools,
  };
}
