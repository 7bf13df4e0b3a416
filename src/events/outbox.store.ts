import type { Kysely, Transaction } from 'kysely';
import type { DeadLetterView, DomainEventInput } from '../core/domain-events.js';
import type { OutboxTables } from './outbox.tables.js';

/** All of the outbox's SQL. Each function takes the database (or the caller's transaction) first. */

type Db = Kysely<OutboxTables> | Transaction<OutboxTables>;

/**
 * The event and one pending delivery per handler subscribed to its type, in one statement (so in the
 * caller's transaction, whichever engine runs it). Due at once.
 */
export async function insertEvent(db: Db, event: DomainEventInput, occurredAt: Date): Promise<void> {
  await db
    .with('event', (qb) =>
      qb
        .insertInto('core.outbox_events')
        .values({
          type: event.type,
          key: event.key,
          payload: JSON.stringify(event.payload),
          occurred_at: occurredAt,
        })
        .returning(['id', 'type', 'occurred_at']),
    )
    .insertInto('core.outbox_deliveries')
    .columns(['event_id', 'handler', 'next_attempt_at'])
    .expression((eb) =>
      eb
        .selectFrom('event')
        .innerJoin('core.outbox_subscriptions as s', 's.type', 'event.type')
        .select(['event.id', 's.handler', 'event.occurred_at']),
    )
    .execute();
}

export interface Subscription {
  handler: string;
  types: readonly string[];
}

/**
 * Makes the subscriptions table say what these handlers listen to: adds new (handler, type) pairs (they
 * receive events published from now on) and drops types a handler no longer lists. Handlers not given here
 * are left alone: another replica, maybe on another version, may still run them.
 */
export async function syncSubscriptions(db: Kysely<OutboxTables>, handlers: readonly Subscription[]) {
  if (handlers.length === 0) return;
  await db.transaction().execute(async (trx) => {
    for (const { handler, types } of handlers) {
      let stale = trx.deleteFrom('core.outbox_subscriptions').where('handler', '=', handler);
      if (types.length > 0) stale = stale.where('type', 'not in', [...types]);
      await stale.execute();
    }
    const rows = handlers.flatMap(({ handler, types }) => types.map((type) => ({ type, handler })));
    if (rows.length > 0) {
      await trx
        .insertInto('core.outbox_subscriptions')
        .values(rows)
        .onConflict((oc) => oc.columns(['type', 'handler']).doNothing())
        .execute();
    }
  });
}

/** A delivery this dispatcher holds the lease on, with its event. */
export interface ClaimedDelivery {
  eventId: number;
  handler: string;
  /** This claim's attempt number (1 for the first). */
  attempt: number;
  lastError: string | null;
  type: string;
  key: string;
  payload: Record<string, unknown>;
  occurredAt: Date;
}

export interface ClaimRequest {
  handlers: readonly string[];
  now: Date;
  leaseUntil: Date;
  leaseToken: string;
  limit: number;
}

/**
 * Takes up to `limit` due deliveries for these handlers: pending, due, and not leased (or their lease ran
 * out: the replica that took them died). One statement, so one short transaction: `FOR UPDATE SKIP LOCKED`
 * lets replicas claiming at the same moment take different rows instead of waiting or taking the same
 * ones, and the lease written keeps them from claiming these again after commit. No lock is held after it.
 */
export async function claimDue(db: Kysely<OutboxTables>, request: ClaimRequest): Promise<ClaimedDelivery[]> {
  if (request.handlers.length === 0) return [];
  const rows = await db
    .with('due', (qb) =>
      qb
        .selectFrom('core.outbox_deliveries')
        .select(['event_id', 'handler'])
        .where('status', '=', 'pending')
        .where('handler', 'in', [...request.handlers])
        .where('next_attempt_at', '<=', request.now)
        .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', request.now)]))
        .orderBy('next_attempt_at')
        .orderBy('event_id')
        .limit(request.limit)
        .forUpdate()
        .skipLocked(),
    )
    .with('claimed', (qb) =>
      qb
        .updateTable('core.outbox_deliveries as d')
        .from('due')
        .set((eb) => ({
          attempts: eb('d.attempts', '+', 1),
          locked_until: request.leaseUntil,
          lease_token: request.leaseToken,
        }))
        .whereRef('d.event_id', '=', 'due.event_id')
        .whereRef('d.handler', '=', 'due.handler')
        .returning(['d.event_id', 'd.handler', 'd.attempts', 'd.last_error']),
    )
    .selectFrom('claimed')
    .innerJoin('core.outbox_events as e', 'e.id', 'claimed.event_id')
    .select([
      'claimed.event_id',
      'claimed.handler',
      'claimed.attempts',
      'claimed.last_error',
      'e.type',
      'e.key',
      'e.payload',
      'e.occurred_at',
    ])
    .orderBy('claimed.event_id')
    .execute();
  return rows.map((row) => ({
    eventId: row.event_id,
    handler: row.handler,
    attempt: row.attempts,
    lastError: row.last_error,
    type: row.type,
    key: row.key,
    payload: row.payload as Record<string, unknown>,
    occurredAt: new Date(row.occurred_at),
  }));
}

