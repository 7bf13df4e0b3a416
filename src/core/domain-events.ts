import type { FastifyBaseLogger } from 'fastify';
import type { Kysely, Transaction } from 'kysely';

/**
 * Domain events: how one module reacts to another's changes without importing it. An event is written in
 * the same transaction as the change (a transactional outbox), so it exists exactly when the change does,
 * and is delivered at least once to every handler of its type, after commit, surviving `kill -9` and
 * restarts. Handlers must be idempotent (the event id is stable across redeliveries).
 */
export interface DomainEventInput {
  /** `<module>.<aggregate>.<past-tense verb>`, e.g. `ris.order.created`, `reporting.report.signed`. */
  type: string;
  /** The aggregate the event is about (an accession number, a report id); for ordering and search. */
  key: string;
  /** Plain JSON, no PHI beyond identifiers the handler needs (it is stored until delivered and pruned). */
  payload: Readonly<Record<string, unknown>>;
}

export interface DomainEvent extends DomainEventInput {
  /** Stable across redeliveries: handlers use it to do their work once. */
  readonly id: string;
  readonly occurredAt: Date;
}

/** Publishes events in the transaction of the change that caused them. */
export interface DomainEvents {
  // biome-ignore lint/suspicious/noExplicitAny: works with any module's typed transaction
  publish(tx: Transaction<any> | Kysely<any>, event: DomainEventInput): Promise<void>;
}

export interface EventDeliveryContext {
  readonly log: FastifyBaseLogger;
  /** Which attempt this is (1 for the first). */
  readonly attempt: number;
}

/**
 * A module's reaction to one or more event types. It receives the events published after it was first
 * started (never older history), in no guaranteed order, possibly more than once; it should finish well
 * within the outbox's lease (2 minutes by default) or another replica may start it again. Throwing
 * retries it later with backoff; the error's kind and `code` are recorded, never its message.
 */
export interface EventHandler {
  /** Unique and stable (`billing.draft_invoice_on_report_signed`): deliveries are recorded per handler. */
  readonly name: string;
  readonly types: readonly string[];
  handle(event: DomainEvent, context: EventDeliveryContext): Promise<void>;
}

/** One delivery that failed every attempt and waits for an operator. */
export interface DeadLetterView {
  eventId: string;
  type: string;
  key: string;
  handler: string;
  attempts: number;
  lastError: string | null;
  occurredAt: Date;
}

/** The operator's view of the outbox's dead letters (the admin module's tools). */
export interface DeadLetters {
  deadLetters(options: { limit: number }): Promise<readonly DeadLetterView[]>;
  /** False when that event has no dead delivery to that handler. */
  retryDead(eventId: string, handler: string): Promise<boolean>;
}
