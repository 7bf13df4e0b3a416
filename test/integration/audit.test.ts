import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { archiveBefore } from '../../src/audit/audit.archive.js';
import { auditDb } from '../../src/audit/audit.store.js';
import { verifyChain } from '../../src/audit/audit.verify.js';
import { defineTool } from '../../src/core/tool.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { waitUntil } from '../harness/wait.js';

let t: TestApp;

interface EventRow {
  id: number;
  tool: string;
  door: string;
  outcome: string;
  error_code: string | null;
  actor_subject: string | null;
  actor_role: string | null;
  parameters: Record<string, unknown>;
  patient_ids: string[];
  phi_accessed: boolean;
  request_id: string;
}

async function eventFor(requestId: string): Promise<EventRow | undefined> {
  const result = await sql<EventRow>`SELECT * FROM audit.events WHERE request_id = ${requestId}`.execute(
    t.app.parts.database.db,
  );
  return result.rows[0];
}

async function asOwner<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: t.database.url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  t = await startTestApp();
  t.app.parts.registry.register(
    defineTool({
      name: 'test_read_patient',
      title: 'Read a patient (fixture)',
      description: 'Touches a patient and echoes sensitive-looking parameters (test fixture).',
      input: z.object({
        patient_id: z.string(),
        password: z.string().optional(),
        note: z.string().optional(),
        file_base64: z.string().optional(),
      }),
      output: z.object({ ok: z.boolean() }),
      permission: 'ris:read',
      annotations: { readOnlyHint: true },
      phi: true,
      handler: async (input, ctx) => {
        ctx.touchPatients(input.patient_id);
        return { ok: true };
      },
    }),
    'test',
  );
});
afterAll(() => t.close());

describe('audit events', () => {
  it('records a successful REST call with actor, door, patients, PHI flag and sanitised parameters', async () => {
    const blob = Buffer.alloc(4096, 7).toString('base64');
    const response = await t.invoke(
      'test_read_patient',
      { patient_id: 'UPC000001', password: 'hunter2', note: 'x'.repeat(900), file_base64: blob },
      'radiologist',
    );
    expect(response.statusCode).toBe(200);
    const event = await eventFor(response.json().request_id);
    expect(event).toMatchObject({
      tool: 'test_read_patient',
      door: 'rest',
      outcome: 'success',
      actor_subject: 'test-radiologist',
      actor_role: 'radiologist',
      patient_ids: ['UPC000001'],
      phi_accessed: true,
    });
    expect(event?.parameters.password).toBe('[removed]');
    expect(String(event?.parameters.note)).toMatch(/^x{500}…\[900 chars\]$/);
    expect(event?.parameters.file_base64).toMatchObject({ binary: true, bytes: 4096 });
  });

  it('records denied calls: forbidden role, and a missing token with no actor', async () => {
    const forbidden = await t.invoke('admin_get_system_status', {}, 'receptionist');
    expect(await eventFor(forbidden.headers['x-request-id'] as string)).toMatchObject({
      outcome: 'denied',
      error_code: 'FORBIDDEN',
      actor_role: 'receptionist',
    });
    const anonymous = await t.invoke('admin_get_system_status', {}, null);
    expect(await eventFor(anonymous.headers['x-request-id'] as string)).toMatchObject({
      outcome: 'denied',
      error_code: 'UNAUTHENTICATED',
      actor_subject: null,
    });
    const unknown = await t.invoke('no_such_tool', {}, 'admin');
    expect(await eventFor(unknown.headers['x-request-id'] as string)).toMatchObject({
      outcome: 'error',
      error_code: 'TOOL_NOT_FOUND',
      tool: 'no_such_tool',
    });
  });

  it('a burst of concurrent calls gives exactly one event each, group-committed, with an unbroken chain', async () => {
    const writer = t.app.parts.auditWriter;
    const batchesBefore = writer.stats.committedBatches;
    const responses = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        t.invoke('test_read_patient', { patient_id: `UPC9${i}` }, 'radiologist'),
      ),
    );
    const ids = responses.map((r) => r.json().request_id as string);
    const counts = await sql<{ request_id: string; n: number }>`
      SELECT request_id, count(*)::int AS n FROM audit.events WHERE request_id = ANY(${ids}) GROUP BY request_id`.execute(
      t.app.parts.database.db,
    );
    expect(counts.rows).toHaveLength(60);
    expect(counts.rows.every((r) => r.n === 1)).toBe(true);
    expect(writer.stats.committedBatches - batchesBefore).toBeLessThan(60);
    expect((await verifyChain(auditDb(t.app.parts.database.db))).ok).toBe(true);
  });
});

describe('append-only and tamper-evident', () => {
  it('the database refuses UPDATE, DELETE and TRUNCATE on audit events', async () => {
    await asOwner(async (client) => {
      await expect(client.query("UPDATE audit.events SET tool = 'x' WHERE id = 1")).rejects.toThrow(
        /append-only/,
      );
      await expect(client.query('DELETE FROM audit.events WHERE id = 1')).rejects.toThrow(/append-only/);
      await expect(client.query('TRUNCATE audit.events')).rejects.toThrow(/append-only/);
    });
  });

  it('audit verify finds a row altered by the database owner (triggers bypassed)', async () => {
    const db = auditDb(t.app.parts.database.db);
    expect((await verifyChain(db)).ok).toBe(true);
    const original = await sql<{ id: number; actor_subject: string | null }>`
      SELECT id, actor_subject FROM audit.events ORDER BY id LIMIT 1 OFFSET 2`.execute(
      t.app.parts.database.db,
    );
    const row = original.rows[0]!;
    const target = row.id;
    await asOwner(async (client) => {
      await client.query('BEGIN');
      await client.query('SET LOCAL session_replication_role = replica');
      await client.query("UPDATE audit.events SET actor_subject = 'someone-else' WHERE id = $1", [target]);
      await client.query('COMMIT');
    });
    const result = await verifyChain(db);
    expect(result.ok).toBe(false);
    expect(result.broken).toEqual({
      id: Number(target),
      reason: 'content does not match its hash (the row was altered)',
    });
    // Put it back so later tests see an intact chain.
    await asOwner(async (client) => {
      await client.query('BEGIN');
      await client.query('SET LOCAL session_replication_role = replica');
      await client.query('UPDATE audit.events SET actor_subject = $2 WHERE id = $1', [
        target,
        row.actor_subject,
      ]);
      await client.query('COMMIT');
    });
  });
});

