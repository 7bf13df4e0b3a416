import type { FastifyBaseLogger } from 'fastify';
import { type Kysely, sql, type Transaction } from 'kysely';
import { ToolError } from '../core/errors.js';
import type { AuditSink, InvocationRecord, SealableEvent } from '../core/pipeline.js';
import { storable } from '../core/text.js';
import { outsideCallTransaction } from '../db/call-transaction.js';
import { writeCheckpoint } from './audit.checkpoint.js';
import { eventHash } from './audit.hash.js';
import { sanitiseForAudit } from './audit.sanitise.js';
import type { AuditEvent, AuditTables } from './audit.tables.js';

type PendingEvent = Omit<AuditEvent, 'id' | 'prev_hash' | 'hash'>;

interface Waiter {
  event: PendingEvent;
  /** The intent this event was committed as (with a write call's changes), removed as it is appended. */
  intentId?: number;
  resolve(): void;
  reject(error: Error): void;
}

export interface AuditWriterStats {
  queued: number;
  committedBatches: number;
  committedEvents: number;
  /** Events the store refused (each one's caller was told); an alert when it grows. */
  refusedEvents: number;
  lastCommitMs: number;
  failing: boolean;
}

const MAX_BATCH = 500;
/** After a failed commit, PHI tools fail closed for this long before the store is tried again. */
const FAIL_CLOSED_MS = 2_000;

/**
 * Writes audit events durably before the caller's response is sent. Group commit: while one batch is
 * being committed, events from concurrent calls queue up and go together in the next transaction, so
 * the cost per call stays low under load without ever acknowledging an uncommitted event.
 */
export class AuditWriter implements AuditSink {
  readonly #db: Kysely<AuditTables>;
  #queue: Waiter[] = [];
  #flushing: Promise<void> | undefined;
  #failedAt = 0;
  readonly stats: AuditWriterStats = {
    queued: 0,
    committedBatches: 0,
    committedEvents: 0,
    refusedEvents: 0,
    lastCommitMs: 0,
    failing: false,
  };

  readonly #intents: Kysely<AuditTables> | undefined;

  constructor(
    // biome-ignore lint/suspicious/noExplicitAny: narrowed to the audit tables below
    db: Kysely<any>,
    private readonly log: FastifyBaseLogger,
    private readonly options: {
      /** The audit key (audit.key.ts): keys identifier hashes in parameters and signs checkpoints. */
      key?: Buffer;
      /** Signed checkpoints of the chain, outside the database (audit.checkpoint.ts); needs `key`. */
      checkpoints?: { file: string; everyMs: number };
      /**
       * The application's database, whose queries join a write call's transaction: intents written
       * through it commit with the call's changes (see `intend`).
       */
      // biome-ignore lint/suspicious/noExplicitAny: narrowed to the audit tables below
      intents?: Kysely<any>;
    } = {},
  ) {
    this.#db = db.withTables<AuditTables>();
    this.#intents = options.intents?.withTables<AuditTables>();
  }

