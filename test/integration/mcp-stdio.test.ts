import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testConfig } from '../../src/config.js';
import { spokenTime } from '../../src/core/practice-time.js';
import { issueToken, tokenSettings } from '../../src/security/tokens.js';
import { REPO_ROOT, runCli } from '../harness/cli.js';
import { TZ, testNow } from '../harness/clock.js';
import { errorOf } from '../harness/mcp.js';
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
      UPC_CLOCK_START: testNow().toISOString(),
    };
    // A demo week, so a confirmation tool has a real appointment to act on.
    const seeded = await runCli(['seed-demo'], env, 120_000);
    if (seeded.code !== 0) throw new Error(`seed-demo failed: ${seeded.stdout}\n${seeded.stderr}`);
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
        const appointment = await bookedAppointment(accept ? 0 : 1);
        const result = await client.callTool({
          name: 'ris_cancel_appointment',
          arguments: { appointment_id: appointment.id, reason: 'Patient unwell' },
        });
        // The person is asked in words: whose appointment, what, when and where.
        expect(questions).toHaveLength(1);
        expect(questions[0]).toBe(
          `Please confirm: Cancel ${appointment.who}'s ${appointment.what} on ${appointment.when} in ` +
            `${appointment.room} (appointment ${appointment.id}, ${appointment.accession}); reason: Patient unwell. ` +
            'The slot is freed; the order stays and can be booked again.',
        );
        if (accept) {
          expect(result.isError).toBeFalsy();
          expect(result.structuredContent).toMatchObject({
            appointment: { appointment_id: appointment.id, status: 'CANCELLED' },
          });
        } else {
          expect(errorOf(result)).toMatchObject({
            error_code: 'CONFIRMATION_REQUIRED',
            details: { declined: true },
          });
        }
      } finally {
        await client.close();
      }
    },
  );

  /** The n-th BOOKED demo appointment, with the words a confirmation should use for it. */
  async function bookedAppointment(n: number) {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query(
        `SELECT a.appointment_id AS id, a.accession_number AS accession, r.room, a.start_at,
                p.given_names || ' ' || p.family_name AS who, pr.description AS what
         FROM ris.appointments a JOIN ris.rooms r USING (room_id) JOIN ris.orders o USING (accession_number)
         JOIN ris.patients p ON p.patient_id = o.patient_id JOIN ris.procedures pr USING (procedure_code)
         WHERE a.status = 'BOOKED' ORDER BY a.appointment_id OFFSET $1 LIMIT 1`,
        [n],
      );
      const row = rows[0];
      return { ...row, id: Number(row.id), when: spokenTime(row.start_at, TZ) };
    } finally {
      await client.end();
    }
  }

  it('documents the command in --help', async () => {
    const result = await runCli(['stdio', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/UPC_TOKEN/);
  });
});
