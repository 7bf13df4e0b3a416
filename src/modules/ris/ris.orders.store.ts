/**
 * The imaging-order aggregate's SQL: reading orders (with their procedure and referring physician) and
 * creating them, with accession numbers issued from a sequence unless given. Every function takes the
 * database handle first; rows become `Order` objects and never leave the module as rows.
 */
import { sql } from 'kysely';
import { recoverable, sqlState } from '../../db/sql-helpers.js';
import type { Priority, RisDb } from './ris.tables.js';

export interface Order {
  accessionNumber: string;
  patientId: string;
  procedureCode: string;
  procedureDescription: string;
  durationMinutes: number;
  modality: string;
  clinicalIndication: string;
  icd10Codes: string[];
  priority: Priority;
  physicianPracticeNumber: string;
  physicianName: string;
  createdAt: Date;
}

function orderQuery(db: RisDb) {
  return db
    .selectFrom('ris.orders as o')
    .innerJoin('ris.procedures as pr', 'pr.procedure_code', 'o.procedure_code')
    .innerJoin('ris.referring_physicians as r', 'r.physician_id', 'o.referring_physician_id')
    .select([
      'o.accession_number',
      'o.patient_id',
      'o.procedure_code',
      'pr.description as procedure_description',
      'pr.duration_minutes',
      'o.modality',
      'o.clinical_indication',
      'o.icd10_codes',
      'o.priority',
      'r.practice_number',
      sql<string>`r.title || ' ' || r.given_names || ' ' || r.family_name`.as('physician_name'),
      'o.created_at',
    ]);
}

type OrderRow = Awaited<ReturnType<ReturnType<typeof orderQuery>['executeTakeFirstOrThrow']>>;

function toOrder(row: OrderRow): Order {
  return {
    accessionNumber: row.accession_number,
    patientId: row.patient_id,
    procedureCode: row.procedure_code,
    procedureDescription: row.procedure_description,
    durationMinutes: row.duration_minutes,
    modality: row.modality,
    clinicalIndication: row.clinical_indication,
    icd10Codes: row.icd10_codes,
    priority: row.priority,
    physicianPracticeNumber: row.practice_number,
    physicianName: row.physician_name,
    createdAt: new Date(row.created_at),
  };
}

export async function getOrder(db: RisDb, accessionNumber: string): Promise<Order | undefined> {
  const row = await orderQuery(db).where('o.accession_number', '=', accessionNumber).executeTakeFirst();
  return row ? toOrder(row) : undefined;
}

export async function ordersForPatient(db: RisDb, patientId: string): Promise<Order[]> {
  const rows = await orderQuery(db)
    .where('o.patient_id', '=', patientId)
    .orderBy('o.created_at', 'desc')
    .limit(200)
    .execute();
  return rows.map(toOrder);
}

export interface NewOrder {
  /** Omitted: the system issues the next number from `ris.accession_seq`. */
  accessionNumber?: string;
  patientId: string;
  procedureCode: string;
  modality: string;
  clinicalIndication: string;
  icd10Codes: string[];
  priority: Priority;
  referringPhysicianId: number;
  createdBy: string;
  createdAt?: Date;
}

export const ISSUE_ATTEMPTS = 5;

/**
 * Inserts an order and returns its accession number. Issued numbers come from a sequence (unique under
 * any concurrency); a number already taken by imported data (e.g. PACS demo studies) is skipped.
 */
export async function insertOrder(db: RisDb, o: NewOrder): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      const row = await recoverable(db, (tx) =>
        tx
          .insertInto('ris.orders')
          .values({
            accession_number:
              o.accessionNumber ?? sql<string>`'ACC' || lpad(nextval('ris.accession_seq')::text, 8, '0')`,
            patient_id: o.patientId,
            procedure_code: o.procedureCode,
            modality: o.modality,
            clinical_indication: o.clinicalIndication,
            icd10_codes: sql<string[]>`${o.icd10Codes}::text[]`,
            priority: o.priority,
            referring_physician_id: o.referringPhysicianId,
            created_by: o.createdBy,
            ...(o.createdAt ? { created_at: o.createdAt } : {}),
          })
          .returning('accession_number')
          .executeTakeFirstOrThrow(),
      );
      return row.accession_number;
    } catch (error) {
      const retry = !o.accessionNumber && sqlState(error) === '23505' && attempt < ISSUE_ATTEMPTS;
      if (!retry) throw error;
    }
  }
}
