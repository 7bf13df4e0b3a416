/**
 * Small SQL helpers that know nothing of any one module's tables: a patient-scope predicate for any patient
 * id column, reading the SQLSTATE and constraint name off a database error (pg and PGlite alike), escaping
 * user text for a LIKE pattern, and cutting bulk inserts into batches of many rows per statement.
 */
import { type Kysely, type RawBuilder, sql, type Transaction } from 'kysely';
import type { PatientScope } from '../core/scope.js';

/** Scope inside the query: restricted callers only ever match their own patients' rows. */
export function scoped(column: string, scope: PatientScope): RawBuilder<boolean> {
  if (scope.kind === 'all') return sql<boolean>`true`;
  return sql<boolean>`${sql.ref(column)} = any(${[...scope.patientIds]}::text[])`;
}

/** The SQLSTATE of a database error (pg and PGlite both expose `code`), e.g. 23P01 for an exclusion. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The name of the constraint a database error violated (e.g. a unique index), if it says. */
export function constraintOf(error: unknown): string | undefined {
  const constraint = (error as { constraint?: unknown } | null)?.constraint;
  if (typeof constraint === 'string') return constraint;
  // PGlite does not always fill `constraint`; the name is in the message.
  const match = /constraint "([^"]+)"/.exec((error as Error | null)?.message ?? '');
  return match?.[1];
}

/** Escapes `\`, `%` and `_` so that user text matches itself in a LIKE pattern. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Rows per statement when bulk loading. */
const BATCH = 1000;

/** Splits rows for bulk loading: many rows per statement. */
export function* batches<T>(rows: readonly T[]): Generator<T[]> {
  for (let i = 0; i < rows.length; i += BATCH) yield rows.slice(i, i + BATCH);
}

/**
 * Runs a statement whose failure the caller handles (a unique key taken: try the next number, or say who
 * holds it) in a transaction of its own. Inside a write call's transaction (call-transaction.ts) that is a
 * savepoint, so the failure undoes only this statement and the call's transaction stays usable; a failed
 * plain statement would abort it. (Given a transaction already, the statement runs in it.)
 */
export async function recoverable<DB, T>(
  db: Kysely<DB>,
  statement: (db: Kysely<DB> | Transaction<DB>) => Promise<T>,
): Promise<T> {
  if (db.isTransaction) return statement(db);
  return db.transaction().execute((trx) => statement(trx));
}
