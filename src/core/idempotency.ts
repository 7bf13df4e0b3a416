import type { ColumnType, Generated, Kysely } from 'kysely';
import type { Principal } from './context.js';
import { ToolError } from './errors.js';
import { sha256Hex, stableStringify } from './stable-json.js';

type IdempotencyTables = {
  'core.idempotency_keys': {
    subject: string;
    tool: string;
    key: string;
    request_hash: string;
    /** JSON text on the way in, parsed JSON on the way out; NULL while the first call runs. */
    response: ColumnType<unknown, string | null, string | null>;
    created_at: Generated<Date>;
  };
};

/** A claim left behind by a crashed call stops blocking retries after this long. */
const STALE_CLAIM_MS = 5 * 60_000;

export type IdempotencyClaim = { kind: 'claimed' } | { kind: 'replay'; result: unknown };

/**
 * Write tools accept an idempotency key: the first call with a key runs and its result is kept; a retry
 * with the same key and parameters gets that result again without running anything. The claim is an
 * INSERT on a primary key, so two concurrent retries cannot both run.
 */
export class IdempotencyStore {
  readonly #db: Kysely<IdempotencyTables>;

  // biome-ignore lint/suspicious/noExplicitAny: narrowed to this store's one table below
  constructor(db: Kysely<any>) {
    this.#db = db.withTables<IdempotencyTables>();
  }

  async claim(
    principal: Principal,
    tool: string,
    key: string,
    parameters: unknown,
  ): Promise<IdempotencyClaim> {
    const requestHash = sha256Hex(stableStringify(parameters));
    const inserted = await this.#db
      .insertInto('core.idempotency_keys')
      .values({ subject: principal.subject, tool, key, request_hash: requestHash, response: null })
      .onConflict((oc) => oc.doNothing())
      .returning('key')
      .executeTakeFirst();
    if (inserted) return { kind: 'claimed' };

    const existing = await this.#db
      .selectFrom('core.idempotency_keys')
      .select(['request_hash', 'response', 'created_at'])
      .where('subject', '=', principal.subject)
      .where('tool', '=', tool)
      .where('key', '=', key)
      .executeTakeFirst();
    if (!existing) return this.claim(principal, tool, key, parameters);
    if (existing.request_hash !== requestHash) {
      throw new ToolError(
        'CONFLICT',
        'This idempotency key was already used with different parameters. Use a new key for a new request.',
        { idempotency_key: key },
      );
    }
    if (existing.response === null) {
      if (Date.now() - new Date(existing.created_at).getTime() > STALE_CLAIM_MS) {
        await this.release(principal, tool, key);
        return this.claim(principal, tool, key, parameters);
      }
      throw new ToolError(
        'CONFLICT',
        'A call with this idempotency key is still running. Retry in a few seconds.',
        {
          idempotency_key: key,
        },
      );
    }
    return { kind: 'replay', result: existing.response };
  }

  async complete(principal: Principal, tool: string, key: string, result: unknown): Promise<void> {
    await this.#db
      .updateTable('core.idempotency_keys')
      .set({ response: JSON.stringify(result ?? null) })
      .where('subject', '=', principal.subject)
      .where('tool', '=', tool)
      .where('key', '=', key)
      .execute();
  }

  /** Forgets a claim whose call failed, so a retry runs again. */
  async release(principal: Principal, tool: string, key: string): Promise<void> {
    await this.#db
      .deleteFrom('core.idempotency_keys')
      .where('subject', '=', principal.subject)
      .where('tool', '=', tool)
      .where('key', '=', key)
      .execute();
  }
}
