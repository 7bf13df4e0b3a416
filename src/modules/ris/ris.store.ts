/**
 * All of the RIS's SQL. Every function takes the database (or transaction) handle first; rows become the
 * domain objects below here and never leave the module as rows. Patient scope is applied inside queries.
 */
import { type RawBuilder, sql } from 'kysely';
import type { PatientScope } from '../../core/scope.js';
import { hoursFromRows, type Interval, type RoomSchedule } from './ris.rules.js';
import type { Priority, RisDb, RisTrx, Sex, StudyStatus } from './ris.tables.js';

// ---------------------------------------------------------------------------------------------------------
// Domain objects
// ---------------------------------------------------------------------------------------------------------

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

export interface Physician {
  physicianId: number;
  practiceNumber: string;
  hpcsaNumber: string;
  title: string;
  familyName: string;
  givenNames: string;
  phone: string | null;
  email: string | null;
  userSubject: string | null;
}

export interface Procedure {
  procedureCode: string;
  description: string;
  modality: string;
  durationMinutes: number;
}

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

export interface Appointment {
  appointmentId: number;
  accessionNumber: string;
  patientId: string;
  roomId: number;
  room: string;
  modality: string;
  start: Date;
  end: Date;
  status: StudyStatus;
}

export interface StatusChange {
  fromStatus: StudyStatus | null;
  toStatus: StudyStatus;
  changedBy: string;
  changedByRole: string;
  changedAt: Date;
  note: string | null;
}

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

export interface PriorityRule {
  priority: Priority;
  rank: number;
  horizonDays: number;
  sameDayOnly: boolean;
}

/** Who made a change, recorded with every status transition. */
export interface Actor {
  subject: string;
  role: string;
}

/** Scope inside the query: restricted callers only ever match their own patients' rows. */
function scoped(column: string, scope: PatientScope): RawBuilder<boolean> {
  if (scope.kind === 'all') return sql<boolean>`true`;
  return sql<boolean>`${sql.ref(column)} = any(${[...scope.patientIds]}::text[])`;
}

/** The SQLSTATE of a database error (pg and PGlite both expose `code`), e.g. 23P01 for an exclusion. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function constraintOf(error: unknown): string | undefined {
  const constraint = (error as { constraint?: unknown } | null)?.constraint;
  if (typeof constraint === 'string') return constraint;
  // PGlite does not always fill `constraint`; the name is in the message.
  const match = /constraint "([^"]+)"/.exec((error as Error | null)?.message ?? '');
  return match?.[1];
}

// ---------------------------------------------------------------------------------------------------------
// Settings and reference data
// ---------------------------------------------------------------------------------------------------------

export async function getSetting(db: RisDb, key: string): Promise<string | undefined> {
  const row = await db.selectFrom('ris.settings').select('value').where('key', '=', key).executeTakeFirst();
  return row?.value;
}

export async function getProcedure(db: RisDb, code: string): Promise<Procedure | undefined> {
  const row = await db
    .selectFrom('ris.procedures')
    .selectAll()
    .where('procedure_code', '=', code)
    .where('active', '=', true)
    .executeTakeFirst();
  return row
    ? {
        procedureCode: row.procedure_code,
        description: row.description,
        modality: row.modality,
        durationMinutes: row.duration_minutes,
      }
    : undefined;
}

export async function getPriorityRule(db: RisDb, priority: Priority): Promise<PriorityRule> {
  const row = await db
    .selectFrom('ris.priority_rules')
    .selectAll()
    .where('priority', '=', priority)
    .executeTakeFirstOrThrow();
  return {
    priority: row.priority,
    rank: row.rank,
    horizonDays: row.horizon_days,
    sameDayOnly: row.same_day_only,
  };
}

/** Active rooms of a modality (optionally one room by name) with their opening hours, in name order. */
export async function roomsFor(db: RisDb, modality: string, room?: string): Promise<RoomSchedule[]> {
  let query = db
    .selectFrom('ris.rooms')
    .select(['room_id', 'room', 'grid_minutes'])
    .where('modality', '=', modality)
    .where('active', '=', true)
    .orderBy('room');
  if (room) query = query.where(sql`upper(room)`, '=', room.toUpperCase());
  const rooms = await query.execute();
  if (rooms.length === 0) return [];
  const hours = await db
    .selectFrom('ris.room_hours')
    .select([
      'room_id',
      'iso_weekday',
      sql<string>`to_char(opens_at, 'HH24:MI')`.as('opens_at'),
      // to_char renders 24:00 as 00:00; keep it as the end of the day.
      sql<string>`CASE WHEN closes_at = '24:00' THEN '24:00' ELSE to_char(closes_at, 'HH24:MI') END`.as(
        'closes_at',
      ),
    ])
    .where(
      'room_id',
      'in',
      rooms.map((r) => r.room_id),
    )
    .execute();
  return rooms.map((r) => ({
    roomId: r.room_id,
    room: r.room,
    gridMinutes: r.grid_minutes,
    hours: hoursFromRows(hours.filter((h) => h.room_id === r.room_id)),
  }));
}

