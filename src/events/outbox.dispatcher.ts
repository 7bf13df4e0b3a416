/**
 * The outbox's delivery loop: claims due deliveries, runs their handlers, records the outcome.
 *
 * Proposed metrics (observability wires them; this file does not depend on the metrics library):
 *   upc_outbox_pending                         gauge    pending deliveries (`Outbox.stats().pending`)
 *   upc_outbox_dead_letters                    gauge    dead deliveries (`Outbox.stats().dead`)
 *   upc_outbox_deliveries_total{handler,outcome}  counter  outcome = delivered | failed | dead, from
 *                                                       `OutboxTelemetry` (a dead-lettering is also a failure)
 *
 * How a delivery runs (and why it is safe with several replicas, `kill -9` and PGlite):
 *   1. Claim: one UPDATE statement (its own short transaction) takes due, unleased deliveries with
 *      `FOR UPDATE SKIP LOCKED`, adds one to `attempts` and writes a lease (`locked_until`, a random
 *      `lease_token`). Replicas claiming together take different rows; after commit the lease keeps others
 *      off them.
 *   2. The handler runs with no transaction and no lock open: it may use the database itself, which on
 *      PGlite (a single connection) would otherwise deadlock.
 *   3. The outcome is written only if the lease token still matches: delivered; or failed with
 *      `next_attempt_at` moved by exponential backoff with jitter; or dead after `maxAttempts`.
 *   A replica killed during 2 never writes 3: when its lease runs out (`leaseMs`) another dispatcher claims
 *   the delivery again, as the next attempt. A handler still running when its lease ends is recorded as a
 *   failed attempt (`TimeoutError: LEASE`) so that a hung handler cannot stop the loop; it may then run
 *   twice at once. Handlers are idempotent (the event id is stable) and should be short.
 *
 * Polling: every `pollIntervalMs`, at once again while claims come back full, and a few quick polls after a
 * local `publish` (its row becomes visible only when the publisher's transaction commits, which a poll
 * cannot know: it looks again soon instead). Other replicas' events wait at most one poll interval.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { DomainEvent, EventHandler } from '../core/domain-events.js';
import { outsideCallTransaction } from '../db/call-transaction.js';
import type { BackoffSettings } from './outbox.retry.js';
import { errorSummary, retryDelayMs } from './outbox.retry.js';
import {
  type ClaimedDelivery,
  claimDue,
  type Lease,
  markDelivered,
  markFailed,
  pruneDelivered,
} from './outbox.store.js';
import type { OutboxTables } from './outbox.tables.js';
import type { OutboxTelemetry } from './outbox.telemetry.js';

export interface DispatcherSettings {
  pollIntervalMs: number;
  maxAttempts: number;
  leaseMs: number;
  batchSize: number;
  backoff: BackoffSettings;
  /** Delivered events older than this are removed. */
  retentionMs: number;
  pruneIntervalMs: number;
  now: () => Date;
}

/** Running totals since start (counters for metrics). */
export interface DeliveryCounters {
  delivered: number;
  /** Failed attempts, including the ones that dead-lettered their delivery. */
  failed: number;
  deadLettered: number;
}

/** Delays of the quick polls that follow a local publish (capped by the poll interval). */
const FAST_POLL_DELAYS_MS = [5, 25, 100, 400] as const;
/** The longest pause between polls while the database is failing. */
const MAX_ERROR_BACKOFF_MS = 30_000;
const PRUNE_BATCH = 1_000;
const LEASE_EXPIRED = 'LeaseExpired: no outcome recorded';

export class Dispatcher {
  readonly #db: Kysely<OutboxTables>;
  readonly #log: FastifyBaseLogger;
  readonly #settings: DispatcherSettings;
  readonly #telemetry: OutboxTelemetry;
  readonly #counters: DeliveryCounters;
  readonly #handlers: ReadonlyMap<string, EventHandler>;
  readonly #names: readonly string[];
  #timer: NodeJS.Timeout | undefined;
  /** When the timer fires (performance.now()); Infinity when none is set. */
  #timerAt = Number.POSITIVE_INFINITY;
  /** The pass in progress, handlers included: `close` waits for it. */
  #pass: Promise<number> | undefined;
  /** A poll asked for while a pass ran, in this many ms after it ends. */
  #requested: number | undefined;
  #fastPollsLeft = 0;
  #failedPasses = 0;
  #lastPruneAt: number | undefined;
  #stopped = false;

