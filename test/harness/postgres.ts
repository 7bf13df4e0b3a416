import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Creates an empty database with a unique name on the test PostgreSQL server; `drop` removes it. */
export async function createTestDatabase(adminUrl: string): Promise<TestDatabase> {
  const name = `upc_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () =>
      withAdmin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(
        () => {},
      ),
  };
}

async function withAdmin<T>(adminUrl: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

export async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export interface PostgresServer {
  adminUrl: string;
  stop(): Promise<void>;
}

/**
 * The PostgreSQL the tests use: TEST_DATABASE_ADMIN_URL, else the server at 127.0.0.1:5432, else a
 * throwaway cluster started here from the Debian binaries (so the suite also runs where none is running).
 */
export async function ensurePostgres(): Promise<PostgresServer> {
  const configured = process.env.TEST_DATABASE_ADMIN_URL ?? DEFAULT_ADMIN_URL;
  if (await canConnect(configured)) return { adminUrl: configured, stop: async () => {} };
  return startThrowawayCluster();
}

async function startThrowawayCluster(): Promise<PostgresServer> {
  const cluster = await startPostgresCluster();
  return { adminUrl: cluster.adminUrl, stop: () => cluster.destroy() };
}

/** A PostgreSQL cluster of a test's own, which the test may stop (as an administrator would) and start. */
export interface PostgresCluster {
  readonly adminUrl: string;
  /** `pg_ctl stop -m immediate|fast`: immediate is a crash, fast a planned restart (sessions terminated). */
  stop(mode: 'immediate' | 'fast'): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startPostgresCluster(): Promise<PostgresCluster> {
  const bin = findPostgresBin();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'upc-pg-'));
  const port = await freePort();
  const asPostgres = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  if (asPostgres.length > 0) execFileSync('chown', ['postgres', dir]);
  const run = (file: string, args: string[]) => {
    const [command, ...prefix] = [...asPostgres, path.join(bin, file)];
    execFileSync(command!, [...prefix, ...args], { stdio: 'pipe' });
  };
  run('initdb', ['-D', dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  let child: ReturnType<typeof spawn> | undefined;
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const start = async () => {
    const [command, ...prefix] = [...asPostgres, path.join(bin, 'postgres')];
    child = spawn(
      command!,
      [
        ...prefix,
        '-D',
        dir,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
      ],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 200 && !(await canConnect(adminUrl)); i++)
      await new Promise((r) => setTimeout(r, 100));
  };
  const stop = async (mode: 'immediate' | 'fast') => {
    const running = child;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((r) => running.once('exit', r));
    run('pg_ctl', ['-D', dir, '-m', mode, '-w', 'stop']);
    await exited;
  };
  await start();
  return {
    adminUrl,
    stop,
    start,
    async destroy() {
      await stop('fast').catch(() => child?.kill('SIGKILL'));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function findPostgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const version = versions[0];
  if (!version)
    throw new Error(
      'No PostgreSQL server at 127.0.0.1:5432 and no binaries in /usr/lib/postgresql to start one: ' +
        'apt-get install postgresql (.ci/run installs it), or set TEST_DATABASE_ADMIN_URL',
    );
  return path.join(root, version, 'bin');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
