/**
 * The appointment aggregate's SQL: reading appointments, the rooms' busy time and booking locks, booking,
 * moving and compare-and-set status changes, each recorded in the status history. The booking flow itself
 * is in ris.booking.ts. Every function takes the database (or transaction) handle first; rows become
 * `Appointment` objects and never leave the module as rows.
 */
import { sql } from 'kysely';
import type { Interval } from './ris.rules.js';
import type { RisDb, RisTrx, StudyStatus } from './ris.tables.js';

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

/** Who made a change, recorded with every status transition. */
export interface Actor {
  subject: string;
  role: string;
}

export function appointmentQuery(db: RisDb) {
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

export function toAppointment(row: AppointmentRow): Appointment {
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
