/**
 * The practice calendar's SQL: closures (of the practice or one room) and rooms open on public holidays
 * (migration 0016), and the live appointments a new closure would strand. Every function takes the
 * database handle first; rows become the domain objects of ris.calendar.ts.
 */
import { sql } from 'kysely';
import { type Closure, type HolidayOpening, PracticeCalendar } from './ris.calendar.js';
import { hoursFromRows, type RoomSchedule } from './ris.rules.js';
import type { RisDb } from './ris.tables.js';

function closureQuery(db: RisDb) {
  return db
    .selectFrom('ris.closures as c')
    .leftJoin('ris.rooms as r', 'r.room_id', 'c.room_id')
    .select([
      'c.closure_id',
      'c.room_id',
      'r.room',
      sql<string>`to_char(c.first_day, 'YYYY-MM-DD')`.as('first_day'),
      sql<string>`to_char(c.last_day, 'YYYY-MM-DD')`.as('last_day'),
      'c.reason',
      'c.created_by',
      'c.created_at',
    ]);
}

type ClosureRow = Awaited<ReturnType<ReturnType<typeof closureQuery>['executeTakeFirstOrThrow']>>;

function toClosure(row: ClosureRow): Closure {
  return {
    closureId: row.closure_id,
    roomId: row.room_id,
    room: row.room,
    firstDay: row.first_day,
    lastDay: row.last_day,
    reason: row.reason,
    createdBy: row.created_by,
    createdAt: new Date(row.created_at),
  };
}

export interface NewClosure {
  roomId: number | null;
  firstDay: string;
  lastDay: string;
  reason: string;
  createdBy: string;
}

export async function insertClosure(db: RisDb, closure: NewClosure): Promise<Closure> {
  const { closure_id } = await db
    .insertInto('ris.closures')
    .values({
      room_id: closure.roomId,
      first_day: closure.firstDay,
      last_day: closure.lastDay,
      reason: closure.reason,
      created_by: closure.createdBy,
    })
    .returning('closure_id')
    .executeTakeFirstOrThrow();
  return toClosure(await closureQuery(db).where('c.closure_id', '=', closure_id).executeTakeFirstOrThrow());
}

/** Deletes a closure; returns what it was, or undefined when there is none with that id. */
export async function deleteClosure(db: RisDb, closureId: number): Promise<Closure | undefined> {
  const row = await closureQuery(db).where('c.closure_id', '=', closureId).executeTakeFirst();
  if (!row) return undefined;
  const deleted = await db.deleteFrom('ris.closures').where('closure_id', '=', closureId).executeTakeFirst();
  return Number(deleted.numDeletedRows) === 1 ? toClosure(row) : undefined;
}

/** Closures overlapping [from, to] (days, both included), optionally only the practice's and one room's. */
export async function closuresBetween(
  db: RisDb,
  from: string,
  to: string,
  roomId?: number,
): Promise<Closure[]> {
  let query = closureQuery(db).where('c.last_day', '>=', from).where('c.first_day', '<=', to);
  if (roomId !== undefined)
    query = query.where((eb) => eb.or([eb('c.room_id', 'is', null), eb('c.room_id', '=', roomId)]));
  const rows = await query.orderBy('c.first_day').orderBy('c.closure_id').execute();
  return rows.map(toClosure);
}

/** Opens a room on a (holiday) day, or updates the reason of an existing opening. */
export async function upsertHolidayOpening(
  db: RisDb,
  opening: { roomId: number; day: string; reason: string | null; createdBy: string },
): Promise<void> {
  await db
    .insertInto('ris.holiday_openings')
    .values({
      room_id: opening.roomId,
      day: opening.day,
      reason: opening.reason,
      created_by: opening.createdBy,
    })
    .onConflict((oc) => oc.columns(['room_id', 'day']).doUpdateSet({ reason: opening.reason }))
    .execute();
}