  /**
   * Writes a write call's event as an intent, inside the call's transaction: it commits with the call's
   * changes or not at all. `seal()` after commit appends it to the chain (and removes the intent in the
   * same transaction); after a crash, `sealOrphans` does.
   */
  async intend(entry: InvocationRecord): Promise<SealableEvent> {
    if (!this.#intents) throw new Error('audit intents need the application database (option `intents`)');
    const event = toEvent(entry, this.options.key);
    const row = await this.#intents
      .insertInto('audit.intents')
      .values({ event: JSON.stringify(event) })
      .returning('id')
      .executeTakeFirstOrThrow();
    const intentId = Number(row.id);
    return { seal: () => this.#enqueue(event, intentId) };
  }

  /**
   * Appends intents left by a process that died between a write's commit and its seal (or by a replica
   * that is slow to seal), oldest first. Another writer sealing the same intent at the same time is
   * harmless: the intent is deleted in the appending transaction, and only the writer that deleted it
   * appends it.
   */
  async sealOrphans(olderThanMs: number): Promise<number> {
    let sealed = 0;
    for (;;) {
      const rows = await this.#db
        .selectFrom('audit.intents')
        .select(['id', 'event'])
        .where(
          'created_at',
          '<',
          sql<Date>`now() - ${`${Math.max(0, Math.round(olderThanMs))} milliseconds`}::interval`,
        )
        .orderBy('id')
        .limit(MAX_BATCH)
        .execute();
      if (rows.length === 0) return sealed;
      await Promise.all(rows.map((row) => this.#enqueue(row.event as PendingEvent, Number(row.id))));
      sealed += rows.length;
      if (rows.length < MAX_BATCH) return sealed;
    }
  }

  /** Seals orphaned intents now and then, until `close` (a replica's crash is cleaned up by the others). */
  startSealingOrphans(everyMs: number): void {
    const sweep = () =>
      this.sealOrphans(everyMs).catch((error) =>
        this.log.warn({ err: (error as Error).message }, 'sealing orphaned audit intents failed; will retry'),
      );
    this.#sweeper = outsideCallTransaction(() => setInterval(sweep, everyMs));
    this.#sweeper.unref();
  }

  #sweeper: NodeJS.Timeout | undefined;

  /** False while the store is failing; PHI tools then refuse to run rather than run unaudited. */
  isAvailable(): boolean {
    return Date.now() - this.#failedAt > FAIL_CLOSED_MS;
  }

  record(entry: InvocationRecord): Promise<void> {
    return this.#enqueue(toEvent(entry, this.options.key));
  }

  #enqueue(event: PendingEvent, intentId?: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push(
        intentId === undefined ? { event, resolve, reject } : { event, intentId, resolve, reject },
      );
      this.stats.queued = this.#queue.length;
      // Never inside a caller's transaction (call-transaction.ts): the writer uses its own connections.
      this.#flushing ??= outsideCallTransaction(() => this.#drain());
    });
  }

  /** Resolves when everything queued so far is committed (used at shutdown). */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, MAX_BATCH);
        this.stats.queued = this.#queue.length;
        const started = performance.now();
        try {
          await this.#commit(batch);
          this.stats.lastCommitMs = performance.now() - started;
          for (const waiter of batch) waiter.resolve();
        } catch (error) {
          // One event the store refuses must not fail the other callers' events: commit them one by one,
          // and fail only the ones that still cannot be written.
          const failed = batch.length > 1 ? await this.#commitEach(batch) : [{ waiter: batch[0]!, error }];
          if (failed.length < batch.length) this.stats.lastCommitMs = performance.now() - started;
          this.#refuse(failed, batch.length);
        }
      }
    } finally {
      this.#flushing = undefined;
    }
  }

  async #commit(batch: readonly Waiter[]): Promise<void> {
    const appended = await this.#db.transaction().execute(async (trx) => {
      const live = await withoutSealedIntents(trx, batch);
      if (live.length > 0)
        await appendBatch(
          trx,
          live.map((w) => w.event),
        );
      return live.length;
    });
    this.stats.committedBatches += 1;
    this.stats.committedEvents += appended;
    this.stats.failing = false;
    this.#checkpointWhenDue();
  }

  #lastCheckpointAt = 0;
  #checkpointing: Promise<void> | undefined;

  /** A signed checkpoint once the interval has passed (never blocking a call: it runs on its own). */
  #checkpointWhenDue(): void {
    const settings = this.options.checkpoints;
    if (!settings || this.#checkpointing) return;
    if (Date.now() - this.#lastCheckpointAt < settings.everyMs) return;
    this.#lastCheckpointAt = Date.now();
    this.#checkpointing = this.checkpoint('periodic').finally(() => {
      this.#checkpointing = undefined;
    });
  }

  /** Writes a signed checkpoint of the chain to the log stream and the checkpoint file. */
  async checkpoint(reason: 'periodic' | 'shutdown'): Promise<void> {
    const { checkpoints: settings, key } = this.options;
    if (!settings || !key) return;
    try {
      const signed = await writeCheckpoint(this.#db, key, settings.file, reason);
      this.log.info({ audit_checkpoint: signed }, 'audit checkpoint');
    } catch (error) {
      this.log.error({ err: (error as Error).message }, 'audit checkpoint failed');
    }
  }

  /** At shutdown: everything queued committed, then a last checkpoint. */
  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    await this.flush();
    await this.#checkpointing;
    if (this.stats.committedEvents > 0) await this.checkpoint('shutdown');
  }

  /** Commits each event alone; resolves those that commit and returns the ones that did not. */
  async #commitEach(batch: readonly Waiter[]): Promise<{ waiter: Waiter; error: unknown }[]> {
    const failed: { waiter: Waiter; error: unknown }[] = [];
    for (const waiter of batch) {
      try {
        await this.#commit([waiter]);
        waiter.resolve();
      } catch (error) {
        failed.push({ waiter, error });
      }
    }
    return failed;
  }

  /**
   * Answers the callers whose events could not be written. When every event failed the store is down:
   * PHI tools fail closed for a moment. When only some did, those events are the problem (an alert in the
   * log), and only their callers hear about it.
   */
  #refuse(failed: readonly { waiter: Waiter; error: unknown }[], batchSize: number): void {
    if (failed.length === 0) return;
    const outage = failed.length === batchSize;
    if (outage) {
      this.#failedAt = Date.now();
      this.stats.failing = true;
    }
    this.stats.refusedEvents += failed.length;
    for (const { waiter, error } of failed) {
      this.log.error(
        {
          err: (error as Error).message,
          request_id: waiter.event.request_id,
          tool: waiter.event.tool,
          outage,
        },
        outage ? 'audit commit failed' : 'audit event refused by the store',
      );
      waiter.reject(
        outage
          ? new ToolError(
              'UPSTREAM_UNAVAILABLE',
              'The audit log cannot be written right now, so the call was not completed. Try again shortly.',
            )
          : new ToolError(
              'INTERNAL',
              'This call could not be recorded in the audit log, so its result is withheld. The problem has ' +
                'been logged with the request id.',
            ),
      );
    }
  }
}

