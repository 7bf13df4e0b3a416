import type { PGlite } from '@electric-sql/pglite';

/**
 * A consistent snapshot of the embedded database: PGlite's data directory as a gzipped tar, taken between
 * statements (PGlite runs it exclusively of queries), so restoring it is like starting after a crash at
 * that instant: committed transactions are there, the rest is not.
 */
export async function snapshotOf(pglite: PGlite | undefined): Promise<Buffer> {
  if (!pglite) throw new Error('backup is for the embedded database');
  const blob = await pglite.dumpDataDir('gzip');
  return Buffer.from(await blob.arrayBuffer());
}
