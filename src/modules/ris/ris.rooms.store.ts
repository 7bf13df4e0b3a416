/**
 * Rooms as the practice keeps them: list with modality and weekly opening hours, add, change, take out of
 * use, replace a room's week of hours, and the modalities rooms belong to. Periods a room is out of service
 * are closures (ris.closures), not kept here. Every function takes the database handle first; rows become
 * `RoomEntry` objects and never leave the module as rows.
 */
import { sql } from 'kysely';
import { recoverable, sqlState } from '../../db/sql-helpers.js';
import { roomHoursOf } from './ris.reference.store.js';
import type { RisDb } from './ris.tables.js';

/** One opening window: ISO weekday (1 = Monday), 'HH:MM' to 'HH:MM' ('24:00' allowed as the end). */
export interface OpeningWindow {
  weekday: number;
  opensAt: string;
  closesAt: string;
}

export interface RoomEntry {
  roomId: number;
  room: string;
  description: string;
  modality: string;
  modalityDescription: string;
  gridMinutes: number;
  active: boolean;
  /** By weekday, then opening time. */
  hours: OpeningWindow[];
}

export interface RoomFields {
  room?: string;
  description?: string;
  modality?: string;
  gridMinutes?: number;
  active?: boolean;
}

export interface Modality {
  modality: string;
  description: string;
}

export async function listModalities(db: RisDb): Promise<Modality[]> {
  return db.selectFrom('ris.modalities').select(['modality', 'description']).orderBy('modality').execute();
}

/** Adds a modality if it is new (a practice's first DEXA room brings DX... or its own code). */
export async function ensureModality(db: RisDb, modality: Modality): Promise<void> {
  await db
    .insertInto('ris.modalities')
    .values(modality)
    .onConflict((oc) => oc.column('modality').doNothing())
    .execute();
}

/** Rooms (optionally of one modality, or one by name), in name order, with their hours. */
export async function listRoomEntries(
  db: RisDb,
  filter: { modality?: string; room?: string; includeInactive: boolean },
): Promise<RoomEntry[]> {
  let query = db
    .selectFrom('ris.rooms as r')
    .innerJoin('ris.modalities as m', 'm.modality', 'r.modality')
    .select([
      'r.room_id',
      'r.room',
      'r.description',
      'r.modality',
      'm.description as modality_description',
      'r.grid_minutes',
      'r.active',
    ])
    .orderBy('r.room');
  if (!filter.includeInactive) query = query.where('r.active', '=', true);
  if (filter.modality) query = query.where('r.modality', '=', filter.modality);
  if (filter.room) query = query.where(sql`upper(r.room)`, '=', filter.room.toUpperCase());
  const rooms = await query.execute();
  if (rooms.length === 0) return [];
  const hours = await roomHoursOf(
    db,
    rooms.map((r) => r.room_id),
  );
  return rooms.map((r) => ({
    roomId: r.room_id,
    room: r.room,
    description: r.description,
    modality: r.modality,
    modalityDescription: r.modality_description,
    gridMinutes: r.grid_minutes,
    active: r.active,
    hours: hours
      .filter((h) => h.room_id === r.room_id)
      .map((h) => ({ weekday: h.iso_weekday, opensAt: h.opens_at, closesAt: h.closes_at })),
  }));
}

/** One room by name (any case), active or not. */
export async function roomEntry(db: RisDb, room: string): Promise<RoomEntry | undefined> {
  return (await listRoomEntries(db, { room, includeInactive: true }))[0];
}

/** Every room's name and modality, for close matches. */
export async function roomNames(
  db: RisDb,
  options: { includeInactive: boolean },
): Promise<{ room: string; description: string; modality: string; active: boolean }[]> {
  let query = db
    .selectFrom('ris.rooms')
    .select(['room', 'description', 'modality', 'active'])
    .orderBy('room');
  if (!options.includeInactive) query = query.where('active', '=', true);
  return query.execute();
}

/** Inserts a room; undefined when the name (in any case) is taken. */
export async function insertRoom(
  db: RisDb,
  fields: Required<Pick<RoomFields, 'room' | 'description' | 'modality'>> & RoomFields,
): Promise<number | undefined> {
  try {
    const row = await recoverable(db, (tx) =>
      tx
        .insertInto('ris.rooms')
        .values({
          room: fields.room,
          description: fields.description,
          modality: fields.modality,
          ...(fields.gridMinutes !== undefined ? { grid_minutes: fields.gridMinutes } : {}),
          ...(fields.active !== undefined ? { active: fields.active } : {}),
        })
        .returning('room_id')
        .executeTakeFirstOrThrow(),
    );
    return row.room_id;
  } catch (error) {
    if (sqlState(error) === '23505') return undefined;
    throw error;
  }
}

/** Changes the given fields; false when a new name (in any case) is taken. */
export async function updateRoom(db: RisDb, roomId: number, fields: RoomFields): Promise<boolean> {
  const set = {
    ...(fields.room !== undefined ? { room: fields.room } : {}),
    ...(fields.description !== undefined ? { description: fields.description } : {}),
    ...(fields.modality !== undefined ? { modality: fields.modality } : {}),
    ...(fields.gridMinutes !== undefined ? { grid_minutes: fields.gridMinutes } : {}),
    ...(fields.active !== undefined ? { active: fields.active } : {}),
  };
  if (Object.keys(set).length === 0) return true;
  try {
    await recoverable(db, (tx) =>
      tx.updateTable('ris.rooms').set(set).where('room_id', '=', roomId).execute(),
    );
    return true;
  } catch (error) {
    if (sqlState(error) === '23505') return false;
    throw error;
  }
}

/** Replaces a room's whole week of opening hours. */
export async function replaceRoomHours(
  db: RisDb,
  roomId: number,
  hours: readonly OpeningWindow[],
): Promise<void> {
  await db.deleteFrom('ris.room_hours').where('room_id', '=', roomId).execute();
  if (hours.length === 0) return;
  await db
    .insertInto('ris.room_hours')
    .values(
      hours.map((h) => ({
        room_id: roomId,
        iso_weekday: h.weekday,
        opens_at: h.opensAt,
        closes_at: h.closesAt,
      })),
    )
    .execute();
}

/** Appointments still holding the room's time from `from` on (not cancelled, no-show or done). */
export async function upcomingAppointments(
  db: RisDb,
  roomId: number,
  from: Date,
): Promise<{ appointmentId: number; start: Date; end: Date }[]> {
  const rows = await db
    .selectFrom('ris.appointments')
    .select(['appointment_id', 'start_at', 'end_at'])
    .where('room_id', '=', roomId)
    .where('end_at', '>', from)
    .where('status', 'in', ['BOOKED', 'REGISTERED', 'IN_PROGRESS'])
    .orderBy('start_at')
    .execute();
  return rows.map((r) => ({
    appointmentId: r.appointment_id,
    start: new Date(r.start_at),
    end: new Date(r.end_at),
  }));
}
