/**
 * The worklist read model's SQL: a day's appointments joined with their patient, procedure, priority and
 * referring physician, patient scope applied inside the query. It builds on the appointment query of
 * ris.appointments.store.ts; rows become `WorklistEntry` objects and never leave the module as rows.
 */
import { sql } from 'kysely';
import type { PatientScope } from '../../core/scope.js';
import { scoped } from '../../db/sql-helpers.js';
import { type Appointment, appointmentQuery, toAppointment } from './ris.appointments.store.js';
import type { Priority, RisDb, Sex, StudyStatus } from './ris.tables.js';

export interface WorklistEntry extends Appointment {
  priority: Priority;
  patientName: string;
  birthDate: string;
  sex: Sex;
  procedureCode: string;
  studyDescription: string;
  clinicalIndication: string;
  referringPhysician: string;
}

export interface WorklistQuery {
  from: Date;
  to: Date;
  modality?: string;
  room?: string;
  status?: StudyStatus;
  limit: number;
}

/** One day's appointments in time order, then priority (stat first); the start_at index drives it. */
export function worklistQuery(db: RisDb, q: WorklistQuery, scope: PatientScope) {
  // The appointment columns come from appointmentQuery, so one list of them serves both reads.
  let query = appointmentQuery(db)
    .innerJoin('ris.patients as p', 'p.patient_id', 'o.patient_id')
    .innerJoin('ris.procedures as pr', 'pr.procedure_code', 'o.procedure_code')
    .innerJoin('ris.priority_rules as pri', 'pri.priority', 'o.priority')
    .innerJoin('ris.referring_physicians as r', 'r.physician_id', 'o.referring_physician_id')
    .select([
      'o.priority',
      sql<string>`p.family_name || '^' || p.given_names`.as('patient_name'),
      sql<string>`to_char(p.birth_date, 'YYYY-MM-DD')`.as('birth_date'),
      'p.sex',
      'o.procedure_code',
      'pr.description as study_description',
      'o.clinical_indication',
      sql<string>`r.title || ' ' || r.given_names || ' ' || r.family_name`.as('referring_physician'),
    ])
    .where('a.start_at', '>=', q.from)
    .where('a.start_at', '<', q.to)
    .where(scoped('o.patient_id', scope))
    .orderBy('a.start_at')
    .orderBy('pri.rank')
    .orderBy('a.appointment_id')
    .limit(q.limit);
  if (q.modality) query = query.where('o.modality', '=', q.modality);
  if (q.room) query = query.where(sql`upper(rm.room)`, '=', q.room.toUpperCase());
  if (q.status) query = query.where('a.status', '=', q.status);
  return query;
}

export async function worklist(db: RisDb, q: WorklistQuery, scope: PatientScope): Promise<WorklistEntry[]> {
  const rows = await worklistQuery(db, q, scope).execute();
  return rows.map((row) => ({
    ...toAppointment(row),
    priority: row.priority,
    patientName: row.patient_name,
    birthDate: row.birth_date,
    sex: row.sex,
    procedureCode: row.procedure_code,
    studyDescription: row.study_description,
    clinicalIndication: row.clinical_indication,
    referringPhysician: row.referring_physician,
  }));
}

/** A study scanned and waiting for its report (appointment COMPLETED), as the reporting worklist needs it. */
export interface CompletedStudy {
  accessionNumber: string;
  patientId: string;
  patientName: string;
  modality: string;
  studyDescription: string;
  priority: Priority;
  /** When the appointment became COMPLETED (its status history). */
  completedAt: Date;
}

/** COMPLETED studies, stat before urgent before routine, then oldest first; scope in the query. */
export async function completedStudies(
  db: RisDb,
  scope: PatientScope,
  limit: number,
): Promise<CompletedStudy[]> {
  const rows = await db
    .selectFrom('ris.appointments as a')
    .innerJoin('ris.orders as o', 'o.accession_number', 'a.accession_number')
    .innerJoin('ris.patients as p', 'p.patient_id', 'o.patient_id')
    .innerJoin('ris.procedures as pr', 'pr.procedure_code', 'o.procedure_code')
    .innerJoin('ris.priority_rules as pri', 'pri.priority', 'o.priority')
    .select([
      'o.accession_number',
      'o.patient_id',
      sql<string>`p.family_name || '^' || p.given_names`.as('patient_name'),
      'o.modality',
      'pr.description as study_description',
      'o.priority',
      sql<Date>`coalesce((SELECT max(h.changed_at) FROM ris.status_history h
        WHERE h.appointment_id = a.appointment_id AND h.to_status = 'COMPLETED'), a.updated_at)`.as(
        'completed_at',
      ),
    ])
    .where('a.status', '=', 'COMPLETED')
    .where(scoped('o.patient_id', scope))
    .orderBy('pri.rank')
    .orderBy('completed_at')
    .orderBy('a.appointment_id')
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    accessionNumber: row.accession_number,
    patientId: row.patient_id,
    patientName: row.patient_name,
    modality: row.modality,
    studyDescription: row.study_description,
    priority: row.priority,
    completedAt: new Date(row.completed_at),
  }));
}
