/**
 * PostgreSQL slow, then gone, then back: a statement over DATABASE_STATEMENT_TIMEOUT_MS answers
 * UPSTREAM_TIMEOUT; while the database refuses connections RIS tools answer UPSTREAM_UNAVAILABLE (never
 * INTERNAL) and /health says so; once it accepts connections again everything works without a restart.
 */
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { classifyDatabaseError, databaseToolError } from '../../src/db/database.errors.js';
import { scrapeMetrics, startTestApp, type TestApp } from '../harness/app.js';
import { freePort } from '../harness/postgres.js';
import { call, createPhysician } from '../harness/ris.js';

const STATEMENT_TIMEOUT_MS = 1_000;

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('pgAdminUrl') });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** Real errors from a real server, caught as the driver throws them. */
async function errorOf(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

async function toolErrorCount(app: FastifyInstance, tool: string, code: string): Promise<number> {
  const metric = await app.parts.metrics.toolErrors.get();
  return metric.values.find((v) => v.labels.tool_name === tool && v.labels.error_code === code)?.value ?? 0;
}

describe('database errors as the driver reports them', () => {
  it('classifies timeouts, lost and refused connections, and leaves caller errors alone', async () => {
    const url = inject('pgAdminUrl');
    const cancelled = await errorOf(async () => {
      const client = new pg.Client({ connectionString: url, statement_timeout: 100 });
      await client.connect();
      try {
        await client.query('SELECT pg_sleep(2)');
      } finally {
        await client.end();
      }
    });
    expect(classifyDatabaseError(cancelled)).toBe('timeout');
    expect(databaseToolError(cancelled)).toMatchObject({
      code: 'UPSTREAM_TIMEOUT',
      details: { reason: '57014' },
    });

    const refusedUrl = new URL(url);
    refusedUrl.port = String(await freePort());
    const refused = await errorOf(() => new pg.Client({ connectionString: refusedUrl.toString() }).connect());
    expect(classifyDatabaseError(refused)).toBe('unavailable');

    const terminated = await errorOf(async () => {
      const client = new pg.Client({ connectionString: url });
      client.on('error', () => {});
      await client.connect();
      try {
        await client.query('SELECT pg_terminate_backend(pg_backend_pid())');
      } finally {
        await client.end().catch(() => {});
      }
    });
    expect(classifyDatabaseError(terminated)).toBe('unavailable');
    expect(databaseToolError(terminated)?.code).toBe('UPSTREAM_UNAVAILABLE');

    const missing = new URL(url);
    missing.pathname = '/upc_no_such_database';
    const noDatabase = await errorOf(() => new pg.Client({ connectionString: missing.toString() }).connect());
    expect(classifyDatabaseError(noDatabase)).toBe('unavailable');

    const syntax = await errorOf(() => admin((client) => client.query('SELEC 1')));
    expect(classifyDatabaseError(syntax)).toBeUndefined();
    expect(databaseToolError(syntax)).toBeUndefined();
  });
});

describe('a RIS backed by a PostgreSQL that is slow, then gone, then back', () => {
  let t: TestApp;
  let practiceNumber: string;
  beforeAll(async () => {
    t = await startTestApp({ DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS) });
    ({ practiceNumber } = await createPhysician(t));
  });
  afterAll(async () => {
    await admin((client) => client.query(`ALTER DATABASE "${t.database.name}" ALLOW_CONNECTIONS true`));
    await t?.close();
  });

  async function health() {
    return (await t.app.inject({ method: 'GET', url: '/health' })).json() as {
      status: string;
      modules: Record<string, { status: string; error?: string }>;
    };
  }

  it('limits the statements of calls, but not those of migration sessions', async () => {
    const database = t.app.parts.database;
    const limit = await sql<{ statement_timeout: string }>`SHOW statement_timeout`.execute(database.db);
    expect(limit.rows[0]?.statement_timeout).toBe(`${STATEMENT_TIMEOUT_MS / 1000}s`);
    const session = await database.session();
    try {
      const rows = await session.query<{ statement_timeout: string }>('SHOW statement_timeout');
      expect(rows[0]?.statement_timeout).toBe('0');
    } finally {
      await session.release();
    }
    // The session's connection was discarded, so the pool still hands out limited connections.
    const again = await Promise.all(
      [1, 2, 3, 4].map(() => sql<{ statement_timeout: string }>`SHOW statement_timeout`.execute(database.db)),
    );
    expect(new Set(again.map((r) => r.rows[0]?.statement_timeout))).toEqual(
      new Set([`${STATEMENT_TIMEOUT_MS / 1000}s`]),
    );
  });

  it('stops a statement at DATABASE_STATEMENT_TIMEOUT_MS and answers UPSTREAM_TIMEOUT', async () => {
    const locker = new pg.Client({ connectionString: t.database.url });
    await locker.connect();
    try {
      // Another session holds the table: the lookup waits until PostgreSQL cancels it.
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE ris.referring_physicians IN ACCESS EXCLUSIVE MODE');
      const started = performance.now();
      const res = await call(t, 'ris_get_referring_physician', { practice_number: '9999999' });
      const ms = performance.now() - started;
      expect(res.status, JSON.stringify(res.error)).toBe(504);
      expect(res.error).toMatchObject({ error_code: 'UPSTREAM_TIMEOUT', details: { backend: 'database' } });
      expect(ms).toBeGreaterThanOrEqual(STATEMENT_TIMEOUT_MS - 50);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    const metrics = await scrapeMetrics(t);
    expect(metrics).toMatch(
      /upc_backend_errors_total\{backend="database",operation="select",outcome="timeout"\} 1/,
    );
    expect((await call(t, 'ris_get_referring_physician', { practice_number: practiceNumber })).status).toBe(
      200,
    );
  });

  it('answers UPSTREAM_UNAVAILABLE while the database refuses connections, then recovers by itself', async () => {
    expect((await call(t, 'ris_search_patients', { patient_name: 'Nobody' })).status).toBe(200);

    const name = t.database.name;
    await admin(async (client) => {
      await client.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`);
      await client.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [name],
      );
    });

    for (const tool of ['ris_search_patients', 'ris_get_worklist']) {
      const res = await call(t, tool, tool === 'ris_search_patients' ? { patient_name: 'Nobody' } : {});
      expect(res.status, JSON.stringify(res.error)).toBe(503);
      expect(res.error.error_code).toBe('UPSTREAM_UNAVAILABLE');
    }
    // The handler's own failure was recognised (the audit write failing too must not hide it as INTERNAL).
    expect(await toolErrorCount(t.app, 'ris_search_patients', 'INTERNAL')).toBe(0);
    expect(await toolErrorCount(t.app, 'ris_search_patients', 'UPSTREAM_UNAVAILABLE')).toBeGreaterThan(0);

    const down = await health();
    expect(down.status).toBe('degraded');
    expect(down.modules.database).toMatchObject({ status: 'down' });
    expect((await t.app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(503);

    await admin((client) => client.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`));
    // The pool opens new connections on demand; PHI tools wait out the audit log's short fail-closed window.
    const deadline = Date.now() + 15_000;
    let status = 0;
    while (Date.now() < deadline && status !== 200) {
      status = (await call(t, 'ris_search_patients', { patient_name: 'Nobody' })).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(status).toBe(200);
    const up = await health();
    expect(up.modules.database).toMatchObject({ status: 'up' });
    expect((await t.app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
  });
});
