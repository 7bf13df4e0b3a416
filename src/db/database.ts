import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, PostgresDialect, type PostgresPool } from 'kysely';
import pg from 'pg';
import type { Config } from '../config.js';
import { type BackendTelemetry, NO_TELEMETRY } from '../core/telemetry.js';
import { ambientDialect, type CallTransactionRunner } from './call-transaction.js';
import { type DataDirLock, lockDataDir } from './data-dir-lock.js';
import { databaseTelemetryLogger } from './database.telemetry.js';

/** Runs a multi-statement SQL script on one connection (migrations need this; Kysely runs one statement). */
export interface ScriptSession {
  exec(script: string): Promise<void>;
  query<T>(text: string, params?: unknown[]): Promise<T[]>;
  release(): Promise<void>;
}

/**
 * One PostgreSQL code path over two engines: embedded PGlite by default (zero set-up), a real server
 * through a `pg` pool when DATABASE_URL is set. Everything above this file sees only Kysely.
 */
export interface Database {
  readonly kind: 'pglite' | 'postgres';
  /** The embedded database's owner lock (PGlite only): records the server's URL once it listens. */
  readonly dataDirLock?: DataDirLock;
  // biome-ignore lint/suspicious/noExplicitAny: each module narrows this with `withTables<ItsTables>()`
  readonly db: Kysely<any>;
  session(): Promise<ScriptSession>;
  /**
   * Runs `fn` in one transaction that every query on `db` made inside it joins (call-transaction.ts):
   * a write call's changes, idempotency result and audit intent commit together or not at all.
   */
  runInCallTransaction: CallTransactionRunner;
  close(): Promise<void>;
  /** The embedded engine itself (PGlite only), for a consistent snapshot (`upc-mcp backup`). */
  readonly pglite?: PGlite;
}

export interface DatabaseOptions {
  /** Where statement latencies and failures go (backend `database`); default nowhere. */
  telemetry?: BackendTelemetry;
}

export async function openDatabase(
  config: Pick<Config, 'DATABASE_URL' | 'DATA_DIR' | 'DATABASE_POOL_SIZE' | 'DATABASE_STATEMENT_TIMEOUT_MS'>,
  options: DatabaseOptions = {},
): Promise<Database> {
  const telemetry = options.telemetry ?? NO_TELEMETRY;
  if (config.DATABASE_URL) {
    return openPostgres(
      {
        connectionString: config.DATABASE_URL,
        max: config.DATABASE_POOL_SIZE,
        statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
      },
      telemetry,
    );
  }
  return openPglite(path.resolve(config.DATA_DIR), telemetry);
}

/** Connections lost while open (their errors handled, never crashing the process); for tests and logs. */
export const lostConnections = { count: 0, last: '' };

// PostgreSQL's int8 and numeric come back as strings by default; money and counts here fit in a double.
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

interface PostgresSettings {
  connectionString: string;
  max: number;
  /** 0: no limit. */
  statementTimeoutMs: number;
}

function openPostgres(settings: PostgresSettings, telemetry: BackendTelemetry): Database {
  const pool = new pg.Pool({
    connectionString: settings.connectionString,
    max: settings.max,
    idleTimeoutMillis: 30_000,
    // Also the longest wait for a free pooled connection: bursts of concurrent writes (20 receptionists
    // booking at once) must queue, not fail as if the database were down.
    connectionTimeoutMillis: 10_000,
    // Server-side: PostgreSQL cancels a statement running longer than this (57014 → UPSTREAM_TIMEOUT)
    // and the connection stays usable. (pg's client-side query_timeout would leave the statement running
    // on a connection Kysely then hands back to the pool, so it is not used.)
    ...(settings.statementTimeoutMs > 0 ? { statement_timeout: settings.statementTimeoutMs } : {}),
    // Notices a server that vanished without closing its sockets (failover, network cut).
    keepAlive: true,
  });
  // A client losing its server (restart, failover, an administrator terminating it) emits 'error'. The
  // pool listens only while a client is idle; a checked-out client with no listener would crash the
  // process. So every client gets its own listener for life: the call in progress fails with the error
  // (→ UPSTREAM_UNAVAILABLE), the client is discarded by the pool, and new ones are opened on demand.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', (error: Error) => {
      telemetry.observeCall('database', 'connection_lost', 0, 'error');
      lostConnections.count += 1;
      lostConnections.last = error.message;
    });
  });
  const { dialect, runInTransaction } = ambientDialect(
    new PostgresDialect({ pool: observedPool(pool, telemetry) }),
  );
  const db = new Kysely({ dialect, log: databaseTelemetryLogger(telemetry) });
  return {
    kind: 'postgres',
    db,
    runInCallTransaction: runInTransaction,
    async session() {
      const client = await pool.connect();
      // Migrations and maintenance scripts may legitimately run long (or wait for another replica's
      // migration lock); the connection is discarded afterwards so the setting never reaches the pool.
      try {
        await client.query('SET statement_timeout = 0');
      } catch (error) {
        client.release(true);
        throw error;
      }
      return {
        async exec(script) {
          await client.query(script);
        },
        async query<T>(text: string, params: unknown[] = []) {
          const result = await client.query(text, params);
          return result.rows as T[];
        },
        async release() {
          client.release(true);
        },
      };
    },
    async close() {
      await db.destroy();
      // Kysely ends the pool only if it ever used it; migrations may be the pool's only user.
      if (!pool.ended) await pool.end();
    },
  };
}

/** The pool as Kysely sees it, reporting connections that cannot be opened (the database is down). */
function observedPool(pool: pg.Pool, telemetry: BackendTelemetry): PostgresPool {
  return {
    options: pool.options,
    async connect() {
      const started = performance.now();
      try {
        return await pool.connect();
      } catch (error) {
        telemetry.observeCall('database', 'connect', (performance.now() - started) / 1000, 'error');
        throw error;
      }
    },
    end: () => pool.end(),
  };
}

async function openPglite(dataRoot: string, telemetry: BackendTelemetry): Promise<Database> {
  const dataDir = path.join(dataRoot, 'pglite');
  mkdirSync(dataDir, { recursive: true });
  // One process owns the files; a second opener stops here with the owner's name (data-dir-lock.ts).
  const lock = lockDataDir(dataRoot);
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(dataDir, {
      parsers: { 20: (v: string) => Number(v), 1700: (v: string) => Number(v) },
    });
  } catch (error) {
    lock.release();
    throw error;
  }
  const { dialect, runInTransaction } = ambientDialect(new PGliteDialect({ pglite }));
  const db = new Kysely({ dialect, log: databaseTelemetryLogger(telemetry) });
  return {
    kind: 'pglite',
    runInCallTransaction: runInTransaction,
    dataDirLock: lock,
    pglite,
    db,
    async session() {
      return {
        async exec(script) {
          await pglite.exec(script);
        },
        async query<T>(text: string, params: unknown[] = []) {
          const result = await pglite.query<T>(text, params);
          return result.rows;
        },
        async release() {},
      };
    },
    async close() {
      await db.destroy();
      if (!pglite.closed) await pglite.close();
      lock.release();
    },
  };
}
