/**
 * Hostile input never silences the audit log: NUL, lone surrogates and huge strings are refused (or
 * summarised) for the one call that sends them, while everyone else's calls go on and are audited, and
 * the chain still verifies. Ends with a property-based run of random Unicode through every tool's string
 * parameters over REST and MCP.
 */
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { auditDb } from '../../src/audit/audit.store.js';
import { verifyChain } from '../../src/audit/audit.verify.js';
import { defineTool } from '../../src/core/tool.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { connectMcp } from '../harness/mcp.js';
import { type OrthancHandle, startOrthanc } from '../harness/orthanc.js';

let t: TestApp;
let orthanc: OrthancHandle;
let base: string;
let uploads = 0;

beforeAll(async () => {
  orthanc = await startOrthanc();
  t = await startTestApp({
    ORTHANC_URL: orthanc.url,
    ORTHANC_USERNAME: orthanc.username,
    ORTHANC_PASSWORD: orthanc.password,
  });
  // A write with a side effect and a large binary parameter, like an upload.
  t.app.parts.registry.register(
    defineTool({
      name: 'test_store_file',
      title: 'Store a file',
      description: 'Stores a base64 file (test fixture).',
      input: z.object({ file_base64: z.string().max(20_000_000) }),
      output: z.object({ stored: z.number().int() }),
      permission: 'pacs:upload',
      annotations: { readOnlyHint: false },
      phi: true,
      handler: async () => ({ stored: ++uploads }),
    }),
    'test',
  );
  base = await t.app.listen({ host: '127.0.0.1', port: 0 });
}, 60_000);
afterAll(async () => {
  await Promise.all([t?.close(), orthanc?.stop()]);
});

async function eventOf(requestId: string) {
  await t.app.parts.auditWriter.flush();
  const { rows } = await sql<{ outcome: string; error_code: string | null; parameters: unknown }>`
    SELECT outcome, error_code, parameters FROM audit.events WHERE request_id = ${requestId}`.execute(
    t.app.parts.database.db,
  );
  return rows[0];
}

describe('NUL and lone surrogates', () => {
  it.each([
    ['NUL', 'UPC\u0000POISON', /NUL/],
    ['a lone surrogate', 'UPC\ud800X', /lone UTF-16 surrogate/],
  ])(
    '%s in a patient id is refused by name; other users are served and audited at the same moment',
    async (_what, poison, message) => {
      const [attack, ...others] = await Promise.all([
        t.invoke('pacs_get_patient_history', { patient_id: poison }, 'radiologist'),
        ...Array.from({ length: 5 }, () =>
          t.invoke('ris_search_patients', { patient_name: 'Dlamini' }, 'receptionist'),
        ),
      ]);
      expect(attack.statusCode).toBe(400);
      expect(attack.json().error).toMatchObject({
        error_code: 'INVALID_PARAMETERS',
        details: { fields: [{ field: 'patient_id', message: expect.stringMatching(message) }] },
      });
      for (const other of others) expect(other.statusCode).toBe(200);
      expect(await eventOf(attack.json().error.request_id)).toMatchObject({
        error_code: 'INVALID_PARAMETERS',
      });
      for (const other of others)
        expect(await eventOf(other.json().request_id)).toMatchObject({ outcome: 'success' });
      expect((await verifyChain(auditDb(t.app.parts.database.db))).ok).toBe(true);
    },
  );

  it('in sign-in, in a parameter name and over MCP: a clear 400 or error result, never 500', async () => {
    const signIn = await t.app.inject({
      method: 'POST',
      url: '/auth/token',
      payload: { username: 'demo.admin\u0000', password: 'x' },
    });
    expect(signIn.statusCode).toBe(400);
    expect(signIn.json().error.details.fields[0].field).toBe('username');
    const keyWithNul = 'patient\u0000name';
    const key = await t.invoke('ris_search_patients', { [keyWithNul]: 'x' }, 'receptionist');
    expect(key.statusCode).toBe(400);
    const mcp = await connectMcp(`${base}/mcp`, '2026', { token: await t.tokenFor('radiologist') });
    try {
      const result = await mcp.callTool({ name: 'ris_get_patient', arguments: { patient_id: 'UPC\u0000' } });
      expect(result.isError).toBe(true);
      const text = (result.content as { text: string }[])[0]!.text;
      expect(JSON.parse(text)).toMatchObject({ error_code: 'INVALID_PARAMETERS' });
    } finally {
      await mcp.close();
    }
  });
});