describe('search, report, export', () => {
  it('auditors search through the tool and GET /admin/audit, and those searches are audited too', async () => {
    const token = await t.tokenFor('auditor', { subject: 'auditor-1' });
    const response = await t.app.inject({
      method: 'GET',
      url: '/admin/audit?patient_id=UPC000001&outcome=success&limit=5',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.statusCode).toBe(200);
    const result = response.json().result;
    expect(result.events.length).toBeGreaterThanOrEqual(1);
    expect(result.events.every((e: EventRow) => e.patient_ids.includes('UPC000001'))).toBe(true);
    expect(await eventFor(response.json().request_id)).toMatchObject({
      tool: 'admin_search_audit',
      actor_subject: 'auditor-1',
    });

    const page1 = (await t.invoke('admin_search_audit', { limit: 3 }, 'auditor')).json().result;
    expect(page1.events).toHaveLength(3);
    const page2 = (
      await t.invoke('admin_search_audit', { limit: 3, before_id: page1.next_before_id }, 'auditor')
    ).json().result;
    expect(page2.events[0].id).toBeLessThan(page1.events[2].id);
  });

  it('only auditors and administrators may search', async () => {
    for (const role of ['radiologist', 'receptionist', 'billing_clerk', 'referring_doctor'] as const) {
      expect((await t.invoke('admin_search_audit', {}, role)).statusCode).toBe(403);
    }
    expect((await t.invoke('admin_search_audit', {}, 'admin')).statusCode).toBe(200);
  });

  it('reports who touched which patient in a period', async () => {
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const report = (
      await t.invoke('admin_get_phi_access_report', { from, to, patient_id: 'UPC000001' }, 'auditor')
    ).json().result;
    expect(report.rows).toEqual([
      expect.objectContaining({
        actor_subject: 'test-radiologist',
        patient_id: 'UPC000001',
        calls: 1,
        tools: ['test_read_patient'],
      }),
    ]);
    const reversed = await t.invoke('admin_get_phi_access_report', { from: to, to: from }, 'auditor');
    expect(reversed.json().error.error_code).toBe('INVALID_PARAMETERS');
  });

  it('exports CSV and JSON Lines for a SIEM', async () => {
    const token = await t.tokenFor('auditor');
    const csv = await t.app.inject({
      method: 'GET',
      url: '/admin/audit/export?format=csv&tool=test_read_patient',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    const lines = csv.body.split('\n');
    expect(lines[0]).toMatch(/^id,occurred_at,actor_subject/);
    expect(lines.length).toBeGreaterThan(60);
    const jsonl = await t.app.inject({
      method: 'GET',
      url: '/admin/audit/export?format=jsonl&limit=2',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(jsonl.headers['content-type']).toMatch(/ndjson/);
    const events = jsonl.body.split('\n').map((l) => JSON.parse(l));
    expect(events).toHaveLength(2);
    expect(jsonl.headers['x-next-after-id']).toBe(String(events[1].id));
  });
});

describe('fail closed and archive', () => {
  it('PHI tools fail closed while the audit store is unavailable; other tools keep working', async () => {
    await asOwner((c) => c.query('ALTER TABLE audit.events RENAME TO events_offline'));
    try {
      const phi = await t.invoke('test_read_patient', { patient_id: 'UPC000002' }, 'radiologist');
      expect(phi.statusCode).toBe(503);
      expect(phi.json().error.error_code).toBe('UPSTREAM_UNAVAILABLE');
      expect(phi.json().error.message).toMatch(/audit log/);
      const status = await t.invoke('admin_get_system_status', {}, 'admin');
      expect(status.statusCode).toBe(200);
      expect(status.json().result.modules.audit.status).toBe('down');
    } finally {
      await asOwner((c) => c.query('ALTER TABLE audit.events_offline RENAME TO events'));
    }
    // Once the audit store is back, PHI tools answer again by themselves (after the fail-closed window).
    await waitUntil(
      async () =>
        (await t.invoke('test_read_patient', { patient_id: 'UPC000002' }, 'radiologist')).statusCode === 200,
      { what: 'PHI tools to answer again', timeoutMs: 15_000, intervalMs: 100 },
    );
  });

  it('archives old events to a file and seals them; the live chain still verifies', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'upc-archive-'));
    try {
      const db = auditDb(t.app.parts.database.db);
      await t.app.parts.auditWriter.flush();
      const before = await verifyChain(db);
      const file = path.join(dir, 'audit-archive.jsonl');
      const result = await archiveBefore(db, new Date(Date.now() + 1_000), file);
      expect(result?.archived).toBe(before.checked);
      const archived = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(archived).toHaveLength(before.checked);
      await t.invoke('test_read_patient', { patient_id: 'UPC000003' }, 'radiologist');
      const after = await verifyChain(db);
      expect(after).toMatchObject({ ok: true, checked: 1, startedAfterId: result?.lastId });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
