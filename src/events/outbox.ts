import type { FastifyBaseLogger } from 'fastify';
import type { Kysely, Transaction } from 'kysely';
import type { DomainEventInput, DomainEvents, EventHandler } from '../core/domain-events.js';
import { afterCallCommit } from '../db/call-transaction.js';
import { type DeliveryCounters, Dispatcher } from './outbox.dispatcher.js';
import {
  countByStatus,
  type DeadLetter,
  insertEvent,
  listDead,
  pruneDelivered,
  revive,
  syncSubscriptions,
} from './outbox.store.js';
import type { OutboxTables } from './outbox.tables.js';
import { NO_OUTBOX_TELEMETRY, type OutboxTelemetry } from './outbox.telemetry.js';

export type { DeadLetter } from './outbox.store.js';

export interface OutboxOptions {
  /** How often the dispatcher looks for due deliveries published by other replicas (default 1 s). */
  pollIntervalMs?: number;
  /** Attempts before a delivery is dead-lettered (default 12: with the default backoff, 1.2 to 2.4 h). */
  maxAttempts?: number;
  /** First retry delay (default 5 s), doubling per attempt up to `backoffMaxMs` (default 1 h), jittered. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** How long a claimed delivery is reserved for its handler before another replica may take it (2 min). */
  leaseMs?: number;
  /** Deliveries claimed per pass (default 10). */
  batchSize?: number;
  /** Delivered events are kept this long, then pruned (default 7 days). */
  retentionMs?: number;
  pruneIntervalMs?: number;
  /**
   * The time leases, retries and pruning are decided by (default the machine's clock). Not the product
   * clock of a training server: leases are compared with times other replicas wrote. Tests pass a frozen
   * clock and move it.
   */
  now?: () => Date;
  /** In [0, 1), for the retry jitter (default Math.random). */
  random?: () => number;
  telemetry?: OutboxTelemetry;
}

export interface OutboxStats {
  /** Deliveries waiting (due or not), all replicas. */
  pending: number;
  /** Dead deliveries waiting for an operator, all replicas. */
  dead: number;
  /** Deliveries this process completed since start. */
  delivered_total: number;
  /** Failed attempts in this process since start (each retried, or dead-lettered when it was the last). */
  failed_total: number;
  /** Deliveries this process dead-lettered since start. */
  dead_lettered_total: number;
}

/** `<module>.<aggregate>.<past-tense verb>`, lower snake case (the migration checks the same). */
const EVENT_TYPE = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/;
/** `billing.draft_invoice_on_report_signed`: the module, then what the handler does. */
const HANDLER_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const MAX_KEY_LENGTH = 200;
const MAX_HANDLER_NAME_LENGTH = 200;
/** Events carry identifiers, not documents. */
const MAX_PAYLOAD_BYTES = 64 * 1024;
const EVENT_ID = /^[1-9][0-9]{0,17}$/;

/**
 * The transactional outbox: `publish` writes an event in the caller's transaction; `start` runs the
 * dispatcher that delivers it after commit, at least once, to each handler of its type (see
 * outbox.dispatcher.ts for how, and src/db/migrations/0013_outbox.sql for the tables).
 *
 * A handler receives the events published after it was first started anywhere (its subscription is
 * written by `start`), never older ones.
 *
 * `deadLetters` and `retryDead` are what the admin tools use (`OutboxAdmin` in
 * src/modules/admin/outbox.tools.ts, which this class satisfies without the module importing it).
 */
export class Outbox implements DomainEvents {
  readonly #db: Kysely<OutboxTables>;
  readonly #log: FastifyBaseLogger;
  readonly #options: Required<OutboxOptions>;
  readonly #counters: DeliveryCounters = { delivered: 0, failed: 0, deadLettered: 0 };
  #dispatcher: Dispatcher | undefined;

