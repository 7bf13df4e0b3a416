import { sql } from 'kysely';
import type { Module, ModuleDeps } from '../core/module.js';
import type { HealthResult } from '../core/module-manager.js';

/** Reports the database's health next to the business modules; it has no tools of its own. */
export function databaseModule({ database }: ModuleDeps): Module {
  return {
    name: 'database',
    tools: [],
    async healthCheck(): Promise<HealthResult> {
      try {
        await sql`SELECT 1`.execute(database.db);
        return { ok: true, details: { engine: database.kind } };
      } catch (error) {
        return { ok: false, error: `database unreachable: ${(error as Error).message}` };
      }
    },
  };
}
