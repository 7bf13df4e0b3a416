import type { Transaction } from 'kysely';
import type { PatientScope } from '../../src/core/scope.js';
import { scoped } from '../../src/db/sql-helpers.js';
import type { TeachingDb, TeachingTables } from './teaching.tables.js';

/** All the module's SQL: teaching cases and the notices its event handler records. */
export interface TeachingCase {
  caseId: number;
  accessionNumber: string;
  patientId: string;
  note: string;
  addedBy: string;
  addedAt: Date;
}

/** Adds a case; undefined when the study is already in the teaching file (the unique key decides). */
export async function insertCase(
  tx: Transaction<TeachingTables>,
  row: { accessionNumber: string; patientId: string; note: string; addedBy: string },
): Promise<{ caseId: number; addedAt: Date } | undefined> {
  const inserted = await tx
    .insertInto('teaching.cases')
    .values({
      accession_number: row.accessionNumber,
      patient_id: row.patientId,
      note: row.note,
      added_by: row.addedBy,
    })
    .onConflict((conflict) => conflict.column('accession_number').doNothing())
    .returning(['case_id', 'added_at'])
    .executeTakeFirst();
  return inserted && { caseId: inserted.case_id, addedAt: inserted.added_at };
}

/** The caller's cases, newest first; the scope is part of the query, never a filter afterwards. */
export async function listCases(db: TeachingDb, scope: PatientScope, limit: number): Promise<TeachingCase[]> {
  const rows = await db
    .selectFrom('teaching.cases')
    .selectAll()
    .where(scoped('patient_id', scope))
    .orderBy('case_id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    caseId: r.case_id,
    accessionNumber: r.accession_number,
    patientId: r.patient_id,
    note: r.note,
    addedBy: r.added_by,
    addedAt: r.added_at,
  }));
}

/** Records that an event was handled; false when it already was (a redelivery). */
export async function recordNotice(db: TeachingDb, eventId: string, caseId: number): Promise<boolean> {
  const inserted = await db
    .insertInto('teaching.notices')
    .values({ event_id: eventId, case_id: caseId })
    .onConflict((conflict) => conflict.column('event_id').doNothing())
    .returning('event_id')
    .executeTakeFirst();
  return inserted !== undefined;
}
