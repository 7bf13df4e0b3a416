/**
 * A write call is one transaction (its changes, its idempotency result and its audit intent): a process
 * killed at any moment leaves a write wholly there, with its audit event, or wholly absent.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testConfig } from '../../src/config.js';
import { issueToken, tokenSettings } from '../../src/security/tokens.js';
import { runCli, spawnCli } from '../harness/cli.js';
import { createTestDatabase, freePort, type TestDatabase } from '../harness/postgres.js';
import { waitForReady, waitUntil } from '../harness/wait.js';

const SECRET = 'write-crash-secret-write-crash-secret-01234567';
const children: ChildProcess[] = [];
const dirs: string[] = [];

interface Server {
  base: string;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** One practice: its database and its data directory (where the audit checkpoints are kept). */
interface Practice {
  database: TestDatabase;
  dataDir: string;
}

function environment(practice: Practice): Record<string, string> {
  return { DATABASE_URL: practice.database.url, DATA_DIR: practice.dataDir, JWT_SECRET_KEY: SECRET };
}

async function startServer(practice: Practice, extra: Record<string, string> = {}): Promise<Server> {
  const port = await freePort();
  const child = spawnCli(['serve'], {
    ...environment(practice),
    ORTHANC_URL: 'http://127.0.0.1:1',
    ORTHANC_TIMEOUT_MS: '300',
    LOAD_SHED_EVENT_LOOP_DELAY_MS: '0',
    PORT: String(port),
    ...extra,
  });
  children.push(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const base = `http://127.0.0.1:${port}`;
  await waitForReady(base, 'the server to be ready');
  return { base, child, exited };
}

const adminToken = () =>
  issueToken(tokenSettings(testConfig({ JWT_SECRET_KEY: SECRET }), SECRET), {
    subject: 'crash-receptionist',
    role: 'receptionist',
  });

async function register(
  base: string,
  familyName: string,
  idempotencyKey?: string,
  // biome-ignore lint/suspicious/noExplicitAny: the answer is inspected field by field
): Promise<{ status: number; requestId: string; body: any }> {
  const response = await fetch(`${base}/mcp/v1/invoke`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await adminToken()}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      tool: 'ris_register_patient',
      parameters: { family_name: familyName, given_names: 'Crash', birth_date: '1980-05-05', sex: 'F' },
      ...(idempotencyKey ? { context: { idempotency_key: idempotencyKey } } : {}),
    }),
  });
  return {
    status: response.status,
    requestId: response.headers.get('x-request-id') ?? '',
    body: await response.json(),
  };
}

async function query<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

afterAll(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('a crash mid-write leaves no duplicate and no unaudited change', { timeout: 180_000 }, () => {
  let practice: Practice;
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(inject('pgAdminUrl'));
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'upc-write-crash-'));
    dirs.push(dataDir);
    practice = { database, dataDir };
  });
  afterAll(() => database?.drop());

  const verifyAudit = () => runCli(['audit', 'verify'], environment(practice), 60_000);

  it('killed right after commit: the retry replays the result, nothing is duplicated, the event is sealed', async () => {
    const crashing = await startServer(practice, { UPC_TEST_FAULT: 'kill-after-commit' });
    const family = `Killed${Date.now().toString(36)}`;
    // The process dies between the commit and the answer: the client hears nothing back.
    await expect(register(crashing.base, family, 'crash-key-1')).rejects.toThrow();
    expect(await crashing.exited).toEqual({ code: null, signal: 'SIGKILL' });

    // Committed together: the patient, the idempotency result and the audit intent; nothing on the chain.
    const patients = await query<{ patient_id: string }>(
      database.url,
      'SELECT patient_id FROM ris.patients WHERE family_name = $1',
      [family],
    );
    expect(patients).toHaveLength(1);
    const intents = await query<{ n: number }>(database.url, 'SELECT count(*)::int AS n FROM audit.intents');
    expect(intents[0]?.n).toBe(1);
    const sealedBefore = await query(
      database.url,
      `SELECT id FROM audit.events WHERE tool = 'ris_register_patient' AND $1 = ANY(patient_ids)`,
      [patients[0]!.patient_id],
    );
    expect(sealedBefore).toHaveLength(0);

    // After a restart the orphaned intent is on the chain, and the retry gets the first answer.
    const restarted = await startServer(practice);
    try {
      const retry = await register(restarted.base, family, 'crash-key-1');
      expect(retry.status).toBe(200);
      expect(retry.body.result.patient.patient_id).toBe(patients[0]!.patient_id);
      const again = await query(database.url, 'SELECT patient_id FROM ris.patients WHERE family_name = $1', [
        family,
      ]);
      expect(again).toHaveLength(1);
      // The original call's event, sealed at start (with the patient it created), and the retry's own.
      const original = await query<{ outcome: string }>(
        database.url,
        `SELECT outcome FROM audit.events WHERE tool = 'ris_register_patient' AND $1 = ANY(patient_ids)`,
        [patients[0]!.patient_id],
      );
      expect(original.map((e) => e.outcome)).toEqual(['success']);
      const replay = await query(database.url, 'SELECT id FROM audit.events WHERE request_id = $1', [
        retry.requestId,
      ]);
      expect(replay).toHaveLength(1);
      expect(await query(database.url, 'SELECT id FROM audit.intents')).toHaveLength(0);
    } finally {
      restarted.child.kill('SIGTERM');
      await restarted.exited;
    }
    const verify = await verifyAudit();
    expect(verify.stdout, verify.stderr).toMatch(/audit chain intact/);
  });

  it('killed under a write load: every committed write has its audit event', async () => {
    const server = await startServer(practice);
    const prefix = `Load${Date.now().toString(36)}`;
    let acknowledged = 0;
    let stop = false;
    const clients = Array.from({ length: 8 }, async (_, client) => {
      for (let i = 0; !stop; i++) {
        try {
          const answer = await register(server.base, `${prefix}c${client}n${i}`);
          if (answer.status === 200) acknowledged += 1;
        } catch {
          return; // the server is gone
        }
      }
    });
    await waitUntil(() => acknowledged >= 40, { what: '40 acknowledged writes', timeoutMs: 90_000 });
    server.child.kill('SIGKILL');
    stop = true;
    await Promise.all(clients);
    await server.exited;

    // Restarting seals what was committed but not yet on the chain.
    const restarted = await startServer(practice);
    restarted.child.kill('SIGTERM');
    await restarted.exited;

    const written = await query<{ patient_id: string }>(
      database.url,
      'SELECT patient_id FROM ris.patients WHERE family_name LIKE $1',
      [`${prefix}%`],
    );
    expect(written.length).toBeGreaterThanOrEqual(acknowledged);
    const audited = await query<{ patient_id: string }>(
      database.url,
      `SELECT DISTINCT unnest(patient_ids) AS patient_id FROM audit.events
       WHERE tool = 'ris_register_patient' AND outcome = 'success'`,
    );
    const withEvent = new Set(audited.map((row) => row.patient_id));
    const unaudited = written.filter((row) => !withEvent.has(row.patient_id));
    expect(unaudited).toEqual([]);
    const verify = await verifyAudit();
    expect(verify.stdout, verify.stderr).toMatch(/audit chain intact/);
  });
});
