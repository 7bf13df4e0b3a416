import { sql } from 'kysely';
import type { Adapter, HealthResult } from '../../core/adapter.js';
import { type ToolCaching, withReadCache } from '../../core/cached-tools.js';
import { type Clock, systemClock } from '../../core/clock.js';
import { PracticeZone } from '../../core/practice-time.js';
import type { PatientScopeSource } from '../../core/scope.js';
import type { Database } from '../../db/database.js';
import type { RisDeps } from './ris.access.js';
import { patientsReferredBy } from './ris.store.js';
import type { RisDb, RisTables } from './ris.tables.js';
import { risTools } from './ris.tools.js';

export interface RisOptions {
  /** The product clock (default the machine's); tests and benchmarks set the day. */
  clock?: Clock;
  /** Read cache for reference data (referring physicians); none: always read the database. */
  caching?: ToolCaching;
  /** The practice time zone (shared by every module); default: read from this database. */
  practiceZone?: PracticeZone;
}

export function risDb(database: Database): RisDb {
  return database.db.withTables<RisTables>();
}

/** The RIS module: its tables live in schema `ris` of the shared database (migration 0010). */
export function risAdapter(database: Database, options: RisOptions = {}): Adapter {
  const db = risDb(database);
  const zone = options.practiceZone ?? new PracticeZone(database.db);
  const deps: RisDeps = {
    db,
    now: () => (options.clock ?? systemClock).now(),
    timeZone: () => zone.zone(),
  };
  const all = risTools(deps);
  // Reference data changes rarely; any RIS write drops it, so a change made through this server is seen
  // at once (changes made behind the server's back, e.g. an import, after RIS_REFERENCE_CACHE_TTL_MS).
  const rules = {
    namespace: 'ris',
    cached: ['ris_get_referring_physician'],
    invalidatedBy: all.filter((t) => !t.annotations.readOnlyHint).map((t) => t.name),
  };
  const tools = withReadCache(all, rules, options.caching);
  return {
    name: 'ris',
    // Who sees these is the practice's policy (policy/default-policy.json → redaction).
    redactions: {
      sa_id_number: 'national_id',
      medical_aid_number: 'member_number',
      clinical_indication: 'clinical_text',
      // Free-text status notes ("contrast reaction, urticaria") are clinical text too.
      note: 'clinical_text',
    },
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
    async shutdown() {},
    tools: () => tools,
  };
}

/** "Patients I referred": a referring doctor's login sees the patients on orders naming them. */
export function risScopeSource(database: Database): PatientScopeSource {
  const db = risDb(database);
  return {
    patientsFor: (principal) => patientsReferredBy(db, principal.subject),
  };
}
