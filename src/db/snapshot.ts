import type { Database } from './database.js';

/**
 * A consistent snapshot of the embedded database: PGlite's data directory as a gzipped tar, taken while
 * holding its one connection, so between transactions (a write call's transaction spans several
 * statements: a snapshot in its middle would wait on it for ever). Restoring it is like starting after a
 * crash at that instant: committed transactions are there, the rest is not.
 */
export async function snapshotOf(database: Database): Promise<Buffer> {
  const pglite = database.pglite;
  if (!pglite) throw new Error('backup is for the embedded database');
  const blob = await database.db.connection().execute(() => pglite.dumpDataDir('gzip'));
  return Buffer.from(await blob.arrayBuffer());
}
