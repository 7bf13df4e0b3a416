import type { Client } from '@modelcontextprotocol/client';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { connectMcp, ERAS } from '../harness/mcp.js';

let t: TestApp;
let url: string;
const open: Client[] = [];

beforeAll(async () => {
  t = await startTestApp();
  url = `${await t.app.listen({ host: '127.0.0.1', port: 0 })}/mcp`;
});
afterAll(async () => {
  await Promise.all(open.map((c) => c.close().catch(() => {})));
  await t.close();
});

interface Row {
  door: string;
  tool: string;
  outcome: string;
  error_code: string | null;
  actor_subject: string | null;
  client: string | null;
}

async function eventsOf(subject: string): Promise<Row[]> {
  const result = await sql<Row>`
    SELECT door, tool, outcome, error_code, actor_subject, client FROM audit.events
    WHERE actor_subject = ${subject} ORDER BY id`.execute(t.app.parts.database.db);
  return result.rows;
}

it.each(ERAS)(
  'the MCP door (%s era) writes one audit event per tool call, allowed or denied',
  async (era) => {
    const subject = `mcp-audit-${era}`;
    const admin = await connectMcp(url, era, { token: await t.tokenFor('admin', { subject }) });
    open.push(admin);
    await admin.callTool({ name: 'admin_get_system_status', arguments: {} });
    await admin.callTool({ name: 'admin_search_audit', arguments: { limit: 0 } });
    const events = await eventsOf(subject);
    expect(events).toEqual([
      expect.objectContaining({ door: 'mcp', tool: 'admin_get_system_status', outcome: 'success' }),
      expect.objectContaining({
        door: 'mcp',
        tool: 'admin_search_audit',
        outcome: 'error',
        error_code: 'INVALID_PARAMETERS',
      }),
    ]);
    expect(events[0]?.client).toBeTruthy();

    const clerkSubject = `mcp-clerk-${era}`;
    const clerk = await connectMcp(url, era, {
      token: await t.tokenFor('billing_clerk', { subject: clerkSubject }),
    });
    open.push(clerk);
    await clerk.callTool({ name: 'admin_get_system_status', arguments: {} }).catch(() => undefined);
    expect(await eventsOf(clerkSubject)).toEqual([
      expect.objectContaining({
        door: 'mcp',
        tool: 'admin_get_system_status',
        outcome: 'denied',
        error_code: 'FORBIDDEN',
      }),
    ]);
  },
);

it('a request to /mcp without a valid token is refused with 401 and audited with no actor', async () => {
  const before = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM audit.events WHERE door = 'mcp' AND error_code = 'UNAUTHENTICATED'`.execute(
    t.app.parts.database.db,
  );
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: 'Bearer not-a-token',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
  });
  expect(response.status).toBe(401);
  const after = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM audit.events WHERE door = 'mcp' AND error_code = 'UNAUTHENTICATED'`.execute(
    t.app.parts.database.db,
  );
  expect(after.rows[0]!.n).toBe(before.rows[0]!.n + 1);
});
