/**
 * The embedded default (PGlite in DATA_DIR) as a small practice runs it: one owner per data directory,
 * every other process works through it or says why it cannot; stdio ends with its client; nothing
 * acknowledged is lost to kill -9; backups are taken online and restore into an empty directory.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testConfig } from '../../src/config.js';
import { lockFileOf } from '../../src/db/data-dir-lock.js';
import { issueToken, tokenSettings } from '../../src/security/tokens.js';
import { REPO_ROOT, runCli, spawnCli } from '../harness/cli.js';
import { testNow } from '../harness/clock.js';
import { createTestDatabase, freePort } from '../harness/postgres.js';
import { waitForReady, waitUntil } from '../harness/wait.js';

const SECRET = 'embedded-test-secret-embedded-test-secret-0123';
const dirs: string[] = [];
const children: ChildProcess[] = [];

function dataDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'upc-embedded-'));
  dirs.push(dir);
  return dir;
}

function envFor(dir: string, port?: number): Record<string, string> {
  return {
    DATA_DIR: dir,
    JWT_SECRET_KEY: SECRET,
    ORTHANC_URL: 'http://127.0.0.1:1',
    ORTHANC_TIMEOUT_MS: '300',
    LOAD_SHED_EVENT_LOOP_DELAY_MS: '0',
    ...(port ? { PORT: String(port) } : {}),
  };
}

const token = (role: 'admin' | 'receptionist' = 'admin') =>
  issueToken(tokenSettings(testConfig({ JWT_SECRET_KEY: SECRET }), SECRET), {
    subject: `embedded-${role}`,
    role,
  });

interface Server {
  base: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

async function startServer(dir: string): Promise<Server> {
  const port = await freePort();
  const child = spawnCli(['serve'], envFor(dir, port));
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  await waitForReady(base, 'the embedded server to be ready');
  return { base, child, exited };
}

async function stopServer(server: Server): Promise<void> {
  server.child.kill('SIGTERM');
  await server.exited;
}

async function invoke(base: string, tool: string, parameters: object, bearer?: string) {
  const response = await fetch(`${base}/mcp/v1/invoke`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer ?? (await token())}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tool, parameters }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: test responses are inspected field by field
  const body: any = await response.json();
  return { status: response.status, requestId: response.headers.get('x-request-id') ?? '', body };
}

async function patientsNamed(base: string, family: string): Promise<string[]> {
  const found = await invoke(base, 'ris_search_patients', { patient_name: family, limit: 200 });
  return found.body.result.patients.map((p: { patient_id: string }) => p.patient_id);
}

afterAll(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('one owner per data directory', { timeout: 180_000 }, () => {
  let dir: string;
  let server: Server;
  beforeAll(async () => {
    dir = dataDir();
    server = await startServer(dir);
  }, 120_000);
  afterAll(() => stopServer(server));

  it('every other command says who owns it and what to do, and nothing is lost', async () => {
    const before = await invoke(server.base, 'ris_register_patient', {
      family_name: 'Owner',
      given_names: 'First',
      birth_date: '1970-01-01',
      sex: 'F',
    });
    expect(before.status).toBe(200);
    for (const args of [['seed-demo'], ['users', 'list'], ['audit', 'verify'], ['migrate'], ['serve']]) {
      const result = await runCli(args, envFor(dir, await freePort()), 60_000);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(3);
      expect(result.stderr).toMatch(
        new RegExp(`is in use by upc-mcp serve \\(pid ${server.child.pid}, ${server.base}\\)`),
      );
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
    // doctor asks the owner instead of opening the files.
    const doctor = await runCli(['doctor'], envFor(dir), 60_000);
    expect(doctor.stdout).toMatch(
      new RegExp(
        `database: embedded PGlite in .*, owned by the running server \\(pid ${server.child.pid}, ${server.base}\\): up`,
      ),
    );
    // The server never noticed: its data is all there and it still takes writes.
    expect(await patientsNamed(server.base, 'Owner')).toEqual([before.body.result.patient.patient_id]);
  });

  it('upc-mcp stdio relays to the running server: a call made through it is the server’s', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--import', 'tsx', 'src/main.ts', 'stdio'],
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        UPC_CLOCK_START: testNow().toISOString(),
        ...envFor(dir),
        UPC_TOKEN: await token('receptionist'),
      },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'embedded-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      const result = await client.callTool({
        name: 'ris_register_patient',
        arguments: { family_name: 'Relayed', given_names: 'Via Stdio', birth_date: '1981-05-05', sex: 'M' },
      });
      expect(result.isError).toBeFalsy();
      const id = (result.structuredContent as { patient: { patient_id: string } }).patient.patient_id;
      expect(await patientsNamed(server.base, 'Relayed')).toEqual([id]);
    } finally {
      await client.close();
    }
  });

  it('a backup is taken online by the server, with writes going on; restore brings it back into an empty directory', async () => {
    // Writes before the backup must be in it; writes during it may or may not be, but the result is consistent.
    const beforeIds: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await invoke(server.base, 'ris_register_patient', {
        family_name: 'Backup',
        given_names: `Before ${i}`,
        birth_date: '1990-01-01',
        sex: 'F',
      });
      beforeIds.push(r.body.result.patient.patient_id);
    }
    let writing = true;
    const during = (async () => {
      for (let i = 0; writing; i++)
        await invoke(server.base, 'ris_register_patient', {
          family_name: 'During',
          given_names: `Write ${i}`,
          birth_date: '1990-01-01',
          sex: 'M',
        });
    })();
    const file = path.join(dataDir(), 'snapshot.tar.gz');
    const backup = await runCli(['backup', file], envFor(dir), 60_000);
    writing = false;
    await during;
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toMatch(/backup written: .*snapshot\.tar\.gz .*taken by the server at/);

    // A live directory is never overwritten.
    const refused = await runCli(['restore', file], envFor(dir), 60_000);
    expect(refused.code).toBe(3);

    const empty = dataDir();
    const restored = await runCli(['restore', file], envFor(empty), 120_000);
    expect(restored.code, restored.stderr).toBe(0);
    const again = await runCli(['restore', file], envFor(empty), 60_000);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a database; restore refuses to overwrite it/);

    const copy = await startServer(empty);
    try {
      const back = await patientsNamed(copy.base, 'Backup');
      expect(back.sort()).toEqual([...beforeIds].sort());
    } finally {
      await stopServer(copy);
    }
    const verify = await runCli(['audit', 'verify'], envFor(empty), 60_000);
    expect(verify.stdout, verify.stderr).toMatch(/audit chain intact/);
  });
});

describe('upc-mcp stdio and its client', { timeout: 120_000 }, () => {
  it('ends when stdin closes half a second after start, releasing the data directory', async () => {
    const dir = dataDir();
    const child = spawnCli(['stdio'], { ...envFor(dir), UPC_TOKEN: await token() }, { stdin: 'pipe' });
    children.push(child);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    // A desktop client that gives up during our start-up: the delay is the thing tested.
    await new Promise((resolve) => setTimeout(resolve, 500));
    child.stdin?.end();
    const code = await exited;
    expect(code).toBe(0);
    expect(existsSync(lockFileOf(dir))).toBe(false);
  });
});

describe('kill -9 under write load on the embedded database', { timeout: 240_000 }, () => {
  it('loses no acknowledged write or its audit event, and the chain verifies after restart', async () => {
    const dir = dataDir();
    const first = await startServer(dir);
    const acknowledged: { id: string; requestId: string }[] = [];
    const bearer = await token();
    let running = true;
    const worker = async (n: number) => {
      for (let i = 0; running; i++) {
        try {
          const r = await invoke(
            first.base,
            'ris_register_patient',
            { family_name: 'Crash', given_names: `W${n} N${i}`, birth_date: '1975-03-03', sex: 'F' },
            bearer,
          );
          if (r.status === 200)
            acknowledged.push({ id: r.body.result.patient.patient_id, requestId: r.requestId });
        } catch {
          return; // the server is gone
        }
      }
    };
    const workers = Array.from({ length: 6 }, (_, n) => worker(n));
    await waitUntil(() => acknowledged.length >= 40, { what: '40 acknowledged writes', timeoutMs: 120_000 });
    first.child.kill('SIGKILL');
    running = false;
    await Promise.all(workers);
    await first.exited;

    // The lock of the killed owner is stale: the next start takes it over.
    const second = await startServer(dir);
    try {
      const present = new Set(await patientsNamed(second.base, 'Crash'));
      expect(acknowledged.filter((a) => !present.has(a.id))).toEqual([]);
      const exported = await fetch(`${second.base}/admin/audit/export?format=jsonl&limit=10000`, {
        headers: { authorization: `Bearer ${bearer}` },
      });
      const requestIds = new Set(
        (await exported.text())
          .trim()
          .split('\n')
          .map((line) => (JSON.parse(line) as { request_id: string }).request_id),
      );
      expect(acknowledged.filter((a) => !requestIds.has(a.requestId))).toEqual([]);
    } finally {
      await stopServer(second);
    }
    const verify = await runCli(['audit', 'verify'], envFor(dir), 60_000);
    expect(verify.stdout, verify.stderr).toMatch(/audit chain intact/);
    expect(verify.code).toBe(0);
  });
});

describe('moving to PostgreSQL', { timeout: 240_000 }, () => {
  it('upc-mcp transfer copies every row into an empty PostgreSQL database; the audit chain verifies there', async () => {
    const dir = dataDir();
    const seeded = await runCli(['seed-demo'], envFor(dir), 120_000);
    expect(seeded.code, seeded.stderr).toBe(0);
    const server = await startServer(dir);
    const registered = await invoke(server.base, 'ris_register_patient', {
      family_name: 'Moving',
      given_names: 'House',
      birth_date: '1966-06-06',
      sex: 'F',
    });
    await stopServer(server);

    const target = await createTestDatabase(inject('pgAdminUrl'));
    try {
      const moved = await runCli(['transfer', '--to', target.url], envFor(dir), 180_000);
      expect(moved.code, moved.stderr).toBe(0);
      expect(moved.stdout).toMatch(/ris\.patients: \d+ rows/);
      const again = await runCli(['transfer', '--to', target.url], envFor(dir), 120_000);
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/already holds patients or audit events/);

      const onPostgres = { ...envFor(dir), DATABASE_URL: target.url };
      const verify = await runCli(['audit', 'verify'], onPostgres, 60_000);
      expect(verify.stdout, verify.stderr).toMatch(/audit chain intact/);
      expect(verify.stdout).toMatch(/matches \d+ signed checkpoints/);
      const port = await freePort();
      const child = spawnCli(['serve'], { ...onPostgres, PORT: String(port) });
      children.push(child);
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      const base = `http://127.0.0.1:${port}`;
      try {
        await waitForReady(base, 'the server on PostgreSQL');
        expect(await patientsNamed(base, 'Moving')).toEqual([registered.body.result.patient.patient_id]);
        // New ids go on after the copied ones.
        const next = await invoke(base, 'ris_register_patient', {
          family_name: 'Moving',
          given_names: 'Next',
          birth_date: '1966-06-07',
          sex: 'M',
        });
        expect(next.status).toBe(200);
        expect(next.body.result.patient.patient_id > registered.body.result.patient.patient_id).toBe(true);
      } finally {
        child.kill('SIGTERM');
        await exited;
      }
    } finally {
      await target.drop();
    }
  });
});
