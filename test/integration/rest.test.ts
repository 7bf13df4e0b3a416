import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool } from '../../src/core/tool.js';
import { startTestApp, type TestApp } from '../harness/app.js';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
  // A tool with real parameters, to see validation errors name their fields through the front door.
  t.app.parts.registry.register(
    defineTool({
      name: 'test_echo_study',
      title: 'Echo',
      description: 'Echoes its input (test fixture).',
      input: z.object({
        study_date: z.string().regex(/^\d{8}$/, 'must be YYYYMMDD'),
        modality: z.enum(['CT', 'MR']),
        limit: z.number().int().min(1).max(100).default(10),
      }),
      output: z.object({ study_date: z.string(), modality: z.string(), limit: z.number() }),
      permission: 'pacs:search',
      annotations: { readOnlyHint: true },
      phi: false,
      handler: async (input) => input,
    }),
    'test',
  );
});
afterAll(() => t.close());

describe('REST door', () => {
  it('GET /health reports each module, degraded while Orthanc is unreachable', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.status).toBe('degraded');
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(body.modules.database.status).toBe('up');
    expect(body.modules.pacs.status).toBe('down');
    expect(body.modules.pacs.error).toMatch(/cannot be reached/);
    expect(typeof body.modules.pacs.latency_ms).toBe('number');
  });

  it('GET /ready is ready when the database is up', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/ready' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ ready: true });
  });

  it('mints its own request id always, keeping a caller-supplied one beside it', async () => {
    const given = await t.app.inject({
      method: 'GET',
      url: '/ready',
      headers: { 'x-request-id': 'abc-123' },
    });
    expect(given.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(given.headers['x-client-request-id']).toBe('abc-123');
    const minted = await t.app.inject({
      method: 'GET',
      url: '/ready',
      headers: { 'x-request-id': 'bad id <script>' },
    });
    expect(minted.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('lists only the tools a caller may use when it sends its token', async () => {
    const mine = await t.app.inject({
      method: 'GET',
      url: '/mcp/v1/tools',
      headers: { authorization: `Bearer ${await t.tokenFor('auditor')}` },
    });
    const names = mine.json().tools.map((tool: { name: string }) => tool.name);
    expect(names).toContain('admin_search_audit');
    expect(names).not.toContain('ris_get_worklist');
    const all = (await t.app.inject({ method: 'GET', url: '/mcp/v1/tools' })).json().tools;
    expect(all.length).toBeGreaterThan(names.length);
  });

  it('lists tools with JSON Schemas, annotations and examples', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/mcp/v1/tools' });
    expect(response.statusCode).toBe(200);
    const status = response
      .json()
      .tools.find((tool: { name: string }) => tool.name === 'admin_get_system_status');
    expect(status).toMatchObject({
      title: 'System status',
      permission: 'admin:read',
      annotations: { readOnlyHint: true },
      input_schema: { type: 'object', additionalProperties: false },
      output_schema: { type: 'object' },
    });
    expect(status.output_schema.required).toContain('uptime_seconds');
    expect(status.examples).toEqual([{ description: 'Check every module', parameters: {} }]);
  });

  it('invokes admin_get_system_status through the pipeline', async () => {
    const response = await t.invoke('admin_get_system_status', {}, 'admin');
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.success).toBe(true);
    expect(body.request_id).toBe(response.headers['x-request-id']);
    expect(body.execution_time_ms).toBeGreaterThanOrEqual(0);
    expect(body.result.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(body.result.modules.database.status).toBe('up');
    expect(body.result.modules.pacs.status).toBe('down');
    expect(body.result.uptime_seconds).toBeGreaterThanOrEqual(0);
  });

  it('unknown tool → 404 TOOL_NOT_FOUND', async () => {
    const response = await t.invoke('pacs_do_magic', {});
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({
      success: false,
      error: { error_code: 'TOOL_NOT_FOUND', request_id: response.headers['x-request-id'] },
    });
  });

  it('malformed parameters → 400 INVALID_PARAMETERS naming each field', async () => {
    const response = await t.invoke('test_echo_study', {
      study_date: '2024-01-01',
      modality: 'XR',
      limit: 0,
      extra: 1,
    });
    expect(response.statusCode).toBe(400);
    const error = response.json().error;
    expect(error.error_code).toBe('INVALID_PARAMETERS');
    const fields = error.details.fields.map((f: { field: string }) => f.field);
    expect(fields).toEqual(expect.arrayContaining(['study_date', 'modality', 'limit', '(parameters)']));
    expect(error.message).toContain('study_date: must be YYYYMMDD');
  });

  it('valid parameters reach the handler with defaults applied', async () => {
    const response = await t.invoke('test_echo_study', { study_date: '20240101', modality: 'CT' });
    expect(response.json().result).toEqual({ study_date: '20240101', modality: 'CT', limit: 10 });
  });

  it('missing token → 401 UNAUTHENTICATED with WWW-Authenticate', async () => {
    const response = await t.invoke('admin_get_system_status', {}, null);
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(response.json().error.error_code).toBe('UNAUTHENTICATED');
  });

  it('a role without the permission → 403 FORBIDDEN', async () => {
    const response = await t.invoke('admin_get_system_status', {}, 'receptionist');
    expect(response.statusCode).toBe(403);
    expect(response.json().error).toMatchObject({
      error_code: 'FORBIDDEN',
      details: { permission: 'admin:read' },
    });
  });

  it('the per-tool route invokes the same pipeline', async () => {
    const token = await t.tokenFor('auditor');
    const response = await t.app.inject({
      method: 'POST',
      url: '/mcp/v1/tools/admin_get_system_status/invoke',
      headers: { authorization: `Bearer ${token}` },
      payload: {},
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().result.status).toBe('degraded');
  });

  it('refuses bodies over the limit with 413 without parsing them, and large anonymous bodies unread', async () => {
    const big = 'x'.repeat(t.config.BODY_LIMIT_BYTES + 10);
    const anonymous = await t.app.inject({
      method: 'POST',
      url: '/mcp/v1/invoke',
      headers: { 'content-type': 'application/json' },
      payload: big,
    });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().error.error_code).toBe('UNAUTHENTICATED');
    const response = await t.app.inject({
      method: 'POST',
      url: '/mcp/v1/invoke',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.tokenFor('admin')}` },
      payload: big,
    });
    expect(response.statusCode).toBe(413);
    expect(response.json().error.error_code).toBe('PAYLOAD_TOO_LARGE');
    // Both refusals at the door are in the audit log with their reason.
    await t.app.parts.auditWriter.flush();
    const events = await sql<{ request_id: string; tool: string; error_code: string }>`
      SELECT request_id, tool, error_code FROM audit.events
      WHERE request_id IN (${anonymous.json().error.request_id}, ${response.json().error.request_id})
      ORDER BY id`.execute(t.app.parts.database.db);
    expect(events.rows.map((e) => [e.tool, e.error_code])).toEqual([
      ['http:refused', 'UNAUTHENTICATED'],
      ['http:refused', 'PAYLOAD_TOO_LARGE'],
    ]);
  });

  it('malformed JSON → 400 in the one error shape, no stack trace', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/mcp/v1/invoke',
      headers: { 'content-type': 'application/json' },
      payload: '{"tool": ',
    });
    expect(response.statusCode).toBe(400);
    const body = response.json();
    expect(body.error.error_code).toBe('INVALID_PARAMETERS');
    expect(JSON.stringify(body)).not.toMatch(/at .*\.js:\d+/);
  });

  it('unknown routes answer 404 in the same shape', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/nope?patient_id=P1' });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.error_code).toBe('NOT_FOUND');
  });

  it('serves an OpenAPI 3.1 document generated from the tool schemas, and a reference page', async () => {
    const openapi = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(openapi.openapi).toBe('3.1.0');
    const operation = openapi.paths['/mcp/v1/tools/admin_get_system_status/invoke'].post;
    expect(operation.operationId).toBe('admin_get_system_status');
    expect(
      operation.responses['200'].content['application/json'].schema.properties.result.required,
    ).toContain('modules');
    const docs = await t.app.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toMatch(/text\/html/);
  });

  it('sends security headers and no CORS grant to unknown origins', async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: '/health',
      headers: { origin: 'https://evil.example' },
    });
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });
});
