/**
 * The patient aggregate's SQL: searching (patient scope applied inside the query), reading, and
 * registering patients, whose ids come from a sequence unless given. Every function takes the database
 * handle first; rows become `Patient` objects and never leave the module as rows.
 */
import { sql } from 'kysely';
import type { PatientScope } from '../../core/scope.js';
import { constraintOf, escapeLike, recoverable, scoped, sqlState } from '../../db/sql-helpers.js';
import { ISSUE_ATTEMPTS } from './ris.orders.store.js';
import type { RisDb, RisTrx, Sex } from './ris.tables.js';

export interface Patient {
  patientId: string;
  familyName: string;
  givenNames: string;
  birthDate: string;
  sex: Sex;
  phone: string | null;
  email: string | null;
  saIdNumber: string | null;
  medicalAidScheme: string | null;
  medicalAidNumber: string | null;
}

const patientColumns = [
  'p.patient_id',
  'p.family_name',
  'p.given_names',
  sql<string>`to_char(p.birth_date, 'YYYY-MM-DD')`.as('birth_date'),
  'p.sex',
  'p.phone',
  'p.email',
  'p.sa_id_number',
  'p.medical_aid_scheme',
  'p.medical_aid_number',
] as const;

interface PatientRow {
  patient_id: string;
  family_name: string;
  given_names: string;
  birth_date: string;
  sex: Sex;
  phone: string | null;
  email: string | null;
  sa_id_number: string | null;
  medical_aid_scheme: string | null;
  medical_aid_number: string | null;
}

function toPatient(row: PatientRow): Patient {
  return {
    patientId: row.patient_id,
    familyName: row.family_name,
    givenNames: row.given_names,
    birthDate: row.birth_date,
    sex: row.sex,
    phone: row.phone,
    email: row.email,
    saIdNumber: row.sa_id_number,
    medicalAidScheme: row.medical_aid_scheme,
    medicalAidNumber: row.medical_aid_number,
  };
}

export interface PatientSearch {
  patientId?: string;
  familyNamePrefix?: string;
  givenNamePrefix?: string;
  birthDate?: string;
  saIdNumber?: string;
  medicalAidNumber?: string;
  limit: number;
}

export async function searchPatients(
  db: RisDb,
  search: PatientSearch,
  scope: PatientScope,
): Promise<Patient[]> {
  let query = db
    .selectFrom('ris.patients as p')
    .select(patientColumns)
    .where(scoped('p.patient_id', scope))
    .orderBy('p.family_name')
    .orderBy('p.given_names')
    .orderBy('p.patient_id')
    .limit(search.limit);
  if (search.patientId) query = query.where('p.patient_id', '=', search.patientId);
  if (search.familyNamePrefix) {
    query = query.where(
      sql`lower(p.family_name)`,
      'like',
      `${escapeLike(search.familyNamePrefix.toLowerCase())}%`,
    );
  }
  if (search.givenNamePrefix) {
    query = query.where(
      sql`lower(p.given_names)`,
      'like',
      `${escapeLike(search.givenNamePrefix.toLowerCase())}%`,
    );
  }
  if (search.birthDate) query = query.where('p.birth_date', '=', search.birthDate);
  if (search.saIdNumber) query = query.where('p.sa_id_number', '=', search.saIdNumber);
  if (search.medicalAidNumber) query = query.where('p.medical_aid_number', '=', search.medicalAidNumber);
  return (await query.execute()).map(toPatient);
}

export async function getPatient(db: RisDb, patientId: string): Promise<Patient | undefined> {
  const row = await db
    .selectFrom('ris.patients as p')
    .select(patientColumns)
    .where('p.patient_id', '=', patientId)
    .executeTakeFirst();
  return row ? toPatient(row) : undefined;
}

export async function findPatientIdBySaId(db: RisDb, saIdNumber: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('ris.patients')
    .select('patient_id')
    .where('sa_id_number', '=', saIdNumber)
    .executeTakeFirst();
  return row?.patient_id;
}

export interface NewPatient {
  patientId?: string;
  familyName: string;
  givenNames: string;
  birthDate: string;
  sex: Sex;
  phone?: string | undefined;
  email?: string | undefined;
  saIdNumber?: string | undefined;
  medicalAidScheme?: string | undefined;
  medicalAidNumber?: string | undefined;
  createdBy: string;
}

/**
 * Inserts a patient; the id comes from a sequence unless given (demo data mirrors PACS ids). An issued id
 * already taken by imported data is skipped.
 */
export async function insertPatient(db: RisDb, p: NewPatient): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await recoverable(db, (tx) => insertPatientOnce(tx, p));
    } catch (error) {
      const idTaken = sqlState(error) === '23505' && constraintOf(error) === 'patients_pkey';
      if (p.patientId || !idTaken || attempt >= ISSUE_ATTEMPTS) throw error;
    }
  }
}

/** The table row for a new patient; one mapping for single and bulk inserts. */
export function patientRow(p: NewPatient) {
  return {
    ...(p.patientId ? { patient_id: p.patientId } : {}),
    family_name: p.familyName,
    given_names: p.givenNames,
    birth_date: p.birthDate,
    sex: p.sex,
    phone: p.phone ?? null,
    email: p.email ?? null,
    sa_id_number: p.saIdNumber ?? null,
    medical_aid_scheme: p.medicalAidScheme ?? null,
    medical_aid_number: p.medicalAidNumber ?? null,
    created_by: p.createdBy,
  };
}

async function insertPatientOnce(db: RisDb | RisTrx, p: NewPatient): Promise<string> {
  const row = await db
    .insertInto('ris.patients')
    .values(patientRow(p))
    .returning('patient_id')
    .executeTakeFirstOrThrow();
  return row.patient_id;
}
