import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli, spawnCli } from '../harness/cli.js';
import { createTestDatabase, freePort, type TestDatabase } from '../harness/postgres.js';
import { waitUntil } from '../harness/wait.js';

const SECRET = 'cli-test-secret-cli-test-secret-0123456789';

// Each test starts `upc-mcp` processes (tsx compiles the CLI at every start): allow for a loaded machine.
describe('upc-mcp CLI', { timeout: 120_000 }, () => {
  let db: TestDatabase;
  let dataDir: string;
  beforeAll(async () => {
    db = await createTestDatabase(inject('pgAdminUrl'));
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'upc-cli-'));
  });
  afterAll(async () => {
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses to start with a wrong setting and names the variable in one line', async () => {
    const result = await runCli(['serve'], { PORT: 'eighty', DATA_DIR: dataDir });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/Invalid configuration: PORT="eighty"/);
  });

  it('prints help for each command', async () => {
    const result = await runCli(['token', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/--sub <id> --role <role>/);
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown command "frobnicate"/);
  });

  it('migrate applies migrations, then reports the database up to date', async () => {
    const first = await runCli(['migrate'], { DATABASE_URL: db.url });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/applied 0001_core/);
    const second = await runCli(['migrate'], { DATABASE_URL: db.url });
    expect(second.stdout).toMatch(/database is up to date/);
  });

  it('token → a JWT the server accepts; serve stops gracefully on SIGTERM', async () => {
    const env = {
      DATABASE_URL: db.url,
      JWT_SECRET_KEY: SECRET,
      ORTHANC_URL: 'http://127.0.0.1:1',
      DATA_DIR: dataDir,
    };
    const token = await runCli(['token', '--sub', 'dr-mokoena', '--role', 'auditor', '--ttl', '600'], env);
    expect(token.code).toBe(0);
    const jwt = token.stdout.trim();
    expect(jwt.split('.')).toHaveLength(3);

    const port = await freePort();
    const server = spawnCli(['serve'], { ...env, PORT: String(port) });
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitUntil(async () => (await fetch(`${base}/ready`)).ok, { what: 'the server to be ready' });
      const response = await fetch(`${base}/mcp/v1/invoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tool: 'admin_get_system_status', parameters: {} }),
      });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { result: { status: string } }).result.status).toBe('degraded');
    } finally {
      server.kill('SIGTERM');
    }
    const code = await new Promise<number | null>((resolve) => server.once('exit', resolve));
    expect(code).toBe(0);
  });

  it('users add/list/disable manage built-in users; the generated password is shown once', async () => {
    const env = { DATABASE_URL: db.url, DATA_DIR: dataDir };
    const added = await runCli(['users', 'add', '--username', 'Lerato', '--role', 'radiographer'], env);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/created lerato \(radiographer\)/);
    expect(added.stdout).toMatch(/password \(shown once\): \S{20,}/);
    const again = await runCli(['users', 'add', '--username', 'lerato', '--role', 'radiographer'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists/);
    const badRole = await runCli(['users', 'add', '--username', 'x1', '--role', 'janitor'], env);
    expect(badRole.stderr).toMatch(/--role is one of admin, radiologist/);
    await runCli(['users', 'disable', '--username', 'lerato'], env);
    const list = await runCli(['users', 'list'], env);
    expect(list.stdout).toMatch(/lerato\s+radiographer\s+disabled/);
  });

  it('doctor says what is wrong and how to fix it', async () => {
    const result = await runCli(['doctor'], {
      DATABASE_URL: db.url,
      ORTHANC_URL: 'http://127.0.0.1:1',
      DATA_DIR: dataDir,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/✓ database: PostgreSQL \(DATABASE_URL\) reachable/);
    expect(result.stdout).toMatch(/✗ orthanc: http:\/\/127\.0\.0\.1:1/);
    expect(result.stdout).toMatch(/fix: start Orthanc/);
  });
});