/**
 * The batch less the events whose intents another writer has already appended (their intent rows are
 * gone). Deleting the intents here, in the appending transaction, is what makes each one appended once.
 */
async function withoutSealedIntents(
  trx: Transaction<AuditTables>,
  batch: readonly Waiter[],
): Promise<Waiter[]> {
  const ids = batch.flatMap((w) => (w.intentId === undefined ? [] : [w.intentId]));
  if (ids.length === 0) return [...batch];
  const removed = await trx.deleteFrom('audit.intents').where('id', 'in', ids).returning('id').execute();
  const mine = new Set(removed.map((row) => Number(row.id)));
  return batch.filter((w) => w.intentId === undefined || mine.has(w.intentId));
}

/**
 * Appends events after the chain head. The head is locked (so concurrent writers, e.g. replicas, take
 * turns) and the rows go in through audit.append, which accepts only events that continue the chain: the
 * application's database role has no UPDATE or DELETE on the log (migration 0012).
 */
async function appendBatch(trx: Transaction<AuditTables>, events: PendingEvent[]): Promise<ChainHead> {
  const head = await sql<{ last_id: string | number; last_hash: string }>`
    SELECT last_id, last_hash FROM audit.head_for_append()`.execute(trx);
  const locked = head.rows[0];
  if (!locked) throw new Error('audit.head_for_append returned no chain head');
  let id = Number(locked.last_id);
  let prev = locked.last_hash;
  const rows = events.map((event) => {
    id += 1;
    const chained = { ...event, id, prev_hash: prev };
    const hash = eventHash(chained);
    prev = hash;
    return { ...chained, hash };
  });
  await sql`SELECT audit.append(${JSON.stringify(rows)}::jsonb)`.execute(trx);
  return { lastId: id, lastHash: prev };
}

export interface ChainHead {
  lastId: number;
  lastHash: string;
}

function toEvent(entry: InvocationRecord, identifierKey: Buffer | undefined): PendingEvent {
  const request = entry.request;
  // Every string as PostgreSQL will store it, so the hash taken here is the hash of the stored row.
  const text = (value: string | undefined, max: number) =>
    value === undefined ? null : storable(value.slice(0, max));
  return {
    occurred_at: new Date(Date.now() - entry.durationMs).toISOString(),
    actor_subject: text(entry.principal?.subject, 200),
    actor_role: entry.principal?.role ?? null,
    door: request.door,
    client: text(request.client, 200),
    ip: text(request.ip, 64),
    tool: storable(request.tool.slice(0, 128)),
    parameters: sanitiseForAudit(entry.parameters ?? request.parameters, { identifierKey }),
    outcome: entry.outcome,
    error_code: entry.errorCode ?? null,
    patient_ids: (entry.patientIds ?? []).slice(0, 1000).map((id) => storable(id.slice(0, 64))),
    phi_accessed: entry.outcome === 'success' && (entry.tool?.phi ?? false),
    request_id: storable(request.requestId.slice(0, 128)),
    latency_ms: Math.round(entry.durationMs * 1000) / 1000,
  };
}