  constructor(
    db: Kysely<OutboxTables>,
    log: FastifyBaseLogger,
    settings: DispatcherSettings,
    telemetry: OutboxTelemetry,
    counters: DeliveryCounters,
    handlers: readonly EventHandler[],
  ) {
    this.#db = db;
    this.#log = log;
    this.#settings = settings;
    this.#telemetry = telemetry;
    this.#counters = counters;
    this.#handlers = new Map(handlers.map((h) => [h.name, h]));
    this.#names = handlers.map((h) => h.name);
  }

  start(): void {
    this.#schedule(0);
  }

  /** Something was published here: look again soon, and a few more times while its transaction commits. */
  nudge(): void {
    this.#fastPollsLeft = FAST_POLL_DELAYS_MS.length - 1;
    this.#schedule(Math.min(FAST_POLL_DELAYS_MS[0], this.#settings.pollIntervalMs));
  }

  /** Stops polling and waits for the pass in progress (its handlers and their outcomes). */
  async close(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#pass;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    if (this.#pass) {
      this.#requested = Math.min(this.#requested ?? delayMs, delayMs);
      return;
    }
    const at = performance.now() + delayMs;
    if (this.#timer && this.#timerAt <= at) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    // Never inside the publishing call's transaction (call-transaction.ts): the loop uses its own connections.
    this.#timer = outsideCallTransaction(() => setTimeout(() => this.#run(), delayMs));
    // The loop alone does not keep a process alive; the server (or a test) does.
    this.#timer.unref();
  }

