import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testConfig } from '../../src/config.js';
import { issueToken, tokenSettings } from '../../src/security/tokens.js';
import { REPO_ROOT, runCli } from '../harness/cli.js';
import { createTestDatabase, type TestDatabase } from '../harness/postgres.js';

const SECRET = 'stdio-test-secret-stdio-test-secret-0123456789';

// Each test starts `upc-mcp` processes (tsx compiles the CLI at every start): allow for a loaded machine.
describe('upc-mcp stdio', { timeout: 120_000 }, () => {
  let db: TestDatabase;
  let dataDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase(inject('pgAdminUrl'));
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'upc-stdio-'));
    env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      DATABASE_URL: db.url,
      JWT_SECRET_KEY: SECRET,
      ORTHANC_URL: 'http://127.0.0.1:1',
      ORTHANC_TIMEOUT_MS: '500',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
    };
  });
  afterAll(async () => {
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const tokenFor = (role: 'admin' | 'receptionist') =>
    issueToken(tokenSettings(testConfig({ JWT_SECRET_KEY: SECRET }), SECRET), {
      subject: `stdio-${role}`,
      role,
    });

  /** `upc-mcp stdio` as a child process acting as a token of this role; its stderr is piped. */
  const stdioAs = async (role: 'admin' | 'receptionist') =>
    new StdioClientTransport({
      command: process.execPath,
      args: ['--import', 'tsx', 'src/main.ts', 'stdio'],
      cwd: REPO_ROOT,
      env: { ...env, UPC_TOKEN: await tokenFor(role) },
      stderr: 'pipe',
    });

  it('refuses to start without UPC_TOKEN, saying why on stderr', async () => {
    const result = await runCli(['stdio'], { ...env });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/UPC_TOKEN is not set/);
  });

  it('refuses a token it cannot verify', async () => {
    const result = await runCli(['stdio'], { ...env, UPC_TOKEN: 'not-a-jwt' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/UPC_TOKEN was refused: The bearer token is malformed/);
  });

  it.each(['2025', '2026'] as const)(
    'serves the tools as the token’s identity (%s era), logs on stderr only',
    async (era) => {
      let stderr = '';
      const transport = await stdioAs('admin');
      transport.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const client = new Client(
        { name: 'stdio-test', version: '1.0.0' },
        era === '2026' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {},
      );
      await client.connect(transport);
      try {
        const tools = (await client.listTools()).tools.map((tool) => tool.name);
        expect(tools).toContain('admin_get_system_status');
        const result = await client.callTool({ name: 'admin_get_system_status', arguments: {} });
        expect(result.structuredContent).toMatchObject({
          status: 'degraded',
          modules: { database: { status: 'up' } },
        });
      } finally {
        await client.close();
      }
      // stdout carried the protocol (the client parsed every line); the logs went to stderr.
      expect(stderr).toMatch(/"msg":"serving MCP over stdio"/);
    },
  );

  it.each([true, false])(
    '2025 era: asks the person through elicitation/create before a confirmation tool runs (accept: %s)',
    async (accept) => {
      const transport = await stdioAs('admin');
      const client = new Client(
        { name: 'stdio-test', version: '1.0.0' },
        { capabilities: { elicitation: { form: {} } } },
      );
      const questions: string[] = [];
      client.setRequestHandler('elicitation/create', async (request) => {
        questions.push(request.params.message);
        return accept ? { action: 'accept', content: { confirm: true } } : { action: 'decline' };
      });
      await client.connect(transport);
      try {
        const uid = '1.2.826.0.1.3680043.8.498.1';
        const result = await client.callTool({
          name: 'pacs_send_study',
          arguments: { study_instance_uid: uid, destination: 'REFERRER' },
        });
        expect(questions).toHaveLength(1);
        expect(questions[0]).toContain('Send a study to a DICOM destination');
        expect(questions[0]).toContain(uid);
        expect(result.isError).toBe(true);
        if (accept) {
          // Confirmed, so the tool itself ran, and found the PACS (pointed at a closed port) unreachable.
          expect(result.structuredContent).toMatchObject({ error_code: 'UPSTREAM_UNAVAILABLE' });
        } else {
          expect(result.structuredContent).toMatchObject({
            error_code: 'CONFIRMATION_REQUIRED',
            details: { declined: true },
          });
        }
      } finally {
        await client.close();
      }
    },
  );

  it('documents the command in --help', async () => {
    const result = await runCli(['stdio', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/UPC_TOKEN/);
  });
});
