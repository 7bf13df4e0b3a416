import { sql } from 'kysely';
import type { Adapter, HealthResult } from '../core/adapter.js';
import type { Database } from './database.js';

/** Reports the database's health next to the business modules; it has no tools of its own. */
export function databaseAdapter(database: Database): Adapter {
  return {
    name: 'database',
    async initialize() {},
    async healthCheck(): Promise<HealthResult> {
      try {
        await sql`SELECT 1`.execute(database.db);
        return { ok: true, details: { engine: database.kind } };
      } catch (error) {
        return { ok: false, error: `database unreachable: ${(error as Error).message}` };
      }
    },
    async shutdown() {},
    tools: () => [],
  };
}
