import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { testConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/database.js';
import { issueToken } from '../../src/security/tokens.js';
import { runCli, spawnCli } from '../harness/cli.js';
import { createTestDatabase, freePort, type TestDatabase } from '../harness/postgres.js';
import { waitForReady, waitUntil } from '../harness/wait.js';

const SECRET = 'crash-test-secret-crash-test-secret-0123456789';
const ACKNOWLEDGED_BEFORE_KILL = 100;
let db: TestDatabase;
let dataDir: string;

beforeAll(async () => {
  db = await createTestDatabase(inject('pgAdminUrl'));
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'upc-crash-'));
});
afterAll(async () => {
  await db.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

it('after kill -9 under load, every acknowledged call has its audit event and the chain verifies', async () => {
  const port = await freePort();
  const env = {
    DATABASE_URL: db.url,
    JWT_SECRET_KEY: SECRET,
    ORTHANC_URL: 'http://127.0.0.1:1',
    ORTHANC_TIMEOUT_MS: '200',
    PORT: String(port),
    DATA_DIR: dataDir,
  };
  const server = spawnCli(['serve'], env);
  const base = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const token = await issueToken(
    { secret: SECRET, issuer: 'upc-mcp', audience: 'upc-mcp' },
    { subject: 'load', role: 'admin' },
  );
  await waitForReady(base, 'the server to be ready');

  const acknowledged: string[] = [];
  let stop = false;
  const worker = async (n: number) => {
    for (let i = 0; !stop; i++) {
      const tool = i % 4 === 0 ? 'admin_search_audit' : 'admin_get_system_status';
      try {
        const response = await fetch(`${base}/mcp/v1/invoke`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ tool, parameters: tool === 'admin_search_audit' ? { limit: 1 } : {} }),
        });
        // The server names each call; its id in the answer is the one its audit event carries.
        if (response.status === 200)
          acknowledged.push(response.headers.get('x-request-id') ?? `missing-${n}-${i}`);
        await response.arrayBuffer();
      } catch {
        return; // the server is gone
      }
    }
  };
  // Kill once a fixed amount of work is acknowledged, however long a busy machine takes to get there:
  // this test is about losing nothing, not about speed.
  const workers = Array.from({ length: 16 }, (_, n) => worker(n));
  await waitUntil(() => acknowledged.length >= ACKNOWLEDGED_BEFORE_KILL, {
    what: `${ACKNOWLEDGED_BEFORE_KILL} acknowledged calls`,
    timeoutMs: 120_000,
  });
  server.kill('SIGKILL');
  stop = true;
  await Promise.all(workers);
  await exited;

  const database = await openDatabase(testConfig({ DATABASE_URL: db.url }));
  try {
    const present = await sql<{ request_id: string }>`
      SELECT request_id FROM audit.events WHERE request_id = ANY(${acknowledged})`.execute(database.db);
    const found = new Set(present.rows.map((r) => r.request_id));
    expect(acknowledged.filter((id) => !found.has(id))).toEqual([]);
  } finally {
    await database.close();
  }

  // The verifier needs the audit key the server had (derived from its JWT secret here).
  const verify = await runCli(['audit', 'verify'], {
    DATABASE_URL: db.url,
    DATA_DIR: dataDir,
    JWT_SECRET_KEY: SECRET,
  });
  expect(verify.stdout).toMatch(/audit chain intact/);
  expect(verify.code).toBe(0);

  // And the CLI notices tampering, naming the event.
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query('BEGIN');
  await client.query('SET LOCAL session_replication_role = replica');
  await client.query("UPDATE audit.events SET outcome = 'denied' WHERE id = 5");
  await client.query('COMMIT');
  await client.end();
  const broken = await runCli(['audit', 'verify'], {
    DATABASE_URL: db.url,
    DATA_DIR: dataDir,
    JWT_SECRET_KEY: SECRET,
  });
  expect(broken.code).toBe(1);
  expect(broken.stdout).toMatch(/audit chain BROKEN at event 5: content does not match its hash/);
}, 180_000);
