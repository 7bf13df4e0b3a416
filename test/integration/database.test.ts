import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { testConfig } from '../../src/config.js';
import { type Database, openDatabase } from '../../src/db/database.js';
import { loadMigrations, migrate } from '../../src/db/migrate.js';
import { createTestDatabase, type TestDatabase } from '../harness/postgres.js';

describe('PostgreSQL (real server)', () => {
  let testDb: TestDatabase;
  let database: Database;

  beforeAll(async () => {
    testDb = await createTestDatabase(inject('pgAdminUrl'));
    database = await openDatabase(testConfig({ DATABASE_URL: testDb.url }));
  });
  afterAll(async () => {
    await database.close();
    await testDb.drop();
  });

  it('applies every migration once, in order, and a second run is a no-op', async () => {
    const first = await migrate(database);
    expect(first.applied.map((m) => m.version)).toEqual(loadMigrations().map((m) => m.version));
    const second = await migrate(database);
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toBe(loadMigrations().length);
  });

  it('concurrent migrators (replicas starting together) apply each migration exactly once', async () => {
    const other = await createTestDatabase(inject('pgAdminUrl'));
    const a = await openDatabase(testConfig({ DATABASE_URL: other.url }));
    const b = await openDatabase(testConfig({ DATABASE_URL: other.url }));
    try {
      const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
      expect(ra.applied.length + rb.applied.length).toBe(loadMigrations().length);
      const rows = await sql<{ n: number }>`SELECT count(*)::int AS n FROM public.schema_migrations`.execute(
        a.db,
      );
      expect(rows.rows[0]?.n).toBe(loadMigrations().length);
    } finally {
      await a.close();
      await b.close();
      await other.drop();
    }
  });

  it('round-trips a row through Kysely', async () => {
    await database.db
      .insertInto('core.instance_settings')
      .values({ key: 'practice_name', value: JSON.stringify({ name: 'Ubuntu Radiology' }) })
      .execute();
    const row = await database.db
      .selectFrom('core.instance_settings')
      .select(['key', 'value'])
      .where('key', '=', 'practice_name')
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ key: 'practice_name', value: { name: 'Ubuntu Radiology' } });
  });

  it('refuses a migration that changed after it was applied', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'upc-mig-'));
    try {
      const changed = loadMigrations().map((m, i) => (i === 0 ? { ...m, checksum: 'different' } : m));
      await expect(migrate(database, { migrations: changed })).rejects.toThrow(
        /changed after it was applied/,
      );
      writeFileSync(path.join(dir, 'bad-name.sql'), 'SELECT 1;');
      expect(() => loadMigrations(dir)).toThrow(/must be named NNNN_name.sql/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rolls back a failing migration completely', async () => {
    const failing = [
      ...loadMigrations(),
      {
        version: 9999,
        name: 'broken',
        sql: 'CREATE TABLE core.half_done (id int); SELECT no_such_function();',
        checksum: 'x',
      },
    ];
    await expect(migrate(database, { migrations: failing })).rejects.toThrow(/9999_broken failed/);
    const table = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'half_done'`.execute(
      database.db,
    );
    expect(table.rows[0]?.n).toBe(0);
  });
});

describe('PGlite (embedded default)', () => {
  it('serves /health with no DATABASE_URL, keeping its data in DATA_DIR across restarts', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'upc-pglite-'));
    try {
      const config = testConfig({
        DATA_DIR: dataDir,
        ORTHANC_URL: 'http://127.0.0.1:1',
        ORTHANC_TIMEOUT_MS: '500',
      });
      const app = await buildApp(config);
      expect(app.parts.database.kind).toBe('pglite');
      const health = (await app.inject({ method: 'GET', url: '/health' })).json();
      expect(health.modules.database).toMatchObject({ status: 'up' });
      await app.parts.database.db
        .insertInto('core.instance_settings')
        .values({ key: 'k', value: JSON.stringify(42) })
        .execute();
      await app.close();

      const reopened = await buildApp(config);
      const row = await reopened.parts.database.db
        .selectFrom('core.instance_settings')
        .select('value')
        .where('key', '=', 'k')
        .executeTakeFirst();
      expect(row?.value).toBe(42);
      await reopened.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
