import type { Module, ModuleFactory } from '../core/module.js';
import { IDENTIFIER_KEYS } from './audit.sanitise.js';
import { auditDb } from './audit.store.js';
import { auditTools } from './audit.tools.js';
import type { AuditWriter } from './audit.writer.js';

/** How often intents nobody sealed (a replica died after commit) are looked for; also their minimum age. */
const ORPHAN_SWEEP_MS = 60_000;

/**
 * The audit log as a module: its health is the writer's, its tools are search, report and export. The
 * writer itself belongs to the pipeline (every call is audited), so the app hands it in.
 */
export function auditModule(writer: AuditWriter, identifierKey: Buffer): ModuleFactory {
  return ({ database, practiceZone, log }): Module => ({
    name: 'audit',
    tools: auditTools(auditDb(database.db), practiceZone, identifierKey),
    // Events' parameters hold identifiers as keyed hashes already (audit.sanitise.ts): auditors correlate
    // them, and masking a hash would hide nothing.
    redactionExempt: [...IDENTIFIER_KEYS],
    // Events of writes committed just before a crash (ours or another replica's) go onto the chain now,
    // and then every minute.
    async initialize() {
      const sealed = await writer.sealOrphans(0);
      if (sealed > 0) log.warn({ sealed }, 'audit events of writes committed before a crash were sealed');
      writer.startSealingOrphans(ORPHAN_SWEEP_MS);
    },
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
