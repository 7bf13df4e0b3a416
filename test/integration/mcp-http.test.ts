import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemStatusOutput } from '../../src/modules/admin/admin.tools.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { connectMcp, ERAS, errorOf, testStudyLookup, testTools } from '../harness/mcp.js';

let t: TestApp;
let url: string;
const state = { cancelled: 0, sent: 0 };
const open: Client[] = [];

async function client(...args: Parameters<typeof connectMcp>): Promise<Client> {
  const c = await connectMcp(...args);
  open.push(c);
  return c;
}

beforeAll(async () => {
  t = await startTestApp();
  for (const tool of testTools(state)) t.app.parts.registry.register(tool, 'test');
  t.app.parts.registry.register(testStudyLookup, 'test');
  t.app.parts.resources.register({
    uriTemplate: 'test-study://{uid}',
    name: 'test-study',
    title: 'Test study',
    description: 'A study, through test_get_study',
    mimeType: 'application/json',
    tool: 'test_get_study',
    parameters: (v) => ({ study_instance_uid: v.uid }),
  });
  const address = await t.app.listen({ host: '127.0.0.1', port: 0 });
  url = `${address}/mcp`;
});

afterAll(async () => {
  await Promise.all(open.map((c) => c.close().catch(() => {})));
  await t.close();
});

