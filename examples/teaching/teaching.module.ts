import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import type { Module, ModuleDeps } from '../../src/core/module.js';
import { recordNotice } from './teaching.store.js';
import { teachingDb } from './teaching.tables.js';
import { teachingTools } from './teaching.tools.js';

/**
 * An example module (docs/ADAPTER_INTERFACE.md): a teaching file. It shows every part of the module shape
 * in a few lines: tools over its own schema, scope inside the query, another module's data read through
 * the pipeline (`ctx.invoke`), a domain event written with the change and handled once, and a health
 * check. Being an add-on outside src/modules, it names its migrations folder.
 */
export function teachingModule(deps: ModuleDeps): Module {
  const db = teachingDb(deps.database);
  return {
    name: 'teaching',
    migrations: fileURLToPath(new URL('./migrations/', import.meta.url)),
    tools: teachingTools({ db, events: deps.events, zone: deps.practiceZone }),
    eventHandlers: [
      {
        name: 'teaching.notice_on_case_added',
        types: ['teaching.case.added'],
        // At least once: the event id makes a redelivery a no-op.
        async handle(event, context) {
          const caseId = Number(event.payload.case_id);
          if (await recordNotice(db, event.id, caseId))
            context.log.info({ case_id: caseId }, 'teaching case added');
        },
      },
    ],
    async healthCheck() {
      try {
        await sql`SELECT 1 FROM teaching.cases LIMIT 1`.execute(db);
        return { ok: true };
      } catch (error) {
        return { ok: false, error: `teaching tables unreachable: ${(error as Error).message}` };
      }
    },
  };
}