export async function roomExists(
  db: RisDb,
  room: string,
): Promise<{ room: string; modality: string } | undefined> {
  return db
    .selectFrom('ris.rooms')
    .select(['room', 'modality'])
    .where(sql`upper(room)`, '=', room.toUpperCase())
    .executeTakeFirst();
}

// ---------------------------------------------------------------------------------------------------------
// Patients
// ---------------------------------------------------------------------------------------------------------

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
      return await insertPatientOnce(db, p);
    } catch (error) {
      const idTaken = sqlState(error) === '23505' && constraintOf(error) === 'patients_pkey';
      if (p.patientId || !idTaken || attempt >= ISSUE_ATTEMPTS) throw error;
    }
  }
}

/** The table row for a new patient; one mapping for single and bulk inserts. */
function patientRow(p: NewPatient) {
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

async function insertPatientOnce(db: RisDb, p: NewPatient): Promise<string> {
  const row = await db
    .insertInto('ris.patients')
    .values(patientRow(p))
    .returning('patient_id')
    .executeTakeFirstOrThrow();
  return row.patient_id;
}

// ---------------------------------------------------------------------------------------------------------
// Referring physicians
// ---------------------------------------------------------------------------------------------------------

export async function getPhysician(
  db: RisDb,
  by: { practiceNumber: string } | { hpcsaNumber: string },
): Promise<Physician | undefined> {
  const query = db.selectFrom('ris.referring_physicians').selectAll();
  const row = await ('practiceNumber' in by
    ? query.where('practice_number', '=', by.practiceNumber)
    : query.where('hpcsa_number', '=', by.hpcsaNumber)
  ).executeTakeFirst();
  return row
    ? {
        physicianId: row.physician_id,
        practiceNumber: row.practice_number,
        hpcsaNumber: row.hpcsa_number,
        title: row.title,
        familyName: row.family_name,
        givenNames: row.given_names,
        phone: row.phone,
        email: row.email,
        userSubject: row.user_subject,
      }
    : undefined;
}

export interface NewPhysician {
  practiceNumber: string;
  hpcsaNumber: string;
  title?: string;
  familyName: string;
  givenNames: string;
  phone?: string | null;
  email?: string | null;
  userSubject?: string | null;
}

/** Inserts (or, for demo re-runs, keeps) a physician; returns its id. */
export async function upsertPhysician(db: RisDb, p: NewPhysician): Promise<number> {
  const row = await db
    .insertInto('ris.referring_physicians')
    .values({
      practice_number: p.practiceNumber,
      hpcsa_number: p.hpcsaNumber,
      ...(p.title ? { title: p.title } : {}),
      family_name: p.familyName,
      given_names: p.givenNames,
      phone: p.phone ?? null,
      email: p.email ?? null,
      user_subject: p.userSubject ?? null,
    })
    .onConflict((oc) =>
      oc.column('practice_number').doUpdateSet((eb) => ({ family_name: eb.ref('excluded.family_name') })),
    )
    .returning('physician_id')
    .executeTakeFirstOrThrow();
  return row.physician_id;
}

/** The patients a referring physician's login may see: those on orders they referred. */
export async function patientsReferredBy(db: RisDb, subject: string): Promise<string[]> {
  const rows = await db
    .selectFrom('ris.orders as o')
    .innerJoin('ris.referring_physicians as r', 'r.physician_id', 'o.referring_physician_id')
    .select('o.patient_id')
    .distinct()
    .where('r.user_subject', '=', subject)
    .execute();
  return rows.map((r) => r.patient_id);
}

// ---------------------------------------------------------------------------------------------------------
// Orders
// ---------------------------------------------------------------------------------------------------------

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

const ISSUE_ATTEMPTS = 5;

/**
 * Inserts an order and returns its accession number. Issued numbers come from a sequence (unique under
 * any concurrency); a number already taken by imported data (e.g. PACS demo studies) is skipped.
 */
export async function insertOrder(db: RisDb, o: NewOrder): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      const row = await db
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
        .executeTakeFirstOrThrow();
      return row.accession_number;
    } catch (error) {
      const retry = !o.accessionNumber && sqlState(error) === '23505' && attempt < ISSUE_ATTEMPTS;
      if (!retry) throw error;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Appointments
// ---------------------------------------------------------------------------------------------------------

function appointmentQuery(db: RisDb) {
  return db
    .selectFrom('ris.appointments as a')
    .innerJoin('ris.orders as o', 'o.accession_number', 'a.accession_number')
    .innerJoin('ris.rooms as rm', 'rm.room_id', 'a.room_id')
    .select([
      'a.appointment_id',
      'a.accession_number',
      'o.patient_id',
      'a.room_id',
      'rm.room',
      'o.modality',
      'a.start_at',
      'a.end_at',
      'a.status',
    ]);
}

type AppointmentRow = Awaited<ReturnType<ReturnType<typeof appointmentQuery>['executeTakeFirstOrThrow']>>;

function toAppointment(row: AppointmentRow): Appointment {
  return {
    appointmentId: Number(row.appointment_id),
    accessionNumber: row.accession_number,
    patientId: row.patient_id,
    roomId: row.room_id,
    room: row.room,
    modality: row.modality,
    start: new Date(row.start_at),
    end: new Date(row.end_at),
    status: row.status,
  };
}

export async function getAppointment(db: RisDb, appointmentId: number): Promise<Appointment | undefined> {
  const row = await appointmentQuery(db).where('a.appointment_id', '=', appointmentId).executeTakeFirst();
  return row ? toAppointment(row) : undefined;
}

/** The order's current appointment: the live one, else the most recent. */
export async function latestAppointmentFor(
  db: RisDb,
  accessionNumber: string,
): Promise<Appointment | undefined> {
  const row = await appointmentQuery(db)
    .where('a.accession_number', '=', accessionNumber)
    .orderBy(sql`a.status IN ('CANCELLED', 'NO_SHOW')`)
    .orderBy('a.appointment_id', 'desc')
    .executeTakeFirst();
  return row ? toAppointment(row) : undefined;
}

export async function appointmentsForPatient(db: RisDb, patientId: string): Promise<Appointment[]> {
  const rows = await appointmentQuery(db)
    .where('o.patient_id', '=', patientId)
    .orderBy('a.start_at', 'desc')
    .limit(200)
    .execute();
  return rows.map(toAppointment);
}

/** Time held in these rooms overlapping [from, to), optionally ignoring one appointment (being moved). */
export async function busyIntervals(
  db: RisDb | RisTrx,
  roomIds: number[],
  from: Date,
  to: Date,
  ignoreAppointmentId?: number,
): Promise<Map<number, Interval[]>> {
  const busy = new Map<number, Interval[]>();
  if (roomIds.length === 0) return busy;
  let query = db
    .selectFrom('ris.appointments')
    .select(['room_id', 'start_at', 'end_at'])
    .where('room_id', 'in', roomIds)
    .where('status', 'not in', ['CANCELLED', 'NO_SHOW'])
    .where('start_at', '<', to)
    .where('end_at', '>', from);
  if (ignoreAppointmentId !== undefined) query = query.where('appointment_id', '!=', ignoreAppointmentId);
  for (const row of await query.execute()) {
    const list = busy.get(row.room_id) ?? [];
    list.push({ start: new Date(row.start_at), end: new Date(row.end_at) });
    busy.set(row.room_id, list);
  }
  return busy;
}

/** Advisory-lock namespace of room bookings ("RISB"); the second key is the room id. */
const BOOKING_LOCK_NAMESPACE = 0x52495342;

/**
 * Takes the booking lock of each room until the transaction ends, in room-id order so two bookings
 * that share rooms cannot deadlock. Bookings for the same rooms then read the schedule and write their
 * slot one after another, instead of racing and retrying.
 */
export async function lockRoomsForBooking(trx: RisTrx, roomIds: readonly number[]): Promise<void> {
  for (const roomId of [...new Set(roomIds)].sort((a, b) => a - b)) {
    await sql`SELECT pg_advisory_xact_lock(${sql.lit(BOOKING_LOCK_NAMESPACE)}, ${roomId}::int)`.execute(trx);
  }
}

export interface NewAppointment {
  accessionNumber: string;
  roomId: number;
  start: Date;
  end: Date;
  status?: StudyStatus;
  actor: Actor;
  note?: string;
}

/**
 * Books a slot. The exclusion constraint refuses an overlap (SQLSTATE 23P01) and the partial unique index
 * a second live appointment for one order (23505); callers turn those into next-free or CONFLICT answers.
 */
export async function insertAppointment(trx: RisTrx, a: NewAppointment): Promise<number> {
  const row = await trx
    .insertInto('ris.appointments')
    .values({
      accession_number: a.accessionNumber,
      room_id: a.roomId,
      start_at: a.start,
      end_at: a.end,
      status: a.status ?? 'BOOKED',
      created_by: a.actor.subject,
    })
    .returning('appointment_id')
    .executeTakeFirstOrThrow();
  const appointmentId = Number(row.appointment_id);
  await insertStatusChange(trx, appointmentId, null, a.status ?? 'BOOKED', a.actor, a.note ?? null);
  return appointmentId;
}

/** Moves a BOOKED appointment; returns false when it is no longer BOOKED (changed concurrently). */
export async function moveAppointment(
  trx: RisTrx,
  appointmentId: number,
  slot: { roomId: number; start: Date; end: Date },
  actor: Actor,
  note: string,
): Promise<boolean> {
  const result = await trx
    .updateTable('ris.appointments')
    .set({ room_id: slot.roomId, start_at: slot.start, end_at: slot.end, updated_at: sql`now()` })
    .where('appointment_id', '=', appointmentId)
    .where('status', '=', 'BOOKED')
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) return false;
  await insertStatusChange(trx, appointmentId, 'BOOKED', 'BOOKED', actor, note);
  return true;
}

