/**
 * The RIS's reference data and its SQL: practice settings, procedures and their priority rules, rooms with
 * their opening hours, and the referring physicians (with the patients each one's login may see). Every
 * function takes the database handle first; rows become the domain objects below and never leave the
 * module as rows.
 */
import { sql } from 'kysely';
import { hoursFromRows, type RoomSchedule } from './ris.rules.js';
import type { Priority, RisDb } from './ris.tables.js';

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
  /** False: deactivated (migration 0018); kept on old orders, refused for new ones. */
  active: boolean;
}

export interface Procedure {
  procedureCode: string;
  description: string;
  modality: string;
  durationMinutes: number;
}

export interface PriorityRule {
  priority: Priority;
  rank: number;
  horizonDays: number;
  sameDayOnly: boolean;
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
/** The opening hours of these rooms, as `HH:MM` (24:00 kept as the end of the day), by weekday and time. */
export async function roomHoursOf(
  db: RisDb,
  roomIds: readonly number[],
): Promise<{ room_id: number; iso_weekday: number; opens_at: string; closes_at: string }[]> {
  if (roomIds.length === 0) return [];
  return db
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
    .where('room_id', 'in', [...roomIds])
    .orderBy('iso_weekday')
    .orderBy('opens_at')
    .execute();
}

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
  const hours = await roomHoursOf(
    db,
    rooms.map((r) => r.room_id),
  );
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

// ---------------------------------------------------------------------------------------------------------
// Referring physicians
// ---------------------------------------------------------------------------------------------------------

/** A referring physician's row as the RIS reads it everywhere. */
export function physicianFromRow(row: {
  physician_id: number;
  practice_number: string;
  hpcsa_number: string;
  title: string;
  family_name: string;
  given_names: string;
  phone: string | null;
  email: string | null;
  user_subject: string | null;
  active: boolean;
}): Physician {
  return {
    physicianId: row.physician_id,
    practiceNumber: row.practice_number,
    hpcsaNumber: row.hpcsa_number,
    title: row.title,
    familyName: row.family_name,
    givenNames: row.given_names,
    phone: row.phone,
    email: row.email,
    userSubject: row.user_subject,
    active: row.active,
  };
}

export async function getPhysician(
  db: RisDb,
  by: { practiceNumber: string } | { hpcsaNumber: string },
): Promise<Physician | undefined> {
  const query = db.selectFrom('ris.referring_physicians').selectAll();
  const row = await ('practiceNumber' in by
    ? query.where('practice_number', '=', by.practiceNumber)
    : query.where('hpcsa_number', '=', by.hpcsaNumber)
  ).executeTakeFirst();
  return row ? physicianFromRow(row) : undefined;
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
