import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { buildApp } from '../../src/app.js';
import { testConfig } from '../../src/config.js';
import { defineTool } from '../../src/core/tool.js';
import { issueToken } from '../../src/security/tokens.js';
import { TEST_JWT_SECRET } from '../harness/app.js';
import { createTestDatabase, type TestDatabase } from '../harness/postgres.js';

let db: TestDatabase;
let lines: string[];
let app: Awaited<ReturnType<typeof buildApp>>;

beforeAll(async () => {
  db = await createTestDatabase(inject('pgAdminUrl'));
  lines = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  const config = testConfig({
    DATABASE_URL: db.url,
    JWT_SECRET_KEY: TEST_JWT_SECRET,
    LOG_LEVEL: 'debug',
    ORTHANC_URL: 'http://127.0.0.1:1',
    LOAD_SHED_EVENT_LOOP_DELAY_MS: '0',
  });
  app = await buildApp(config, { logStream: stream });
  app.parts.registry.register(
    defineTool({
      name: 'test_fail_with_patient',
      title: 'Fails (fixture)',
      description: 'Throws an unexpected error while holding patient data (test fixture).',
      input: z.object({ patient_name: z.string(), patient_id: z.string() }),
      output: z.object({ ok: z.boolean() }),
      permission: 'ris:read',
      annotations: { readOnlyHint: true },
      phi: true,
      handler: async (input, ctx) => {
        ctx.log.info({ patient_name: input.patient_name, patient_id: input.patient_id }, 'about to fail');
        throw new Error('database exploded');
      },
    }),
    'test',
  );
});
afterAll(async () => {
  await app.close();
  await db.drop();
});

it('logs JSON lines with the request id, and never the patient data a call carried', async () => {
  const token = await issueToken(
    { secret: TEST_JWT_SECRET, issuer: 'upc-mcp', audience: 'upc-mcp' },
    { subject: 'logger', role: 'admin' },
  );
  const response = await app.inject({
    method: 'POST',
    url: '/mcp/v1/invoke?patient_id=UPC424242',
    headers: { authorization: `Bearer ${token}`, 'x-request-id': 'req-log-1' },
    payload: {
      tool: 'test_fail_with_patient',
      parameters: { patient_name: 'Khumalo^Zanele', patient_id: 'UPC424242' },
    },
  });
  expect(response.statusCode).toBe(500);
  const requestId = response.headers['x-request-id'] as string;
  expect(response.json().error).toMatchObject({ error_code: 'INTERNAL', request_id: requestId });
  expect(response.body).not.toMatch(/database exploded|at .*\.ts:\d+/);

  const mine = lines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.request_id === requestId);
  expect(mine.length).toBeGreaterThanOrEqual(3); // incoming, the handler's line, the failure, completed
  expect(mine.some((l) => l.msg === 'tool failed unexpectedly')).toBe(true);
  const text = lines.join('\n');
  expect(text).toContain('database exploded'); // the cause is in the log for the operator...
  expect(text).not.toContain('Khumalo'); // ...but not the patient
  expect(text).not.toContain('UPC424242');
  expect(text).not.toContain(token);
});
