import { sql } from 'kysely';
import type { Adapter, HealthResult } from '../../core/adapter.js';
import { type ToolCaching, withReadCache } from '../../core/cached-tools.js';
import { type Clock, systemClock } from '../../core/clock.js';
import { ToolError } from '../../core/errors.js';
import type { PatientScopeSource } from '../../core/scope.js';
import type { Database } from '../../db/database.js';
import type { RisDeps } from './ris.access.js';
import { getSetting, patientsReferredBy } from './ris.store.js';
import type { RisDb, RisTables } from './ris.tables.js';
import { risTools } from './ris.tools.js';

const DEFAULT_TIME_ZONE = 'Africa/Johannesburg';

export interface RisOptions {
  /** The product clock (default the machine's); tests and benchmarks set the day. */
  clock?: Clock;
  /** Read cache for reference data (referring physicians); none: always read the database. */
  caching?: ToolCaching;
}

export function risDb(database: Database): RisDb {
  return database.db.withTables<RisTables>();
}

/** The RIS module: its tables live in schema `ris` of the shared database (migration 0010). */
export function risAdapter(database: Database, options: RisOptions = {}): Adapter {
  const db = risDb(database);
  let timeZone: Promise<string> | undefined;
  const deps: RisDeps = {
    db,
    now: () => (options.clock ?? systemClock).now(),
    timeZone() {
      timeZone ??= loadTimeZone(db).catch((error: unknown) => {
        timeZone = undefined; // retry next call instead of caching a failure
        throw error;
      });
      return timeZone;
    },
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

async function loadTimeZone(db: RisDb): Promise<string> {
  const zone = (await getSetting(db, 'time_zone')) ?? DEFAULT_TIME_ZONE;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
  } catch {
    throw new ToolError('INTERNAL', `ris.settings time_zone "${zone}" is not an IANA time zone.`);
  }
  return zone;
}

/** "Patients I referred": a referring doctor's login sees the patients on orders naming them. */
export function risScopeSource(database: Database): PatientScopeSource {
  const db = risDb(database);
  return {
    patientsFor: (principal) => patientsReferredBy(db, principal.subject),
  };
}
