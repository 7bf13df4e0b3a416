/**
 * The audit log cannot be trimmed by the application's database role (there is no switch), and what a
 * superuser does to it anyway is found by `audit verify` through the signed checkpoints kept outside the
 * database.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { verifyAgainstCheckpoints } from '../../src/audit/audit.checkpoint.js';
import { eventHash } from '../../src/audit/audit.hash.js';
import { auditKey } from '../../src/audit/audit.key.js';
import { auditDb } from '../../src/audit/audit.store.js';
import { GENESIS_HASH } from '../../src/audit/audit.tables.js';
import { verifyChain } from '../../src/audit/audit.verify.js';
import { testConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/database.js';
import { issueToken, tokenSettings } from '../../src/security/tokens.js';
import { startTestApp, TEST_JWT_SECRET, type TestApp } from '../harness/app.js';
import { runCli } from '../harness/cli.js';
import { waitUntil } from '../harness/wait.js';

let t: TestApp;
let appRole: string;
let appRoleUrl: string;

async function asUrl<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const checkpointFileOf = (app: TestApp) => app.config.AUDIT_CHECKPOINT_FILE!;
const lastCheckpointId = (app: TestApp) => {
  try {
    const lines = readFileSync(checkpointFileOf(app), 'utf8').trim().split('\n');
    return Math.max(...lines.map((line) => (JSON.parse(line) as { last_id: number }).last_id));
  } catch {
    return 0;
  }
};

/** Some audited calls, then wait until a signed checkpoint covers all of them. */
async function auditedCalls(app: TestApp, n: number): Promise<number> {
  for (let i = 0; i < n; i++) await app.invoke('admin_get_system_status', {}, 'admin');
  await app.app.parts.auditWriter.flush();
  const head = await sql<{ last_id: string }>`SELECT last_id FROM audit.chain_head`.execute(
    app.app.parts.database.db,
  );
  const lastId = Number(head.rows[0]?.last_id);
  await waitUntil(() => lastCheckpointId(app) >= lastId, { what: `a checkpoint at event ${lastId}` });
  return lastId;
}

async function verdict(app: TestApp) {
  const db = auditDb(app.app.parts.database.db);
  const chain = await verifyChain(db);
  const anchored = await verifyAgainstCheckpoints(db, auditKey(app.config), checkpointFileOf(app));
  return { chain, anchored };
}

beforeAll(async () => {
  t = await startTestApp({ AUDIT_CHECKPOINT_SECONDS: '0' });
  // The application's own login: a member of upc_app, as docs/SECURITY.md tells a practice to create it.
  appRole = `upc_app_test_${randomBytes(4).toString('hex')}`;
  await asUrl(t.database.url, (c) => c.query(`CREATE ROLE ${appRole} LOGIN IN ROLE upc_app`));
  const url = new URL(t.database.url);
  url.username = appRole;
  appRoleUrl = url.toString();
});
afterAll(async () => {
  await t?.close();
  await asUrl(t.database.url.replace(/\/[^/]+$/, '/postgres'), (c) =>
    c.query(`DROP ROLE IF EXISTS ${appRole}`),
  );
});

