/**
 * PostgreSQL stopped (a crash, or a planned restart) while calls are in flight on checked-out connections
 * of both pools, the main one and the audit writer's: the process stays up, those calls answer
 * UPSTREAM_UNAVAILABLE, and calls succeed again once PostgreSQL is back, without a restart.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lostConnections } from '../../src/db/database.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { type PostgresCluster, startPostgresCluster } from '../harness/postgres.js';
import { createPhysician, registerPatient } from '../harness/ris.js';
import { waitUntil } from '../harness/wait.js';

let cluster: PostgresCluster;
let t: TestApp;

beforeAll(async () => {
  cluster = await startPostgresCluster();
  t = await startTestApp({ DATABASE_STATEMENT_TIMEOUT_MS: '0' }, { adminUrl: cluster.adminUrl });
  await registerPatient(t, { family_name: 'Restart' });
}, 120_000);
afterAll(async () => {
  await t?.app.close();
  await cluster?.destroy();
});

describe.each(['immediate', 'fast'] as const)('pg_ctl stop -m %s', (mode) => {
  it('in-flight calls on both pools answer UPSTREAM_UNAVAILABLE, the process stays up, then recovers', async () => {
    const before = lostConnections.count;
    // A physician of this run's own: a lookup answered from the read cache would not wait for anything.
    const { practiceNumber } = await createPhysician(t);
    // A session of an administrator's that holds what both calls need.
    const blocker = new pg.Client({ connectionString: t.database.url });
    blocker.on('error', () => {}); // it loses its server too
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE ris.referring_physicians IN ACCESS EXCLUSIVE MODE');
      await blocker.query('SELECT * FROM audit.chain_head FOR UPDATE');
      // Main pool: the lookup waits on the table lock. Audit pool: the search runs, then its event waits on
      // the chain head (the answer waits for the event).
      const lookup = t.invoke(
        'ris_get_referring_physician',
        { practice_number: practiceNumber },
        'receptionist',
      );
      const search = t.invoke('ris_search_patients', { patient_name: 'Restart' }, 'receptionist');
      await waitUntil(
        async () => {
          const { rows } = await blocker.query(
            // Inside a transaction pg_stat_activity is a snapshot taken once: clear it to see the present.
            "SELECT pg_stat_clear_snapshot(), (SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock') AS n",
          );
          return rows[0].n >= 2;
        },
        { what: 'both calls to wait on their locks' },
      );
      await cluster.stop(mode);
      const answers = await Promise.all([lookup, search]);
      for (const answer of answers) {
        // -m immediate kills every backend at once: both calls lose their connection. -m fast ends the
        // administrator's session too, so a waiting call may get its lock and finish first: then it answers
        // normally. Either way: a clear answer, never INTERNAL, and the process stays up.
        if (mode === 'fast' && answer.statusCode === 200) continue;
        expect(answer.statusCode).toBe(503);
        expect(answer.json().error.error_code).toBe('UPSTREAM_UNAVAILABLE');
      }
      if (mode === 'immediate') expect(lostConnections.count).toBeGreaterThan(before); // handled, not thrown
    } finally {
      await blocker.end().catch(() => {});
    }

    await cluster.start();
    await waitUntil(
      async () =>
        (await t.invoke('ris_search_patients', { patient_name: 'Restart' }, 'receptionist')).statusCode ===
        200,
      { what: 'calls to succeed again after PostgreSQL is back', timeoutMs: 30_000, intervalMs: 250 },
    );
    const found = await t.invoke(
      'ris_get_referring_physician',
      { practice_number: practiceNumber },
      'receptionist',
    );
    expect(found.statusCode).toBe(200);
  }, 120_000);
});