  // biome-ignore lint/suspicious/noExplicitAny: narrowed to the outbox's tables below
  constructor(db: Kysely<any>, log: FastifyBaseLogger, options: OutboxOptions = {}) {
    this.#db = db.withTables<OutboxTables>();
    this.#log = log;
    this.#options = {
      pollIntervalMs: options.pollIntervalMs ?? 1_000,
      maxAttempts: options.maxAttempts ?? 12,
      backoffBaseMs: options.backoffBaseMs ?? 5_000,
      backoffMaxMs: options.backoffMaxMs ?? 3_600_000,
      leaseMs: options.leaseMs ?? 120_000,
      batchSize: options.batchSize ?? 10,
      retentionMs: options.retentionMs ?? 7 * 86_400_000,
      pruneIntervalMs: options.pruneIntervalMs ?? 3_600_000,
      now: options.now ?? (() => new Date()),
      random: options.random ?? Math.random,
      telemetry: options.telemetry ?? NO_OUTBOX_TELEMETRY,
    };
    for (const name of ['pollIntervalMs', 'maxAttempts', 'leaseMs', 'batchSize'] as const) {
      if (!(this.#options[name] >= 1)) throw new RangeError(`Outbox option ${name} must be at least 1`);
    }
  }

  /**
   * Writes the event in `tx`, so it exists exactly when the caller's change commits. Pass the caller's
   * transaction; a plain database handle publishes on its own (committed at once).
   */
  // biome-ignore lint/suspicious/noExplicitAny: works with any module's typed transaction
  async publish(tx: Transaction<any> | Kysely<any>, event: DomainEventInput): Promise<void> {
    assertPublishable(event);
    const db: Kysely<OutboxTables> = tx.withTables<OutboxTables>();
    await insertEvent(db, event, this.#options.now());
    // The row is visible to the dispatcher only once `tx` commits: inside a write call, nudge it after the
    // call's commit; otherwise now, and its quick polls that follow catch the commit.
    afterCallCommit(() => this.#dispatcher?.nudge());
  }

  /**
   * Subscribes these handlers (new ones receive events published from now on) and starts delivering to
   * them. Resolves once the subscriptions are written. Once per Outbox.
   */
  async start(handlers: readonly EventHandler[]): Promise<void> {
    if (this.#dispatcher) throw new Error('The outbox dispatcher is already running');
    assertValidHandlers(handlers);
    await syncSubscriptions(
      this.#db,
      handlers.map((h) => ({ handler: h.name, types: h.types })),
    );
    const o = this.#options;
    this.#dispatcher = new Dispatcher(
      this.#db,
      this.#log,
      {
        pollIntervalMs: o.pollIntervalMs,
        maxAttempts: o.maxAttempts,
        leaseMs: o.leaseMs,
        batchSize: o.batchSize,
        backoff: { baseMs: o.backoffBaseMs, maxMs: o.backoffMaxMs, random: o.random },
        retentionMs: o.retentionMs,
        pruneIntervalMs: o.pruneIntervalMs,
        now: o.now,
      },
      o.telemetry,
      this.#counters,
      handlers,
    );
    this.#dispatcher.start();
  }

  /** Stops the dispatcher, waiting for the handlers in flight and their outcomes. Safe to call twice. */
  async close(): Promise<void> {
    const dispatcher = this.#dispatcher;
    this.#dispatcher = undefined;
    await dispatcher?.close();
  }

  async stats(): Promise<OutboxStats> {
    const { pending, dead } = await countByStatus(this.#db);
    return {
      pending,
      dead,
      delivered_total: this.#counters.delivered,
      failed_total: this.#counters.failed,
      dead_lettered_total: this.#counters.deadLettered,
    };
  }

  async deadLetters(options: { limit: number }): Promise<DeadLetter[]> {
    return listDead(this.#db, Math.max(1, Math.min(1_000, Math.trunc(options.limit))));
  }

  /** Puts a dead delivery back in the queue with its attempts reset; false when there is no such one. */
  async retryDead(eventId: string, handler: string): Promise<boolean> {
    if (!EVENT_ID.test(eventId)) return false;
    const revived = await revive(this.#db, Number(eventId), handler, this.#options.now());
    if (revived) this.#dispatcher?.nudge();
    return revived;
  }

  /** Removes delivered events that occurred before `before` (the dispatcher does this on its own). */
  async prune(before: Date, limit = 1_000): Promise<number> {
    return pruneDelivered(this.#db, before, limit);
  }
}

function assertPublishable(event: DomainEventInput): void {
  if (!EVENT_TYPE.test(event.type)) {
    throw new RangeError(
      `Domain event type "${event.type}" must be <module>.<aggregate>.<past-tense verb> in lower snake ` +
        'case, e.g. ris.order.created',
    );
  }
  if (typeof event.key !== 'string' || event.key.length === 0 || event.key.length > MAX_KEY_LENGTH) {
    throw new RangeError(`Domain event ${event.type}: key must be 1 to ${MAX_KEY_LENGTH} characters`);
  }
  const payload: unknown = event.payload;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new TypeError(`Domain event ${event.type}: payload must be a JSON object`);
  }
  const bytes = Buffer.byteLength(JSON.stringify(payload));
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw new RangeError(
      `Domain event ${event.type}: payload is ${bytes} bytes (at most ${MAX_PAYLOAD_BYTES}); ` +
        'carry identifiers, and let the handler read the rest',
    );
  }
}

function assertValidHandlers(handlers: readonly EventHandler[]): void {
  const seen = new Set<string>();
  for (const handler of handlers) {
    if (!HANDLER_NAME.test(handler.name) || handler.name.length > MAX_HANDLER_NAME_LENGTH) {
      throw new RangeError(
        `Event handler name "${handler.name}" must be <module>.<what_it_does> in lower snake case`,
      );
    }
    if (seen.has(handler.name)) {
      throw new Error(`Two event handlers are named "${handler.name}"; deliveries are recorded by name`);
    }
    seen.add(handler.name);
    for (const type of handler.types) {
      if (!EVENT_TYPE.test(type)) {
        throw new RangeError(`Event handler "${handler.name}" listens to "${type}", not an event type`);
      }
    }
  }
}
