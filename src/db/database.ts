import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Config } from '../config.js';

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
  // biome-ignore lint/suspicious/noExplicitAny: each module narrows this with `withTables<ItsTables>()`
  readonly db: Kysely<any>;
  session(): Promise<ScriptSession>;
  close(): Promise<void>;
}

export async function openDatabase(
  config: Pick<Config, 'DATABASE_URL' | 'DATA_DIR' | 'DATABASE_POOL_SIZE'>,
): Promise<Database> {
  if (config.DATABASE_URL) return openPostgres(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
  return openPglite(path.resolve(config.DATA_DIR, 'pglite'));
}

// PostgreSQL's int8 and numeric come back as strings by default; money and counts here fit in a double.
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

function openPostgres(connectionString: string, max: number): Database {
  const pool = new pg.Pool({
    connectionString,
    max,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
  });
  // An idle client losing its server (restart, failover) must not crash the process.
  pool.on('error', () => {});
  const db = new Kysely({ dialect: new PostgresDialect({ pool }) });
  return {
    kind: 'postgres',
    db,
    async session() {
      const client = await pool.connect();
      return {
        async exec(script) {
          await client.query(script);
        },
        async query<T>(text: string, params: unknown[] = []) {
          const result = await client.query(text, params);
          return result.rows as T[];
        },
        async release() {
          client.release();
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

async function openPglite(dataDir: string): Promise<Database> {
  mkdirSync(dataDir, { recursive: true });
  const pglite = await PGlite.create(dataDir, {
    parsers: { 20: (v: string) => Number(v), 1700: (v: string) => Number(v) },
  });
  const db = new Kysely({ dialect: new PGliteDialect({ pglite }) });
  return {
    kind: 'pglite',
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
    },
  };
}