/**
 * Changes status only if it still is `from` (compare-and-set), so two people changing one appointment at
 * once cannot both succeed; returns false when the row had already moved on.
 */
export async function transitionAppointment(
  trx: RisTrx,
  appointmentId: number,
  from: StudyStatus,
  to: StudyStatus,
  actor: Actor,
  note: string | null,
): Promise<Date | undefined> {
  const result = await trx
    .updateTable('ris.appointments')
    .set({ status: to, updated_at: sql`now()` })
    .where('appointment_id', '=', appointmentId)
    .where('status', '=', from)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) return undefined;
  return insertStatusChange(trx, appointmentId, from, to, actor, note);
}

async function insertStatusChange(
  trx: RisTrx,
  appointmentId: number,
  from: StudyStatus | null,
  to: StudyStatus,
  actor: Actor,
  note: string | null,
): Promise<Date> {
  const row = await trx
    .insertInto('ris.status_history')
    .values({
      appointment_id: appointmentId,
      from_status: from,
      to_status: to,
      changed_by: actor.subject,
      changed_by_role: actor.role,
      note,
    })
    .returning('changed_at')
    .executeTakeFirstOrThrow();
  return new Date(row.changed_at);
}

export async function statusHistory(db: RisDb, appointmentId: number): Promise<StatusChange[]> {
  const rows = await db
    .selectFrom('ris.status_history')
    .selectAll()
    .where('appointment_id', '=', appointmentId)
    .orderBy('history_id')
    .execute();
  return rows.map((r) => ({
    fromStatus: r.from_status,
    toStatus: r.to_status,
    changedBy: r.changed_by,
    changedByRole: r.changed_by_role,
    changedAt: new Date(r.changed_at),
    note: r.note,
  }));
}