/** Identifies one claim: a late answer from a claim whose lease ran out (and was re-claimed) changes nothing. */
export interface Lease {
  eventId: number;
  handler: string;
  leaseToken: string;
}

/** True when this claim still held the lease (the outcome was recorded). */
export async function markDelivered(db: Kysely<OutboxTables>, lease: Lease, at: Date): Promise<boolean> {
  const result = await db
    .updateTable('core.outbox_deliveries')
    .set({ status: 'delivered', delivered_at: at, locked_until: null, lease_token: null })
    .where('event_id', '=', lease.eventId)
    .where('handler', '=', lease.handler)
    .where('lease_token', '=', lease.leaseToken)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** A failed attempt: retried at `retryAt`, or dead when `retryAt` is null. */
export async function markFailed(
  db: Kysely<OutboxTables>,
  lease: Lease,
  outcome: { error: string; retryAt: Date | null },
): Promise<boolean> {
  const result = await db
    .updateTable('core.outbox_deliveries')
    .set(
      outcome.retryAt
        ? {
            next_attempt_at: outcome.retryAt,
            last_error: outcome.error,
            locked_until: null,
            lease_token: null,
          }
        : { status: 'dead', last_error: outcome.error, locked_until: null, lease_token: null },
    )
    .where('event_id', '=', lease.eventId)
    .where('handler', '=', lease.handler)
    .where('lease_token', '=', lease.leaseToken)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function countByStatus(db: Kysely<OutboxTables>): Promise<{ pending: number; dead: number }> {
  const rows = await db
    .selectFrom('core.outbox_deliveries')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('status', 'in', ['pending', 'dead'])
    .groupBy('status')
    .execute();
  const count = (status: string) => Number(rows.find((r) => r.status === status)?.n ?? 0);
  return { pending: count('pending'), dead: count('dead') };
}

/** One dead delivery, as operators see it (core/domain-events.ts). */
export type DeadLetter = DeadLetterView;

/** Dead deliveries, the most recent events first. */
export async function listDead(db: Kysely<OutboxTables>, limit: number): Promise<DeadLetter[]> {
  const rows = await db
    .selectFrom('core.outbox_deliveries as d')
    .innerJoin('core.outbox_events as e', 'e.id', 'd.event_id')
    .select(['d.event_id', 'e.type', 'e.key', 'd.handler', 'd.attempts', 'd.last_error', 'e.occurred_at'])
    .where('d.status', '=', 'dead')
    .orderBy('d.event_id', 'desc')
    .orderBy('d.handler')
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    eventId: String(row.event_id),
    type: row.type,
    key: row.key,
    handler: row.handler,
    attempts: row.attempts,
    lastError: row.last_error,
    occurredAt: new Date(row.occurred_at),
  }));
}

/** A dead delivery back to pending, due at `now` with its attempts reset; false if there was none. */
export async function revive(
  db: Kysely<OutboxTables>,
  eventId: number,
  handler: string,
  now: Date,
): Promise<boolean> {
  const result = await db
    .updateTable('core.outbox_deliveries')
    .set({ status: 'pending', attempts: 0, next_attempt_at: now, locked_until: null, lease_token: null })
    .where('event_id', '=', eventId)
    .where('handler', '=', handler)
    .where('status', '=', 'dead')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Removes up to `limit` events that occurred before `cutoff` and that every handler has received (their
 * deliveries go with them). Events with a pending or dead delivery stay. Rows another replica is pruning
 * are skipped, not waited for.
 */
export async function pruneDelivered(db: Kysely<OutboxTables>, cutoff: Date, limit: number): Promise<number> {
  const result = await db
    .deleteFrom('core.outbox_events')
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('core.outbox_events as e')
        .select('e.id')
        .where('e.occurred_at', '<', cutoff)
        .where((w) =>
          w.not(
            w.exists(
              w
                .selectFrom('core.outbox_deliveries as d')
                .select('d.event_id')
                .whereRef('d.event_id', '=', 'e.id')
                .where('d.status', '<>', 'delivered'),
            ),
          ),
        )
        .orderBy('e.id')
        .limit(limit)
        .forUpdate()
        .skipLocked(),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