describe("the application's database role", () => {
  it('runs the server: tools work and are audited, with no right to change the log', async () => {
    const config = testConfig({
      DATABASE_URL: appRoleUrl,
      JWT_SECRET_KEY: TEST_JWT_SECRET,
      ORTHANC_URL: 'http://127.0.0.1:1',
      AUDIT_CHECKPOINT_FILE: `${checkpointFileOf(t)}.app-role`,
      LOAD_SHED_EVENT_LOOP_DELAY_MS: '0',
    });
    const app = await buildApp(config);
    try {
      const token = await issueToken(tokenSettings(config, TEST_JWT_SECRET), {
        subject: 'limited',
        role: 'admin',
      });
      const worklist = await app.inject({
        method: 'POST',
        url: '/mcp/v1/invoke',
        headers: { authorization: `Bearer ${token}` },
        payload: { tool: 'ris_get_worklist', parameters: {} },
      });
      expect(worklist.statusCode, worklist.body).toBe(200);
      await app.parts.auditWriter.flush();
      const recorded = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM audit.events WHERE request_id = ${worklist.json().request_id}`.execute(
        app.parts.database.db,
      );
      expect(recorded.rows[0]?.n).toBe(1);
    } finally {
      await app.close();
    }
  });

  it('cannot trim the chain at either end, rewrite the head, forge a seal or flip a switch', async () => {
    await auditedCalls(t, 3);
    const attempts: [string, string][] = [
      ['delete the oldest', 'DELETE FROM audit.events WHERE id = (SELECT min(id) FROM audit.events)'],
      ['delete the newest', 'DELETE FROM audit.events WHERE id = (SELECT max(id) FROM audit.events)'],
      ['the old switch', "SELECT set_config('audit.archiving', 'on', false); DELETE FROM audit.events"],
      ['update an event', "UPDATE audit.events SET outcome = 'denied'"],
      ['truncate', 'TRUNCATE audit.events'],
      ['rewrite the chain head', "UPDATE audit.chain_head SET last_id = 1, last_hash = 'x'"],
      [
        'forge a seal',
        "INSERT INTO audit.seals (first_id, last_id, last_hash, event_count, export_sha256, export_name) VALUES (1, 2, 'x', 2, 'x', 'x')",
      ],
      ['switch the triggers off', 'ALTER TABLE audit.events DISABLE TRIGGER ALL'],
      ['archive without the archiver role', "SELECT audit.archive_through(1, 'x', 1, 'x', 'x')"],
      ['become the owner', 'SET ROLE upc_audit_owner'],
      [
        'append a link that does not continue the chain',
        `SELECT audit.append('[{"id": 999999, "prev_hash": "${GENESIS_HASH}", "hash": "x"}]'::jsonb)`,
      ],
    ];
    for (const [what, statement] of attempts) {
      const outcome = await asUrl(appRoleUrl, (c) =>
        c.query(statement).then(
          () => 'done',
          (error: Error) => error.message,
        ),
      );
      expect(outcome, what).not.toBe('done');
    }
    const { chain, anchored } = await verdict(t);
    expect(chain.ok).toBe(true);
    expect(anchored.ok).toBe(true);
  });
});

describe('a superuser who changes the log anyway is found through the signed checkpoints', () => {
  const asOwner = (statements: string[]) =>
    asUrl(t.database.url, async (c) => {
      await c.query('BEGIN');
      await c.query('SET LOCAL session_replication_role = replica'); // triggers off
      for (const statement of statements) await c.query(statement);
      await c.query('COMMIT');
    });

  it('trimming the end and moving the head back', async () => {
    const lastId = await auditedCalls(t, 3);
    const keep = await sql<{ hash: string }>`SELECT hash FROM audit.events WHERE id = ${lastId - 2}`.execute(
      t.app.parts.database.db,
    );
    await asOwner([
      `DELETE FROM audit.events WHERE id > ${lastId - 2}`,
      `UPDATE audit.chain_head SET last_id = ${lastId - 2}, last_hash = '${keep.rows[0]?.hash}'`,
    ]);
    const { chain, anchored } = await verdict(t);
    expect(chain.ok).toBe(true); // consistent in itself...
    expect(anchored).toMatchObject({ ok: false, reason: expect.stringMatching(/trimmed at the end/) });
    // ...and the CLI says so.
    const cli = await runCli(['audit', 'verify'], {
      DATABASE_URL: t.database.url,
      JWT_SECRET_KEY: TEST_JWT_SECRET,
      AUDIT_CHECKPOINT_FILE: checkpointFileOf(t),
    });
    expect(cli.code).toBe(1);
    expect(cli.stdout).toMatch(/BROKEN against its signed checkpoints: .*trimmed at the end/);
  });
});

describe('on a fresh log', () => {
  let fresh: TestApp;
  beforeEach(async () => {
    fresh = await startTestApp({ AUDIT_CHECKPOINT_SECONDS: '0' });
  });
  afterEach(() => fresh?.close());
  const asOwner = (statements: string[]) =>
    asUrl(fresh.database.url, async (c) => {
      await c.query('BEGIN');
      await c.query('SET LOCAL session_replication_role = replica');
      for (const statement of statements) await c.query(statement);
      await c.query('COMMIT');
    });

  it('trimming the start behind a forged seal', async () => {
    await auditedCalls(fresh, 4);
    const second = await sql<{ hash: string }>`SELECT hash FROM audit.events WHERE id = 2`.execute(
      fresh.app.parts.database.db,
    );
    await asOwner([
      'DELETE FROM audit.events WHERE id <= 2',
      `INSERT INTO audit.seals (first_id, last_id, last_hash, event_count, export_sha256, export_name) VALUES (1, 2, '${second.rows[0]?.hash}', 2, 'forged', 'forged.jsonl')`,
    ]);
    const { chain, anchored } = await verdict(fresh);
    expect(chain.ok).toBe(true);
    expect(anchored).toMatchObject({ ok: false, reason: expect.stringMatching(/trimmed at the start/) });
  });

  it('rewriting an event and rehashing the whole chain', async () => {
    const lastId = await auditedCalls(fresh, 2);
    const database = await openDatabase(testConfig({ DATABASE_URL: fresh.database.url }));
    try {
      const db = auditDb(database.db);
      const events = await db.selectFrom('audit.events').selectAll().orderBy('id').execute();
      let prev = GENESIS_HASH;
      const statements: string[] = [];
      for (const row of events) {
        const event = {
          ...row,
          id: Number(row.id),
          occurred_at: new Date(row.occurred_at).toISOString(),
          outcome: 'denied' as const,
          prev_hash: prev,
        };
        const { hash: _old, ...content } = event;
        const hash = eventHash(content);
        statements.push(
          `UPDATE audit.events SET outcome = 'denied', prev_hash = '${prev}', hash = '${hash}' WHERE id = ${event.id}`,
        );
        prev = hash;
      }
      statements.push(`UPDATE audit.chain_head SET last_hash = '${prev}'`);
      await asOwner(statements);
      const { chain, anchored } = await verdict(fresh);
      expect(chain.ok).toBe(true); // a perfect forgery, as far as the database alone can tell
      expect(anchored).toMatchObject({
        ok: false,
        reason: expect.stringMatching(new RegExp(`event ${lastId} no longer has the hash`)),
      });
    } finally {
      await database.close();
    }
  });
});
