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

/** A module's reaction to one or more event types. */
export interface EventHandler {
  /** Unique and stable (`billing.draft_invoice_on_report_signed`): deliveries are recorded per handler. */
  readonly name: string;
  readonly types: readonly string[];
  handle(event: DomainEvent, context: EventDeliveryContext): Promise<void>;
}
