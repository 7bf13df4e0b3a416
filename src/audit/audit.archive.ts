import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { type Kysely, sql } from 'kysely';
import { eventsAfter } from './audit.store.js';
import type { AuditTables } from './audit.tables.js';
import { verifyChain } from './audit.verify.js';

export interface ArchiveResult {
  archived: number;
  firstId: number;
  lastId: number;
  file: string;
  sha256: string;
}

/**
 * Moves events older than `before` to a JSON Lines file, then seals them: a seal row keeps the last
 * archived hash, so the live chain still verifies from there and the file can be checked on its own.
 * The chain is verified first; a broken chain is never archived.
 */
export async function archiveBefore(
  db: Kysely<AuditTables>,
  before: Date,
  file: string,
): Promise<ArchiveResult | undefined> {
  const check = await verifyChain(db);
  if (!check.ok)
    throw new Error(
      `The audit chain is broken at event ${check.broken?.id}: ${check.broken?.reason}. Nothing archived.`,
    );
  const last = await db
    .selectFrom('audit.events')
    .select((eb) => eb.fn.max('id').as('last_id'))
    .where('occurred_at', '<', before as never)
    .executeTakeFirst();
  const lastId = Number(last?.last_id ?? 0);
  if (!lastId || lastId <= check.startedAfterId) return undefined;

  const out = createWriteStream(file, { flags: 'wx' });
  const digest = createHash('sha256');
  let cursor = check.startedAfterId;
  let count = 0;
  let lastHash = '';
  while (cursor < lastId) {
    const page = (await eventsAfter(db, cursor, 2_000)).filter((e) => e.id <= lastId);
    if (page.length === 0) break;
    for (const event of page) {
      const line = `${JSON.stringify(event)}\n`;
      digest.update(line);
      if (!out.write(line)) await once(out, 'drain');
      lastHash = event.hash;
      count += 1;
    }
    cursor = page.at(-1)!.id;
  }
  out.end();
  await once(out, 'finish');
  const sha256 = digest.digest('hex');

  // Sealing and removing go through audit.archive_through, which only the audit owner's function may do
  // (the application's role cannot delete events); it checks the last archived event's hash again.
  await sql`SELECT audit.archive_through(${lastId}, ${lastHash}, ${count}, ${sha256}, ${path.basename(file)})`.execute(
    db,
  );
  return { archived: count, firstId: check.startedAfterId + 1, lastId, file, sha256 };
}