describe('huge parameters', () => {
  it('an 8 MB base64 file is stored, reported stored, and audited by size and hash', async () => {
    const file = Buffer.alloc(6 * 1024 * 1024, 7).toString('base64'); // ~8 MB of base64
    const before = uploads;
    const [stored, ...others] = await Promise.all([
      t.invoke('test_store_file', { file_base64: file }, 'radiographer'),
      ...Array.from({ length: 5 }, () =>
        t.invoke('ris_search_patients', { patient_name: 'Dlamini' }, 'receptionist'),
      ),
    ]);
    expect(stored.statusCode, stored.body.slice(0, 200)).toBe(200);
    expect(uploads).toBe(before + 1);
    for (const other of others) {
      expect(other.statusCode).toBe(200);
      expect(await eventOf(other.json().request_id)).toMatchObject({ outcome: 'success' });
    }
    expect(await eventOf(stored.json().request_id)).toMatchObject({
      outcome: 'success',
      parameters: { file_base64: { binary: true, bytes: 6 * 1024 * 1024, sha256: expect.any(String) } },
    });
  });

  it('an 8 M character string that fails validation is refused and audited, cut to a summary', async () => {
    const huge = 'A'.repeat(8_000_000);
    const refused = await t.invoke('ris_register_patient', { family_name: huge }, 'receptionist');
    expect(refused.statusCode).toBe(400);
    const event = await eventOf(refused.json().error.request_id);
    expect(JSON.stringify(event?.parameters).length).toBeLessThan(2_000);
  });
});

describe('smaller doors', () => {
  it('"__proto__" is no known destination', async () => {
    const study = await t.invoke('pacs_search_studies', {}, 'radiologist');
    expect(study.statusCode).toBe(200);
    const sent = await t.invoke(
      'pacs_send_study',
      { study_instance_uid: '1.2.3.4', destination: '__proto__' },
      'radiologist',
    );
    expect(sent.json().error.error_code).toBe('NOT_FOUND');
    expect(sent.json().error.message).toMatch(/No DICOM destination named "__proto__"/);
  });

  it('JSON-RPC batches are refused from 2025-06-18 on', async () => {
    const response = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await t.tokenFor('admin')}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-06-18',
      },
      body: JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'tools/list' }]),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/batches/);
  });

  it('the protected-resource document is not built from an unknown Host, and that refusal is audited', async () => {
    const refused = await t.app.inject({
      method: 'GET',
      url: '/.well-known/oauth-protected-resource',
      headers: { host: 'evil.example' },
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.body).not.toContain('evil.example');
    const malformed = await t.app.inject({
      method: 'POST',
      url: '/mcp/v1/invoke',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.tokenFor('admin')}` },
      payload: '{"tool": ',
    });
    expect(malformed.statusCode).toBe(400);
    expect(await eventOf(malformed.headers['x-request-id'] as string)).toMatchObject({
      outcome: 'error',
      error_code: 'INVALID_PARAMETERS',
    });
  });
});

describe('random Unicode through every tool (property-based)', () => {
  /** Strings an attacker or a broken client would send: NUL, lone surrogates, RTL marks, emoji, 1 MB. */
  const hostile = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.constantFrom(
      '\u0000',
      'UPC\u0000',
      '\ud800',
      'a\udfffb',
      '\u202eevil',
      '👩🏽‍⚕️',
      "'; DROP TABLE x; --",
    ),
    fc.constant('x'.repeat(1_000_000)),
  );

  it('never INTERNAL, never 5xx, over REST and MCP; the chain verifies afterwards', async () => {
    const tools = t.app.parts.registry
      .list()
      .map(({ descriptor }) => descriptor)
      .filter((d) => !d.name.startsWith('test_'));
    const mcp = await connectMcp(`${base}/mcp`, '2026', {
      token: await t.tokenFor('admin', { subject: 'fuzz-mcp' }),
    });
    const restToken = await t.tokenFor('admin', { subject: 'fuzz-rest' });
    const seen: string[] = [];
    try {
      for (const tool of tools) {
        const properties = (tool.input_schema.properties ?? {}) as Record<string, { type?: string }>;
        const strings = Object.entries(properties)
          .filter(([, schema]) => schema.type === 'string')
          .map(([name]) => name);
        if (strings.length === 0) continue;
        await fc.assert(
          fc.asyncProperty(fc.constantFrom(...strings), hostile, async (name, value) => {
            const rest = await t.app.inject({
              method: 'POST',
              url: '/mcp/v1/invoke',
              headers: { authorization: `Bearer ${restToken}` },
              payload: { tool: tool.name, parameters: { [name]: value } },
            });
            seen.push(`${tool.name}.${name}`);
            expect(rest.statusCode, `${tool.name}.${name}: ${rest.body.slice(0, 300)}`).toBeLessThan(500);
            const result = await mcp.callTool({ name: tool.name, arguments: { [name]: value } });
            if (result.isError) {
              const text = (result.content as { text: string }[])[0]!.text;
              const code = (JSON.parse(text) as { error_code: string }).error_code;
              expect(code, `${tool.name}.${name} over MCP`).not.toMatch(/INTERNAL|UPSTREAM/);
            }
          }),
          { numRuns: 6, seed: 20261129 },
        );
      }
    } finally {
      await mcp.close();
    }
    expect(new Set(seen).size).toBeGreaterThan(20);
    await t.app.parts.auditWriter.flush();
    expect((await verifyChain(auditDb(t.app.parts.database.db))).ok).toBe(true);
  }, 240_000);
});