/** Removes a holiday opening; false when there was none. */
export async function deleteHolidayOpening(db: RisDb, roomId: number, day: string): Promise<boolean> {
  const result = await db
    .deleteFrom('ris.holiday_openings')
    .where('room_id', '=', roomId)
    .where('day', '=', day)
    .executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

/** Every room's holiday openings in [from, to]. */
export async function holidayOpeningsBetween(db: RisDb, from: string, to: string): Promise<HolidayOpening[]> {
  const rows = await db
    .selectFrom('ris.holiday_openings as o')
    .innerJoin('ris.rooms as r', 'r.room_id', 'o.room_id')
    .select([
      'o.room_id',
      'r.room',
      sql<string>`to_char(o.day, 'YYYY-MM-DD')`.as('day'),
      'o.reason',
      'o.created_by',
    ])
    .where('o.day', '>=', from)
    .where('o.day', '<=', to)
    .orderBy('o.day')
    .orderBy('r.room')
    .execute();
  return rows.map((r) => ({
    roomId: r.room_id,
    room: r.room,
    day: r.day,
    reason: r.reason,
    createdBy: r.created_by,
  }));
}

/** The calendar of the days [from, to]: their closures and every room's holiday openings. */
export async function calendarBetween(db: RisDb, from: string, to: string): Promise<PracticeCalendar> {
  const [closures, openings] = await Promise.all([
    closuresBetween(db, from, to),
    holidayOpeningsBetween(db, from, to),
  ]);
  return new PracticeCalendar(closures, openings);
}

export interface StrandedAppointment {
  appointmentId: number;
  room: string;
  start: Date;
}

/** Appointments still to happen (BOOKED or REGISTERED) in [from, to), in one room or in any room. */
export async function pendingAppointmentsBetween(
  db: RisDb,
  from: Date,
  to: Date,
  roomId: number | null,
): Promise<StrandedAppointment[]> {
  let query = db
    .selectFrom('ris.appointments as a')
    .innerJoin('ris.rooms as r', 'r.room_id', 'a.room_id')
    .select(['a.appointment_id', 'r.room', 'a.start_at'])
    .where('a.status', 'in', ['BOOKED', 'REGISTERED'])
    .where('a.start_at', '<', to)
    .where('a.end_at', '>', from);
  if (roomId !== null) query = query.where('a.room_id', '=', roomId);
  const rows = await query.orderBy('a.start_at').orderBy('r.room').limit(200).execute();
  return rows.map((r) => ({
    appointmentId: Number(r.appointment_id),
    room: r.room,
    start: new Date(r.start_at),
  }));
}

/** A room by name (any case), active or not. */
export async function roomByName(
  db: RisDb,
  room: string,
): Promise<{ roomId: number; room: string } | undefined> {
  const row = await db
    .selectFrom('ris.rooms')
    .select(['room_id', 'room'])
    .where(sql`upper(room)`, '=', room.toUpperCase())
    .executeTakeFirst();
  return row ? { roomId: row.room_id, room: row.room } : undefined;
}

/**
 * Active rooms (optionally of one modality, or one room by name) with their opening hours, in one query:
 * what the worklist asks "is anything open that day?" of.
 */
export async function workingRooms(
  db: RisDb,
  filter: { modality?: string | undefined; room?: string | undefined },
): Promise<RoomSchedule[]> {
  let query = db
    .selectFrom('ris.rooms as r')
    .leftJoin('ris.room_hours as h', 'h.room_id', 'r.room_id')
    .select([
      'r.room_id',
      'r.room',
      'r.grid_minutes',
      'h.iso_weekday',
      sql<string | null>`to_char(h.opens_at, 'HH24:MI')`.as('opens_at'),
      // to_char renders 24:00 as 00:00; keep it as the end of the day.
      sql<
        string | null
      >`CASE WHEN h.closes_at = '24:00' THEN '24:00' ELSE to_char(h.closes_at, 'HH24:MI') END`.as(
        'closes_at',
      ),
    ])
    .where('r.active', '=', true)
    .orderBy('r.room');
  if (filter.modality) query = query.where('r.modality', '=', filter.modality);
  if (filter.room) query = query.where(sql`upper(r.room)`, '=', filter.room.toUpperCase());
  const rows = await query.execute();
  const rooms = new Map<number, { room: string; gridMinutes: number; hours: typeof rows }>();
  for (const row of rows) {
    const entry = rooms.get(row.room_id) ?? { room: row.room, gridMinutes: row.grid_minutes, hours: [] };
    if (row.iso_weekday !== null) entry.hours.push(row);
    rooms.set(row.room_id, entry);
  }
  return [...rooms].map(([roomId, r]) => ({
    roomId,
    room: r.room,
    gridMinutes: r.gridMinutes,
    hours: hoursFromRows(
      r.hours.map((h) => ({ iso_weekday: h.iso_weekday!, opens_at: h.opens_at!, closes_at: h.closes_at! })),
    ),
  }));
}
