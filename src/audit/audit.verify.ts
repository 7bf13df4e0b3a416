import type { Kysely } from 'kysely';
import { eventHash } from './audit.hash.js';
import { eventsAfter } from './audit.store.js';
import { type AuditTables, GENESIS_HASH } from './audit.tables.js';

export interface VerifyResult {
  ok: boolean;
  checked: number;
  startedAfterId: number;
  lastId: number;
  broken?: { id: number; reason: string };
}

const PAGE = 2_000;

/**
 * Walks the chain from the latest seal (or the start) and reports the first broken link: a gap in ids,
 * a row whose prev_hash is not its predecessor's hash, or a row whose content no longer matches its hash.
 */
export async function verifyChain(
  db: Kysely<AuditTables>,
  onProgress?: (checked: number) => void,
): Promise<VerifyResult> {
  const seal = await db
    .selectFrom('audit.seals')
    .select(['last_id', 'last_hash'])
    .orderBy('last_id', 'desc')
    .limit(1)
    .executeTakeFirst();
  const startedAfterId = seal ? Number(seal.last_id) : 0;
  let expectedPrev = seal?.last_hash ?? GENESIS_HASH;
  let expectedId = startedAfterId + 1;
  let checked = 0;
  for (;;) {
    const page = await eventsAfter(db, expectedId - 1, PAGE);
    for (const event of page) {
      const fail = (reason: string): VerifyResult => ({
        ok: false,
        checked,
        startedAfterId,
        lastId: expectedId - 1,
        broken: { id: event.id, reason },
      });
      if (event.id !== expectedId)
        return fail(`expected event ${expectedId} next, found ${event.id} (rows missing)`);
      if (event.prev_hash !== expectedPrev) return fail("prev_hash does not match the previous event's hash");
      const { hash, ...rest } = event;
      if (eventHash(rest) !== hash) return fail('content does not match its hash (the row was altered)');
      expectedPrev = hash;
      expectedId += 1;
      checked += 1;
    }
    onProgress?.(checked);
    if (page.length < PAGE) break;
  }
  const head = await db
    .selectFrom('audit.chain_head')
    .select(['last_id', 'last_hash'])
    .executeTakeFirstOrThrow();
  const lastId = expectedId - 1;
  if (Number(head.last_id) !== lastId || head.last_hash !== expectedPrev) {
    return {
      ok: false,
      checked,
      startedAfterId,
      lastId,
      broken: {
        id: Number(head.last_id),
        reason: `chain head says event ${head.last_id}, the log ends at ${lastId} (rows missing at the end)`,
      },
    };
  }
  return { ok: true, checked, startedAfterId, lastId };
}