describe.each(ERAS)('MCP over Streamable HTTP, %s era', (era) => {
  it('shows each role only the tools it may use, with input and output schemas', async () => {
    const admin = await client(url, era, { token: await t.tokenFor('admin') });
    const receptionist = await client(url, era, { token: await t.tokenFor('receptionist') });
    const adminTools = (await admin.listTools()).tools;
    const receptionistNames = (await receptionist.listTools()).tools.map((tool) => tool.name);

    const status = adminTools.find((tool) => tool.name === 'admin_get_system_status');
    expect(status).toMatchObject({
      title: 'System status',
      annotations: { readOnlyHint: true },
      inputSchema: { type: 'object' },
      outputSchema: { type: 'object', required: expect.arrayContaining(['uptime_seconds']) },
    });
    expect(adminTools.map((tool) => tool.name)).toEqual(
      expect.arrayContaining(['admin_get_system_status', 'test_count_slowly', 'test_send_study']),
    );
    expect(receptionistNames).not.toContain('admin_get_system_status');
    expect(receptionistNames).not.toContain('test_send_study');
    // The door's extra arguments are published where they apply, and only there.
    const send = adminTools.find((tool) => tool.name === 'test_send_study');
    expect(Object.keys(send?.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining(['confirmation_token', 'idempotency_key']),
    );
    expect(Object.keys(status?.inputSchema.properties ?? {})).toEqual([]);
  });

  it('calls admin_get_system_status through the pipeline and returns structuredContent', async () => {
    const admin = await client(url, era, { token: await t.tokenFor('admin') });
    const result = await admin.callTool({ name: 'admin_get_system_status', arguments: {} });
    expect(result.isError).toBeFalsy();
    const status = systemStatusOutput.parse(result.structuredContent);
    expect(status.modules.database?.status).toBe('up');
    expect(status.tools_registered).toBeGreaterThanOrEqual(4);
    const text = result.content.find((block) => block.type === 'text');
    expect(JSON.parse(text?.type === 'text' ? text.text : '')).toEqual(result.structuredContent);
  });

  it('answers a forbidden call with an error result in the error shape', async () => {
    const receptionist = await client(url, era, { token: await t.tokenFor('receptionist') });
    const result = await receptionist.callTool({ name: 'admin_get_system_status', arguments: {} });
    expect(result.isError).toBe(true);
    expect(errorOf(result)).toMatchObject({
      error_code: 'FORBIDDEN',
      message: expect.stringContaining('receptionist role may not use admin_get_system_status'),
      request_id: expect.any(String),
      details: { permission: 'admin:read' },
    });
  });

  it('answers invalid arguments with an INVALID_PARAMETERS result naming the field', async () => {
    const admin = await client(url, era, { token: await t.tokenFor('admin') });
    const result = await admin.callTool({ name: 'test_count_slowly', arguments: { to: 'many' } });
    expect(result.isError).toBe(true);
    expect(errorOf(result)).toMatchObject({ error_code: 'INVALID_PARAMETERS' });
    expect(JSON.stringify(errorOf(result))).toContain('"field":"to"');
    expect(result.structuredContent).toBeUndefined();
  });

  it('reports progress from a long tool when the client asks for it', async () => {
    const admin = await client(url, era, { token: await t.tokenFor('admin') });
    const seen: number[] = [];
    const result = await admin.callTool(
      { name: 'test_count_slowly', arguments: { to: 3 } },
      { onprogress: (p) => seen.push(p.progress) },
    );
    expect(result.structuredContent).toEqual({ counted: 3 });
    expect(seen).toEqual([1, 2, 3]);
  });

  it('aborts the handler when the client cancels the call', async () => {
    const admin = await client(url, era, { token: await t.tokenFor('admin') });
    const before = state.cancelled;
    const abort = new AbortController();
    // Cancel as soon as the handler shows it is running (its first progress step), not after a guessed delay.
    const call = admin.callTool(
      { name: 'test_count_slowly', arguments: { to: 200 } },
      { signal: abort.signal, onprogress: () => abort.abort() },
    );
    await expect(call).rejects.toThrow();
    await expect.poll(() => state.cancelled, { timeout: 3000 }).toBe(before + 1);
  });

  it('two-step confirmation: CONFIRMATION_REQUIRED with a token, then the call with confirmation_token', async () => {
    const admin = await client(url, era, { token: await t.tokenFor('admin') });
    const args = { study_instance_uid: '1.2.3', destination: 'ARCHIVE' };
    const before = state.sent;
    const first = await admin.callTool({ name: 'test_send_study', arguments: args });
    expect(first.isError).toBe(true);
    const body = errorOf(first) as { error_code: string; details: { confirmation_token: string } };
    expect(body.error_code).toBe('CONFIRMATION_REQUIRED');
    expect(state.sent).toBe(before);
    const second = await admin.callTool({
      name: 'test_send_study',
      arguments: { ...args, confirmation_token: body.details.confirmation_token },
    });
    expect(second.structuredContent).toEqual({ sent: true, destination: 'ARCHIVE' });
    expect(state.sent).toBe(before + 1);
    // Single use: replaying the token is refused.
    const replay = await admin.callTool({
      name: 'test_send_study',
      arguments: { ...args, confirmation_token: body.details.confirmation_token },
    });
    expect(errorOf(replay)).toMatchObject({ error_code: 'CONFIRMATION_REQUIRED' });
  });

  it('offers resources through their backing tool, with the tool’s permission and errors', async () => {
    const radiologist = await client(url, era, { token: await t.tokenFor('radiologist') });
    const templates = (await radiologist.listResourceTemplates()).resourceTemplates.map((r) => r.uriTemplate);
    expect(templates).toContain('test-study://{uid}');
    // The canonical templates appear because their backing tools are registered and the role may use them
    // (report:// is backed by the reporting module's reporting_get_report; billing clerks do not see it).
    expect(templates).toEqual(
      expect.arrayContaining(['study://{uid}', 'patient://{id}/summary', 'report://{id}']),
    );
    const read = await radiologist.readResource({ uri: 'test-study://1.2.3' });
    expect(read.contents[0]).toMatchObject({ uri: 'test-study://1.2.3', mimeType: 'application/json' });
    await expect(radiologist.readResource({ uri: 'test-study://9.9' })).rejects.toMatchObject({
      code: -32602,
    });
    // A billing clerk may read the RIS but not the PACS: the patient summary (its RIS part), not study://.
    const billing = await client(url, era, { token: await t.tokenFor('billing_clerk') });
    const billingTemplates = (await billing.listResourceTemplates()).resourceTemplates.map(
      (r) => r.uriTemplate,
    );
    expect(billingTemplates).toEqual(['patient://{id}/summary']);
    const auditor = await client(url, era, { token: await t.tokenFor('auditor') });
    expect((await auditor.listResourceTemplates()).resourceTemplates).toEqual([]);
  });

  it('lists prompts for the role, renders them and completes enumerated arguments from tool schemas', async () => {
    const radiologist = await client(url, era, { token: await t.tokenFor('radiologist') });
    // Only prompts whose tools are all there and allowed: no billing module, no billing prompt.
    const names = (await radiologist.listPrompts()).prompts.map((p) => p.name);
    expect(names).toEqual(['brief_worklist', 'draft_report_for_study']);
    // A transcriptionist may not read orders nor start a report: not offered the drafting prompt.
    const transcriptionist = await client(url, era, { token: await t.tokenFor('transcriptionist') });
    expect((await transcriptionist.listPrompts()).prompts.map((p) => p.name)).toEqual([]);
    const auditor = await client(url, era, { token: await t.tokenFor('auditor') });
    expect((await auditor.listPrompts()).prompts.map((p) => p.name)).toEqual([]);
    const prompt = await radiologist.getPrompt({
      name: 'brief_worklist',
      arguments: { date: '2026-03-02', modality: 'MR' },
    });
    const first = prompt.messages[0]?.content;
    expect(first?.type === 'text' ? first.text : '').toContain('worklist for 2026-03-02, MR only');
    const completion = await radiologist.complete({
      ref: { type: 'ref/prompt', name: 'brief_worklist' },
      argument: { name: 'modality', value: 'm' },
    });
    expect(completion.completion.values).toEqual(['MR']);
  });
});

describe('confirmation through the client (elicitation)', () => {
  it('2026-07-28: asks the person with an input_required round and runs once they accept', async () => {
    const admin = await client(url, '2026', { token: await t.tokenFor('admin'), confirm: true });
    const before = state.sent;
    const result = await admin.callTool({
      name: 'test_send_study',
      arguments: { study_instance_uid: '1.2.3', destination: 'REFERRER' },
    });
    expect(result.structuredContent).toEqual({ sent: true, destination: 'REFERRER' });
    expect(state.sent).toBe(before + 1);
  });

  it('2026-07-28: a declined confirmation does nothing and says so', async () => {
    const admin = await client(url, '2026', { token: await t.tokenFor('admin'), confirm: false });
    const before = state.sent;
    const result = await admin.callTool({
      name: 'test_send_study',
      arguments: { study_instance_uid: '1.2.3', destination: 'REFERRER' },
    });
    expect(result.isError).toBe(true);
    expect(errorOf(result)).toMatchObject({
      error_code: 'CONFIRMATION_REQUIRED',
      details: { declined: true },
    });
    expect(state.sent).toBe(before);
  });

  it('2025 era over stateless HTTP cannot ask, so it falls back to the token even for a capable client', async () => {
    const admin = await client(url, '2025', { token: await t.tokenFor('admin'), confirm: true });
    const result = await admin.callTool({
      name: 'test_send_study',
      arguments: { study_instance_uid: '1.2.3', destination: 'ARCHIVE' },
    });
    expect(errorOf(result)).toMatchObject({
      error_code: 'CONFIRMATION_REQUIRED',
      details: { confirmation_token: expect.any(String) },
    });
  });
});

describe('HTTP edge of /mcp', () => {
  const initialize = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'curl', version: '1' } },
  });
  const post = (headers: Record<string, string>, body = initialize) =>
    fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...headers,
      },
      body,
    });

  it('refuses a request without a valid token with 401 and a resource_metadata challenge', async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer not-a-jwt' }];
    for (const headers of attempts) {
      const response = await post(headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(
        /^Bearer resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource"/,
      );
      expect(await response.json()).toMatchObject({ error_code: 'UNAUTHENTICATED' });
    }
    await expect(connectMcp(url, '2026')).rejects.toThrow();
  });

  it('publishes RFC 9728 protected resource metadata', async () => {
    const response = await fetch(new URL('/.well-known/oauth-protected-resource', url));
    expect(response.status).toBe(200);
    const metadata = (await response.json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      resource: url,
      bearer_methods_supported: ['header'],
      scopes_supported: [],
    });
    // JWT_ISSUER "upc-mcp" is not a URL, so no authorization server is advertised.
    expect(metadata.authorization_servers).toBeUndefined();
  });

  it('refuses foreign Host and Origin headers before authentication (DNS rebinding)', async () => {
    const token = await t.tokenFor('admin');
    const evilOrigin = await post({ authorization: `Bearer ${token}`, origin: 'http://evil.example' });
    expect(evilOrigin.status).toBe(403);
    const evilHost = await t.app.inject({
      method: 'POST',
      url: '/mcp',
      headers: { host: 'evil.example', 'content-type': 'application/json', authorization: `Bearer ${token}` },
      payload: initialize,
    });
    expect(evilHost.statusCode).toBe(403);
    const local = await post({ authorization: `Bearer ${token}`, origin: 'http://localhost:3000' });
    expect(local.status).toBe(200);
  });

  it('answers a malformed body with a JSON-RPC parse error', async () => {
    const response = await post({ authorization: `Bearer ${await t.tokenFor('admin')}` }, '{not json');
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32700 } });
  });

  it('sends a JSON answer whole with its length, and a 2025-era answer as an event stream', async () => {
    const authorization = `Bearer ${await t.tokenFor('admin')}`;
    const envelope = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: 'curl', version: '1' },
      'io.modelcontextprotocol/clientCapabilities': {},
    };
    const modern = await post(
      { authorization, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' },
      JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list', params: { _meta: envelope } }),
    );
    expect(modern.status).toBe(200);
    expect(modern.headers.get('content-type')).toMatch(/^application\/json/);
    expect(modern.headers.get('transfer-encoding')).toBeNull();
    const text = await modern.text();
    expect(Number(modern.headers.get('content-length'))).toBe(Buffer.byteLength(text));
    expect(JSON.parse(text)).toMatchObject({ jsonrpc: '2.0', id: 7, result: { tools: expect.any(Array) } });

    const legacy = await post(
      { authorization, 'mcp-protocol-version': '2025-11-25' },
      JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'tools/list' }),
    );
    expect(legacy.status).toBe(200);
    expect(legacy.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(await legacy.text()).toMatch(/^event: message\ndata: \{.*"id":8/);
  });

  it('answers an unknown tool with a JSON-RPC invalid-params error', async () => {
    const admin = await client(url, '2026', { token: await t.tokenFor('admin') });
    await expect(admin.callTool({ name: 'no_such_tool', arguments: {} })).rejects.toMatchObject({
      code: -32602,
    });
  });
});