  #run(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    if (this.#stopped) return;
    const pass = this.#claimAndDeliver().then(
      (claimed) => {
        this.#failedPasses = 0;
        return claimed >= this.#settings.batchSize ? 0 : this.#idleDelay();
      },
      (error: unknown) => {
        this.#failedPasses += 1;
        this.#log.error({ err: messageOf(error) }, 'outbox: claiming deliveries failed; retrying');
        return Math.min(MAX_ERROR_BACKOFF_MS, this.#settings.pollIntervalMs * 2 ** this.#failedPasses);
      },
    );
    this.#pass = pass;
    void pass.then((delay) => {
      this.#pass = undefined;
      const requested = this.#requested;
      this.#requested = undefined;
      this.#schedule(Math.min(delay, requested ?? delay));
    });
  }

  #idleDelay(): number {
    if (this.#fastPollsLeft > 0) {
      const delay = FAST_POLL_DELAYS_MS[FAST_POLL_DELAYS_MS.length - this.#fastPollsLeft]!;
      this.#fastPollsLeft -= 1;
      return Math.min(delay, this.#settings.pollIntervalMs);
    }
    return this.#settings.pollIntervalMs;
  }

  /** One pass: prune when due, claim a batch, deliver it. Resolves to how many deliveries it claimed. */
  async #claimAndDeliver(): Promise<number> {
    await this.#pruneWhenDue();
    const now = this.#settings.now();
    const leaseToken = randomUUID();
    const claimed = await claimDue(this.#db, {
      handlers: this.#names,
      now,
      leaseUntil: new Date(now.getTime() + this.#settings.leaseMs),
      leaseToken,
      limit: this.#settings.batchSize,
    });
    // Each delivery independently: one slow handler does not hold up the others' outcomes. Order between
    // events is not guaranteed (nor is it across retries): handlers must not depend on it.
    await Promise.all(claimed.map((delivery) => this.#deliver(delivery, leaseToken)));
    return claimed.length;
  }

  async #deliver(delivery: ClaimedDelivery, leaseToken: string): Promise<void> {
    const handler = this.#handlers.get(delivery.handler)!;
    const lease: Lease = { eventId: delivery.eventId, handler: delivery.handler, leaseToken };
    const log = this.#log.child({
      event_id: String(delivery.eventId),
      event_type: delivery.type,
      handler: delivery.handler,
      attempt: delivery.attempt,
    });
    try {
      if (delivery.attempt > this.#settings.maxAttempts) {
        // Every allowed attempt was claimed and the last never reported back: its replica died mid-handler.
        this.#counters.failed += 1;
        this.#telemetry.failed(delivery.type, delivery.handler);
        await this.#deadLetter(lease, delivery, LEASE_EXPIRED, log);
        return;
      }
      if (!handler.types.includes(delivery.type)) {
        // Subscribed before a deploy that dropped the type from the handler: nothing left to run.
        await markDelivered(this.#db, lease, this.#settings.now());
        log.info('outbox: handler no longer handles this event type; delivery skipped');
        return;
      }
      const event: DomainEvent = {
        id: String(delivery.eventId),
        type: delivery.type,
        key: delivery.key,
        payload: delivery.payload,
        occurredAt: delivery.occurredAt,
      };
      try {
        await withinLease(handler.handle(event, { log, attempt: delivery.attempt }), this.#settings.leaseMs);
      } catch (error) {
        await this.#recordFailure(lease, delivery, errorSummary(error), log);
        return;
      }
      this.#counters.delivered += 1;
      this.#telemetry.delivered(delivery.type, delivery.handler);
      if (!(await markDelivered(this.#db, lease, this.#settings.now()))) {
        log.warn('outbox: handler finished after its lease ran out; the delivery may run again');
      }
    } catch (error) {
      // Recording the outcome failed (the database went away): the lease runs out and it is tried again.
      log.error({ err: messageOf(error) }, 'outbox: could not record a delivery outcome');
    }
  }

  async #recordFailure(
    lease: Lease,
    delivery: ClaimedDelivery,
    error: string,
    log: FastifyBaseLogger,
  ): Promise<void> {
    this.#counters.failed += 1;
    this.#telemetry.failed(delivery.type, delivery.handler);
    if (delivery.attempt >= this.#settings.maxAttempts) {
      await this.#deadLetter(lease, delivery, error, log);
      return;
    }
    const delayMs = retryDelayMs(delivery.attempt, this.#settings.backoff);
    const retryAt = new Date(this.#settings.now().getTime() + delayMs);
    await markFailed(this.#db, lease, { error, retryAt });
    log.info({ err: error, retry_in_ms: delayMs }, 'outbox: handler failed; delivery will be retried');
  }

  async #deadLetter(
    lease: Lease,
    delivery: ClaimedDelivery,
    error: string,
    log: FastifyBaseLogger,
  ): Promise<void> {
    await markFailed(this.#db, lease, { error, retryAt: null });
    this.#counters.deadLettered += 1;
    this.#telemetry.deadLettered(delivery.type, delivery.handler);
    // Names the delivery, never the payload.
    log.warn(
      { err: error, attempts: delivery.attempt },
      'outbox: delivery dead-lettered after its last attempt; see admin_list_dead_letters',
    );
  }

  async #pruneWhenDue(): Promise<void> {
    const now = this.#settings.now().getTime();
    if (this.#lastPruneAt !== undefined && now - this.#lastPruneAt < this.#settings.pruneIntervalMs) return;
    this.#lastPruneAt = now;
    try {
      const removed = await pruneDelivered(this.#db, new Date(now - this.#settings.retentionMs), PRUNE_BATCH);
      if (removed > 0) this.#log.debug({ removed }, 'outbox: pruned delivered events');
    } catch (error) {
      this.#log.warn({ err: messageOf(error) }, 'outbox: pruning delivered events failed');
    }
  }
}

/**
 * A handler still running when its lease ends counts as failed (and is retried later), so one that hangs
 * does not stop this dispatcher's loop. It cannot be cancelled: it goes on in the background, and another
 * replica may already be running the same delivery (handlers are idempotent).
 */
async function withinLease(running: Promise<void>, leaseMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          Object.assign(new Error('handler outlived its lease'), { name: 'TimeoutError', code: 'LEASE' }),
        ),
      leaseMs,
    );
    timer.unref();
  });
  try {
    await Promise.race([running, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** The outbox's own database errors name no patient (its SQL carries ids and type names only). */
function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
