import type { FastifyBaseLogger } from 'fastify';
import type { Kysely, Transaction } from 'kysely';
import { ToolError } from '../core/errors.js';
import type { AuditSink, InvocationRecord } from '../core/pipeline.js';
import { eventHash } from './audit.hash.js';
import { sanitiseForAudit } from './audit.sanitise.js';
import type { AuditEvent, AuditTables } from './audit.tables.js';

type PendingEvent = Omit<AuditEvent, 'id' | 'prev_hash' | 'hash'>;

interface Waiter {
  event: PendingEvent;
  resolve(): void;
  reject(error: Error): void;
}

export interface AuditWriterStats {
  queued: number;
  committedBatches: number;
  committedEvents: number;
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
    lastCommitMs: 0,
    failing: false,
  };

  constructor(
    // biome-ignore lint/suspicious/noExplicitAny: narrowed to the audit tables below
    db: Kysely<any>,
    private readonly log: FastifyBaseLogger,
  ) {
    this.#db = db.withTables<AuditTables>();
  }

  /** False while the store is failing; PHI tools then refuse to run rather than run unaudited. */
  isAvailable(): boolean {
    return Date.now() - this.#failedAt > FAIL_CLOSED_MS;
  }

  record(entry: InvocationRecord): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ event: toEvent(entry), resolve, reject });
      this.stats.queued = this.#queue.length;
      this.#flushing ??= this.#drain();
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
          await this.#db.transaction().execute((trx) =>
            appendBatch(
              trx,
              batch.map((w) => w.event),
            ),
          );
          this.stats.committedBatches += 1;
          this.stats.committedEvents += batch.length;
          this.stats.lastCommitMs = performance.now() - started;
          this.stats.failing = false;
          for (const waiter of batch) waiter.resolve();
        } catch (error) {
          this.#failedAt = Date.now();
          this.stats.failing = true;
          this.log.error({ err: (error as Error).message, events: batch.length }, 'audit commit failed');
          const refusal = new ToolError(
            'UPSTREAM_UNAVAILABLE',
            'The audit log cannot be written right now, so the call was not completed. Try again shortly.',
          );
          for (const waiter of batch) waiter.reject(refusal);
        }
      }
    } finally {
      this.#flushing = undefined;
    }
  }
}

/** Appends events after the chain head, which is locked so concurrent writers (replicas) take turns. */
async function appendBatch(trx: Transaction<AuditTables>, events: PendingEvent[]): Promise<void> {
  const head = await trx
    .selectFrom('audit.chain_head')
    .select(['last_id', 'last_hash'])
    .forUpdate()
    .executeTakeFirstOrThrow();
  let id = Number(head.last_id);
  let prev = head.last_hash;
  const rows = events.map((event) => {
    id += 1;
    const chained = { ...event, id, prev_hash: prev };
    const hash = eventHash(chained);
    prev = hash;
    return { ...chained, parameters: JSON.stringify(event.parameters ?? null), hash };
  });
  await trx.insertInto('audit.events').values(rows).execute();
  await trx.updateTable('audit.chain_head').set({ last_id: id, last_hash: prev }).execute();
}

function toEvent(entry: InvocationRecord): PendingEvent {
  const request = entry.request;
  return {
    occurred_at: new Date(Date.now() - entry.durationMs).toISOString(),
    actor_subject: entry.principal?.subject ?? null,
    actor_role: entry.principal?.role ?? null,
    door: request.door,
    client: request.client?.slice(0, 200) ?? null,
    ip: request.ip ?? null,
    tool: request.tool.slice(0, 128),
    parameters: sanitiseForAudit(entry.parameters ?? request.parameters),
    outcome: entry.outcome,
    error_code: entry.errorCode ?? null,
    patient_ids: entry.patientIds ?? [],
    phi_accessed: entry.outcome === 'success' && (entry.tool?.phi ?? false),
    request_id: request.requestId,
    latency_ms: Math.round(entry.durationMs * 1000) / 1000,
  };
}
