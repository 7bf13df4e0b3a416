/**
 * Bulk loading of RIS demo data (for ris.demo.ts and the benchmark): inserts patients, orders and
 * appointments many rows per statement, leaving existing keys alone, and afterwards moves the id sequences
 * past the explicitly inserted ids.
 */
import { sql } from 'kysely';
import { batches } from '../../db/sql-helpers.js';
import type { NewAppointment } from './ris.appointments.store.js';
import type { NewOrder } from './ris.orders.store.js';
import { type NewPatient, patientRow } from './ris.patients.store.js';
import type { RisDb } from './ris.tables.js';

/** Inserts patients that are not there yet; returns how many were new. */
export async function bulkInsertPatients(db: RisDb, patients: readonly NewPatient[]): Promise<number> {
  let inserted = 0;
  for (const batch of batches(patients)) {
    const result = await db
      .insertInto('ris.patients')
      .values(batch.map(patientRow))
      // Only an existing patient_id is skipped; any other clash (a duplicate SA ID) is an error.
      .onConflict((oc) => oc.column('patient_id').doNothing())
      .executeTakeFirst();
    inserted += Number(result.numInsertedOrUpdatedRows ?? 0);
  }
  return inserted;
}

/** Inserts orders with given accession numbers; returns the accession numbers that were new. */
export async function bulkInsertOrders(
  db: RisDb,
  orders: readonly (NewOrder & { accessionNumber: string })[],
): Promise<Set<string>> {
  const inserted = new Set<string>();
  for (const batch of batches(orders)) {
    const rows = await db
      .insertInto('ris.orders')
      .values(
        batch.map((o) => ({
          accession_number: o.accessionNumber,
          patient_id: o.patientId,
          procedure_code: o.procedureCode,
          modality: o.modality,
          clinical_indication: o.clinicalIndication,
          icd10_codes: sql<string[]>`${o.icd10Codes}::text[]`,
          priority: o.priority,
          referring_physician_id: o.referringPhysicianId,
          created_by: o.createdBy,
          ...(o.createdAt ? { created_at: o.createdAt } : {}),
        })),
      )
      .onConflict((oc) => oc.doNothing())
      .returning('accession_number')
      .execute();
    for (const row of rows) inserted.add(row.accession_number);
  }
  return inserted;
}

/**
 * Inserts appointments (each with its first status-history row) in one transaction per batch. The
 * exclusion constraint still applies: overlapping input fails the batch.
 */
export async function bulkInsertAppointments(
  db: RisDb,
  appointments: readonly NewAppointment[],
  options: { history: boolean } = { history: true },
): Promise<number> {
  let inserted = 0;
  for (const batch of batches(appointments)) {
    await db.transaction().execute(async (trx) => {
      const rows = await trx
        .insertInto('ris.appointments')
        .values(
          batch.map((a) => ({
            accession_number: a.accessionNumber,
            room_id: a.roomId,
            start_at: a.start,
            end_at: a.end,
            status: a.status ?? 'BOOKED',
            created_by: a.actor.subject,
          })),
        )
        .returning(['appointment_id', 'status'])
        .execute();
      inserted += rows.length;
      if (!options.history || rows.length === 0) return;
      const actor = batch[0]!.actor;
      await trx
        .insertInto('ris.status_history')
        .values(
          rows.map((r) => ({
            appointment_id: Number(r.appointment_id),
            from_status: null,
            to_status: r.status,
            changed_by: actor.subject,
            changed_by_role: actor.role,
            note: 'demo data',
          })),
        )
        .execute();
    });
  }
  return inserted;
}

/**
 * Moves the id sequences past every id inserted explicitly (demo data mirroring PACS), so ids issued
 * later never collide with them.
 */
export async function advanceSequences(db: RisDb): Promise<void> {
  await sql`SELECT setval('ris.patient_number_seq', greatest(
    (SELECT last_value FROM ris.patient_number_seq),
    (SELECT max(substr(patient_id, 4)::bigint) FROM ris.patients WHERE patient_id ~ '^UPC[0-9]{6,9}$')))`.execute(
    db,
  );
  await sql`SELECT setval('ris.accession_seq', greatest(
    (SELECT last_value FROM ris.accession_seq),
    (SELECT max(substr(accession_number, 4)::bigint) FROM ris.orders WHERE accession_number ~ '^ACC[0-9]{8,12}$')))`.execute(
    db,
  );
}

/** Which of these accession numbers already have an order. */
export async function existingAccessions(db: RisDb, accessions: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const batch of batches(accessions)) {
    const rows = await db
      .selectFrom('ris.orders')
      .select('accession_number')
      .where('accession_number', 'in', batch)
      .execute();
    for (const row of rows) found.add(row.accession_number);
  }
  return found;
}

/** Appointments holding their room (not cancelled or missed) that overlap [from, to). */
export async function liveAppointmentsBetween(
  db: RisDb,
  from: Date,
  to: Date,
): Promise<{ roomId: number; start: Date; end: Date }[]> {
  const rows = await db
    .selectFrom('ris.appointments')
    .select(['room_id', 'start_at', 'end_at'])
    .where('start_at', '<', to)
    .where('end_at', '>', from)
    .where('status', 'not in', ['CANCELLED', 'NO_SHOW'])
    .execute();
  return rows.map((r) => ({ roomId: r.room_id, start: new Date(r.start_at), end: new Date(r.end_at) }));
}

/** Sex and birth date (YYYY-MM-DD) of these patients, by id; ids without a patient are absent. */
export async function patientFacts(
  db: RisDb,
  patientIds: readonly string[],
): Promise<Map<string, { sex: string; birthDate: string }>> {
  const facts = new Map<string, { sex: string; birthDate: string }>();
  for (const batch of batches(patientIds)) {
    const rows = await db
      .selectFrom('ris.patients')
      .select(['patient_id', 'sex', sql<string>`to_char(birth_date, 'YYYY-MM-DD')`.as('birth_date')])
      .where('patient_id', 'in', batch)
      .execute();
    for (const row of rows) facts.set(row.patient_id, { sex: row.sex, birthDate: row.birth_date });
  }
  return facts;
}
