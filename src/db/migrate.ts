import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256Hex } from '../core/stable-json.js';
import type { Database, ScriptSession } from './database.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

const CORE_MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
const MODULES_DIR = fileURLToPath(new URL('../modules/', import.meta.url));
const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;
// Any constant works; it only has to be the same for every process running migrations.
const MIGRATION_LOCK_KEY = 74_201_911;

/**
 * Where migrations live: core's (`db/migrations`) and each module's own `migrations/` folder, found by
 * convention so that adding a module touches nothing outside its folder. Versions are one global sequence.
 */
export function migrationDirs(): string[] {
  const modules = existsSync(MODULES_DIR)
    ? readdirSync(MODULES_DIR, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => path.join(MODULES_DIR, entry.name, 'migrations'))
        .filter((dir) => existsSync(dir))
    : [];
  return [CORE_MIGRATIONS_DIR, ...modules];
}

export function loadMigrations(dirs: string | readonly string[] = migrationDirs()): Migration[] {
  const migrations = (typeof dirs === 'string' ? [dirs] : dirs)
    .flatMap((dir) =>
      readdirSync(dir)
        .filter((file) => file.endsWith('.sql'))
        .map((file) => ({ dir, file })),
    )
    .map(({ dir, file }) => {
      const match = FILE_NAME.exec(file);
      if (!match) throw new Error(`Migration file "${file}" must be named NNNN_name.sql`);
      const sql = readFileSync(path.join(dir, file), 'utf8');
      return {
        version: Number(match[1]),
        name: match[2]!,
        sql,
        checksum: sha256Hex(sql),
      };
    })
    .sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version === migrations[i - 1]!.version) {
      throw new Error(`Two migrations share version ${migrations[i]!.version}`);
    }
  }
  return migrations;
}

/** `0001_core`: the migration's file name without `.sql`. */
export function migrationLabel(m: Migration): string {
  return `${String(m.version).padStart(4, '0')}_${m.name}`;
}

export interface MigrationReport {
  applied: Migration[];
  alreadyApplied: number;
}

/**
 * Applies pending migrations in order, each in its own transaction, under an advisory lock so replicas
 * starting together do not race. A changed file that was already applied stops everything: edit by adding
 * a new migration instead.
 */
export async function migrate(
  database: Database,
  options: { migrations?: Migration[]; onApplied?: (m: Migration) => void } = {},
): Promise<MigrationReport> {
  const migrations = options.migrations ?? loadMigrations();
  const session = await database.session();
  try {
    await session.exec(`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
    try {
      // Created only when missing: the application's own role (upc_app) may not create tables, and on an
      // up-to-date database it has nothing to create.
      const [ledger] = await session.query<{ present: boolean }>(
        "SELECT to_regclass('public.schema_migrations') IS NOT NULL AS present",
      );
      if (!ledger?.present) {
        await session.exec(`CREATE TABLE IF NOT EXISTS public.schema_migrations (
          version integer PRIMARY KEY,
          name text NOT NULL,
          checksum text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )`);
      }
      const done = await session.query<{ version: number; name: string; checksum: string }>(
        'SELECT version, name, checksum FROM public.schema_migrations ORDER BY version',
      );
      const doneByVersion = new Map(done.map((row) => [row.version, row]));
      const applied: Migration[] = [];
      for (const migration of migrations) {
        const previous = doneByVersion.get(migration.version);
        if (previous) {
          if (previous.checksum !== migration.checksum) {
            throw new Error(
              `Migration ${migrationLabel(migration)} changed after it was applied; add a new migration instead`,
            );
          }
          continue;
        }
        await applyOne(session, migration);
        applied.push(migration);
        options.onApplied?.(migration);
      }
      return { applied, alreadyApplied: doneByVersion.size };
    } finally {
      await session.exec(`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`);
    }
  } finally {
    await session.release();
  }
}

async function applyOne(session: ScriptSession, migration: Migration): Promise<void> {
  await session.exec('BEGIN');
  try {
    await session.exec(migration.sql);
    await session.query(
      'INSERT INTO public.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)',
      [migration.version, migration.name, migration.checksum],
    );
    await session.exec('COMMIT');
  } catch (error) {
    await session.exec('ROLLBACK');
    throw new Error(`Migration ${migrationLabel(migration)} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
