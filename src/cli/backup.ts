/**
 * `upc-mcp backup [FILE]` and `upc-mcp restore FILE` for the embedded database (PGlite in DATA_DIR).
 * A backup is a consistent snapshot taken by PGlite itself (its data directory as a gzipped tar, taken
 * between statements); while a server owns the data directory the snapshot is taken by that server
 * (POST /admin/backup), so backups run online. On PostgreSQL the same commands explain pg_dump/pg_restore.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { Config } from '../config.js';
import { lockDataDir, ownerOf } from '../db/data-dir-lock.js';
import { openDatabase } from '../db/database.js';
import { snapshotOf } from '../db/snapshot.js';
import { resolveJwtSecret } from '../security/jwt-secret.js';
import { issueToken, tokenSettings } from '../security/tokens.js';
import { fail, ok } from './output.js';

export const BACKUP_HELP = `Usage: upc-mcp backup [FILE]
       upc-mcp restore FILE

backup   writes a consistent snapshot of the embedded database (DATA_DIR) to FILE (default
         upc-backup-<time>.tar.gz), online: while the server runs, the server takes it.
restore  brings a snapshot back into an empty DATA_DIR (it refuses to overwrite a database, or to run
         while a server owns the directory).
On PostgreSQL (DATABASE_URL) use pg_dump / pg_restore; the commands say how.`;

const PG_DUMP_ADVICE =
  'On PostgreSQL back up with pg_dump:  pg_dump --format=custom --file=upc.dump "$DATABASE_URL"\n' +
  '  and restore into an empty database:  pg_restore --no-owner --dbname="$DATABASE_URL" upc.dump\n' +
  '  (docs/RUNBOOK.md, "Backup and restore": how often, and what to keep off the machine).';

export async function backupCommand(config: Config, args: string[]): Promise<number> {
  if (config.DATABASE_URL) {
    console.error(fail('upc-mcp backup is for the embedded database.'));
    console.error(PG_DUMP_ADVICE);
    return 2;
  }
  const file = path.resolve(args[0] ?? `upc-backup-${new Date().toISOString().replace(/[:.]/g, '-')}.tar.gz`);
  if (existsSync(file)) {
    console.error(fail(`${file} exists already; choose another name.`));
    return 2;
  }
  const owner = ownerOf(config.DATA_DIR);
  let snapshot: Buffer;
  if (owner?.url) {
    // Online: the server that owns the files takes the snapshot between its own statements.
    const token = await issueToken(tokenSettings(config, resolveJwtSecret(config)), {
      subject: 'upc-mcp-backup',
      role: 'admin',
      ttlSeconds: 300,
    });
    const response = await fetch(new URL('/admin/backup', owner.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    if (!response.ok) {
      console.error(
        fail(`the server at ${owner.url} refused the backup: ${response.status} ${await response.text()}`),
      );
      return 1;
    }
    snapshot = Buffer.from(await response.arrayBuffer());
  } else {
    const database = await openDatabase(config); // takes the data directory (or names its owner)
    try {
      snapshot = await snapshotOf(database);
    } finally {
      await database.close();
    }
  }
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, snapshot, { flag: 'wx', mode: 0o600 });
  console.log(
    ok(
      `backup written: ${file} (${(snapshot.length / 1024 / 1024).toFixed(1)} MB)${owner?.url ? `, taken by the server at ${owner.url}` : ''}`,
    ),
  );
  return 0;
}

export async function restoreCommand(config: Config, args: string[]): Promise<number> {
  if (config.DATABASE_URL) {
    console.error(fail('upc-mcp restore is for the embedded database.'));
    console.error(PG_DUMP_ADVICE);
    return 2;
  }
  const file = args[0];
  if (!file || !existsSync(file)) {
    console.error(fail(`give the backup file to restore${file ? `: ${file} does not exist` : ''}.`));
    return 2;
  }
  const dataDir = path.resolve(config.DATA_DIR);
  const lock = lockDataDir(dataDir); // refuses while a server (or anything) owns it
  try {
    const target = path.join(dataDir, 'pglite');
    if (existsSync(target) && readdirSync(target).length > 0) {
      console.error(
        fail(
          `${target} already holds a database; restore refuses to overwrite it. Move it aside first ` +
            `(mv ${dataDir} ${dataDir}.old) and run restore again.`,
        ),
      );
      return 2;
    }
    mkdirSync(target, { recursive: true });
    const pglite = await PGlite.create(target, { loadDataDir: new Blob([readFileSync(file)]) });
    const { rows } = await pglite.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM public.schema_migrations',
    );
    await pglite.close();
    console.log(ok(`restored ${file} into ${target} (${rows[0]?.n ?? 0} migrations applied in it)`));
    return 0;
  } finally {
    lock.release();
  }
}
