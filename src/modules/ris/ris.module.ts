import { sql } from 'kysely';
import { withReadCache } from '../../core/cached-tools.js';
import type { Module, ModuleDeps } from '../../core/module.js';
import type { HealthResult } from '../../core/module-manager.js';
import type { CodesApi } from '../codes/codes.api.js';
import type { RisDeps } from './ris.access.js';
import { createRisApi } from './ris.api.js';
import { reportedOnReportSigned } from './ris.events.js';
import { risPrompts } from './ris.prompts.js';
import { patientsReferredBy } from './ris.reference.store.js';
import { risResourceParts, risResources } from './ris.resources.js';
import { risDb } from './ris.tables.js';
import { risTools } from './ris.tools.js';

/**
 * The RIS module: patients, orders, appointments and the worklist, in schema `ris` of the shared database
 * (migrations in ./migrations). Referring doctors see the patients on orders naming them.
 */
export function risModule({ database, clock, practiceZone, caching, config, use }: ModuleDeps): Module {
  const db = risDb(database);
  const deps: RisDeps = {
    db,
    codes: use<CodesApi>('codes'),
    now: () => clock.now(),
    timeZone: () => practiceZone.zone(),
  };
  const all = risTools(deps);
  // Reference data changes rarely; any RIS write drops it, so a change made through this server is seen
  // at once (changes made behind the server's back, e.g. an import, after RIS_REFERENCE_CACHE_TTL_MS).
  const rules = {
    namespace: 'ris',
    cached: ['ris_get_referring_physician'],
    invalidatedBy: all.filter((t) => !t.annotations.readOnlyHint).map((t) => t.name),
  };
  return {
    name: 'ris',
    tools: withReadCache(all, rules, caching(config.RIS_REFERENCE_CACHE_TTL_MS)),
    scopeSources: [{ patientsFor: (principal) => patientsReferredBy(db, principal.subject) }],
    resources: risResources,
    resourceParts: risResourceParts,
    prompts: risPrompts,
    // Read-only, narrow: what the reporting worklist needs (ris.api.ts).
    api: createRisApi(db),
    // Reactions to other modules' events (by payload, never by importing them).
    eventHandlers: [reportedOnReportSigned(db)],
    // Free-text status notes ("contrast reaction, urticaria") are clinical text.
    redactions: { note: 'clinical_text' },
    async initialize() {
      await deps.timeZone();
    },
    async healthCheck(): Promise<HealthResult> {
      try {
        await sql`SELECT 1 FROM ris.settings LIMIT 1`.execute(db);
        return { ok: true, details: { time_zone: await deps.timeZone() } };
      } catch (error) {
        return { ok: false, error: `RIS tables unreachable: ${(error as Error).message}` };
      }
    },
  };
}