// ---------------------------------------------------------------------------------------------------------
// Worklist
// ---------------------------------------------------------------------------------------------------------

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

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

// ---------------------------------------------------------------------------------------------------------
// Bulk loading (demo data and the benchmark): many rows per statement, existing keys left alone.
// ---------------------------------------------------------------------------------------------------------

const BATCH = 1000;

function* batches<T>(rows: readonly T[]): Generator<T[]> {
  for (let i = 0; i < rows.length; i += BATCH) yield rows.slice(i, i + BATCH);
}

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

/** Procedures by modality, for generators that need a plausible procedure per study. */
export async function listProcedures(db: RisDb): Promise<Procedure[]> {
  const rows = await db
    .selectFrom('ris.procedures')
    .selectAll()
    .where('active', '=', true)
    .orderBy('procedure_code')
    .execute();
  return rows.map((r) => ({
    procedureCode: r.procedure_code,
    description: r.description,
    modality: r.modality,
    durationMinutes: r.duration_minutes,
  }));
}

/** ISO weekdays (1 = Monday) on which some active room (of a modality, or one room) has opening hours. */
export async function openWeekdays(
  db: RisDb,
  filter: { modality?: string; room?: string },
): Promise<Set<number>> {
  let query = db
    .selectFrom('ris.room_hours as h')
    .innerJoin('ris.rooms as r', 'r.room_id', 'h.room_id')
    .select('h.iso_weekday')
    .distinct()
    .where('r.active', '=', true);
  if (filter.modality) query = query.where('r.modality', '=', filter.modality);
  if (filter.room) query = query.where(sql`upper(r.room)`, '=', filter.room.toUpperCase());
  const rows = await query.execute();
  return new Set(rows.map((r) => r.iso_weekday));
}

/** Every active room with its hours (all modalities), in name order. */
export async function listRooms(db: RisDb): Promise<(RoomSchedule & { modality: string })[]> {
  const rooms = await db
    .selectFrom('ris.rooms')
    .select(['modality'])
    .distinct()
    .where('active', '=', true)
    .execute();
  const all: (RoomSchedule & { modality: string })[] = [];
  for (const { modality } of rooms) {
    for (const room of await roomsFor(db, modality)) all.push({ ...room, modality });
  }
  return all.sort((a, b) => a.room.localeCompare(b.room));
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
