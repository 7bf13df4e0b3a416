import { connect } from 'node:net';
import { sql } from 'kysely';
import type { Config } from '../config.js';
import { ownerOf } from '../db/data-dir-lock.js';
import { openDatabase } from '../db/database.js';
import { loadMigrations } from '../db/migrate.js';
import { OrthancClient } from '../modules/pacs/orthanc.client.js';
import { dim, fail, ok, warn } from './output.js';

export interface DoctorCheck {
  name: string;
  ok: boolean;
  message: string;
  fix?: string;
  optional?: boolean;
}

/** Checks each backend the configuration points at and says what is wrong and how to fix it. */
export async function runDoctor(config: Config): Promise<DoctorCheck[]> {
  return Promise.all([checkDatabase(config), checkOrthanc(config), checkRedis(config), checkJwks(config)]);
}

export function printDoctor(checks: DoctorCheck[]): boolean {
  let healthy = true;
  for (const check of checks) {
    if (check.ok) {
      console.log(ok(`${check.name}: ${check.message}`));
    } else {
      if (!check.optional) healthy = false;
      console.log((check.optional ? warn : fail)(`${check.name}: ${check.message}`));
      if (check.fix) console.log(`    ${dim('fix:')} ${check.fix}`);
    }
  }
  return healthy;
}

async function checkDatabase(config: Config): Promise<DoctorCheck> {
  const where = config.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${config.DATA_DIR}`;
  // A running server owns the embedded database: ask it, instead of opening the same files.
  const owner = config.DATABASE_URL ? undefined : ownerOf(config.DATA_DIR);
  if (owner) {
    if (!owner.url)
      return {
        name: 'database',
        ok: false,
        message: `${where} is in use by upc-mcp ${owner.command} (pid ${owner.pid})`,
        fix: `wait for it to finish, or stop it (kill ${owner.pid})`,
      };
    const health = await fetch(new URL('/health', owner.url))
      .then((r) => r.json() as Promise<{ modules?: { database?: { status?: string } } }>)
      .catch(() => undefined);
    const up = health?.modules?.database?.status === 'up';
    return {
      name: 'database',
      ok: up,
      message: `${where}, owned by the running server (pid ${owner.pid}, ${owner.url}): ${up ? 'up' : 'not answering'}`,
      ...(up ? {} : { fix: `look at that server's log, or restart it (kill ${owner.pid}; npm start)` }),
    };
  }
  try {
    const database = await openDatabase(config);
    try {
      await sql`SELECT 1`.execute(database.db);
      const known = loadMigrations().length;
      const applied = await sql<{ n: number }>`SELECT count(*)::int AS n FROM public.schema_migrations`
        .execute(database.db)
        .then((r) => r.rows[0]?.n ?? 0)
        .catch(() => 0);
      if (applied < known) {
        return {
          name: 'database',
          ok: false,
          message: `${where} reachable; ${known - applied} of ${known} migrations not applied`,
          fix: 'run `upc-mcp migrate` (the server also applies them at start)',
        };
      }
      return { name: 'database', ok: true, message: `${where} reachable, ${applied} migrations applied` };
    } finally {
      await database.close();
    }
  } catch (error) {
    return {
      name: 'database',
      ok: false,
      message: `${where}: ${(error as Error).message}`,
      fix: config.DATABASE_URL
        ? 'check that PostgreSQL runs and DATABASE_URL (host, port, user, database) is right'
        : `check that ${config.DATA_DIR} is writable and not used by another running server`,
    };
  }
}

async function checkOrthanc(config: Config): Promise<DoctorCheck> {
  const client = new OrthancClient({
    url: config.ORTHANC_URL,
    username: config.ORTHANC_USERNAME,
    password: config.ORTHANC_PASSWORD,
    timeoutMs: 3_000,
  });
  try {
    const system = await client.getJson<{ Version: string; DicomAet: string }>('/system');
    const plugins = await client.getJson<string[]>('/plugins').catch(() => [] as string[]);
    const dicomweb = plugins.includes('dicom-web');
    return {
      name: 'orthanc',
      ok: dicomweb,
      message: `Orthanc ${system.Version} at ${config.ORTHANC_URL} (AET ${system.DicomAet})${dicomweb ? ', DICOMweb plugin loaded' : ', DICOMweb plugin missing'}`,
      ...(dicomweb
        ? {}
        : { fix: 'install the orthanc-dicomweb plugin and list it under "Plugins" in orthanc.json' }),
    };
  } catch (error) {
    const message = (error as Error).message;
    const fix = message.includes('credentials')
      ? 'set ORTHANC_USERNAME and ORTHANC_PASSWORD to a user in Orthanc\'s "RegisteredUsers"'
      : 'start Orthanc (e.g. `Orthanc /etc/orthanc/`) or point ORTHANC_URL at it';
    return { name: 'orthanc', ok: false, message: `${config.ORTHANC_URL}: ${message}`, fix };
  } finally {
    await client.close();
  }
}

async function checkRedis(config: Config): Promise<DoctorCheck> {
  if (!config.REDIS_URL) {
    return { name: 'redis', ok: true, message: 'not configured; rate limits and caches are kept in process' };
  }
  const url = new URL(config.REDIS_URL);
  const reply = await new Promise<string>((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port || 6379) });
    socket.setTimeout(2_000, () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.on('error', (e) => resolve(e.message));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => {
      socket.end();
      resolve(data.toString().trim());
    });
  });
  if (reply === '+PONG' || reply.startsWith('-NOAUTH')) {
    return { name: 'redis', ok: true, message: `${url.host} answers` };
  }
  return {
    name: 'redis',
    ok: false,
    message: `${url.host}: ${reply}`,
    fix: 'start Redis or unset REDIS_URL to keep state in process (single replica only)',
  };
}

async function checkJwks(config: Config): Promise<DoctorCheck> {
  if (!config.JWKS_URL) {
    return {
      name: 'identity',
      ok: true,
      message: config.JWT_SECRET_KEY
        ? 'HS256 tokens with JWT_SECRET_KEY'
        : 'HS256 tokens with a development key kept in DATA_DIR',
    };
  }
  try {
    const response = await fetch(config.JWKS_URL, { signal: AbortSignal.timeout(3_000) });
    const body = (await response.json()) as { keys?: unknown[] };
    if (!response.ok || !Array.isArray(body.keys))
      throw new Error(`answered ${response.status} without a "keys" array`);
    return {
      name: 'identity',
      ok: true,
      message: `JWKS at ${config.JWKS_URL} has ${body.keys.length} key(s)`,
    };
  } catch (error) {
    return {
      name: 'identity',
      ok: false,
      message: `JWKS_URL ${config.JWKS_URL}: ${(error as Error).message}`,
      fix: "point JWKS_URL at your identity provider's jwks_uri (see docs/SECURITY.md)",
    };
  }
}
