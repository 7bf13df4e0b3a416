/**
 * Booking: finds the requested or next free slot and writes it. Bookings that could use the same rooms
 * take those rooms' booking locks and run one after another (read the schedule, write the slot, commit),
 * so concurrent callers end up in distinct slots without retries. The database still has the last word
 * (the exclusion constraint on room and time); a writer that skipped the locks makes a booking lose a
 * race, and it then looks again.
 *
 * Closed days (public holidays, closures: ris.calendar.ts) are skipped by the search; a requested time on a
 * closed day or outside hours is refused with the reason and the next open slot, never moved silently.
 */
import { invalidField, ToolError } from '../../core/errors.js';
import {
  addDays,
  localParts,
  localToInstant,
  minutesToClock,
  spokenDate,
  spokenTime,
  toZonedIso,
} from '../../core/practice-time.js';
import { constraintOf, sqlState } from '../../db/sql-helpers.js';
import {
  type Actor,
  busyIntervals,
  insertAppointment,
  lockRoomsForBooking,
  moveAppointment,
} from './ris.appointments.store.js';
import { type ClosedDay, closedDay, opensOn, type PracticeCalendar, WEEKDAY_NAMES } from './ris.calendar.js';
import { calendarBetween } from './ris.closures.store.js';
import type { Order } from './ris.orders.store.js';
import { getPriorityRule, roomExists, roomsFor } from './ris.reference.store.js';
import { findFreeSlot, type RoomSchedule, type Slot, withinHours } from './ris.rules.js';
import type { RisDb, RisTrx } from './ris.tables.js';

/**
 * SQLSTATEs that mean "another booking won": the exclusion violation itself, and the deadlock PostgreSQL
 * can report when two transactions insert conflicting rows at the same instant (each waits for the other
 * in the exclusion check; the deadlock detector aborts one of them).
 */
const LOST_RACE: ReadonlySet<string> = new Set(['23P01', '40P01']);
/** Lost races only happen against writers that skip the room locks; each one re-reads the schedule. */
const MAX_ATTEMPTS = 10;
/** Busy time is read a week at a time, so a 90-day horizon does not load 90 days of bookings at once. */
const WINDOW_DAYS = 7;
/** A stat exam may start at any minute; it is rounded up to this. */
const STAT_ROUNDING_MINUTES = 5;

export interface BookingRequest {
  order: Order;
  requestedStart?: Date | undefined;
  room?: string | undefined;
  ifTaken: 'next_free' | 'fail';
  now: Date;
  timeZone: string;
  actor: Actor;
  /** Set when moving an existing appointment (its own time does not count as busy). */
  moving?: { appointmentId: number; note: string };
}

export interface Booked extends Slot {
  appointmentId: number;
}

export async function book(db: RisDb, req: BookingRequest): Promise<Booked> {
  const { order, timeZone } = req;
  const rooms = await roomsFor(db, order.modality, req.room);
  if (rooms.length === 0) throw await noRoomError(db, order.modality, req.room);
  const { from, until, preferred } = await searchWindow(db, req);
  const calendar = await calendarBetween(
    db,
    localParts(from, timeZone).date,
    localParts(until, timeZone).date,
  );
  const search: SlotSearch = {
    rooms,
    from,
    until,
    preferred,
    durationMinutes: order.durationMinutes,
    timeZone,
    ignore: req.moving?.appointmentId,
    calendar,
  };
  // A closed day or a time outside hours is refused, with the next open slot: never silently moved.
  if (req.requestedStart) {
    const closed = closedAt(req.requestedStart, search, {
      modality: order.modality,
      room: req.room && rooms[0]!.room,
    });
    if (closed) throw await closedError(db, closed, req.requestedStart, search, order);
  }

  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    try {
      return await db.transaction().execute(async (trx) => {
        await lockRoomsForBooking(
          trx,
          rooms.map((r) => r.roomId),
        );
        const slot = await earliestFree(trx, search);
        if (!slot) throw noSlotError(order, search, req.room);
        const requestedTaken =
          req.requestedStart !== undefined && slot.start.getTime() !== req.requestedStart.getTime();
        if (requestedTaken && req.ifTaken === 'fail') {
          throw new ToolError(
            'CONFLICT',
            `Slot taken; next free ${describe(slot, timeZone)} in ${slot.room}. Book that time, or ask for another.`,
            { next_free_start: toZonedIso(slot.start, timeZone), room: slot.room },
          );
        }
        return { ...slot, appointmentId: await writeSlot(trx, req, slot) };
      });
    } catch (error) {
      if (LOST_RACE.has(sqlState(error) ?? '')) continue; // someone took this slot first: look again
      if (sqlState(error) === '23505' && constraintOf(error) === 'appointments_one_live_per_order') {
        throw new ToolError(
          'CONFLICT',
          `Order ${order.accessionNumber} already has a live appointment; use ris_reschedule_appointment to move it.`,
          { accession_number: order.accessionNumber },
        );
      }
      throw error;
    }
  }
  throw new ToolError('CONFLICT', 'The schedule is changing very fast right now; please try again.', {
    accession_number: order.accessionNumber,
  });
}

/** Inserts the new appointment, or moves the existing one to the slot. */
async function writeSlot(trx: RisTrx, req: BookingRequest, slot: Slot): Promise<number> {
  if (!req.moving) {
    return insertAppointment(trx, {
      accessionNumber: req.order.accessionNumber,
      roomId: slot.roomId,
      start: slot.start,
      end: slot.end,
      actor: req.actor,
    });
  }
  const moved = await moveAppointment(trx, req.moving.appointmentId, slot, req.actor, req.moving.note);
  if (!moved) {
    throw new ToolError(
      'CONFLICT',
      'This appointment changed while it was being moved (it is no longer BOOKED). Fetch it again.',
      { appointment_id: req.moving.appointmentId },
    );
  }
  return req.moving.appointmentId;
}

interface Window {
  from: Date;
  until: Date;
  preferred: Date | undefined;
}

/**
 * Where to look, by priority (rules are rows in `ris.priority_rules`): stat today only, from now, at any
 * minute; urgent within its horizon; routine within its (longer) horizon. Times in the past are refused.
 */
async function searchWindow(db: RisDb, req: BookingRequest): Promise<Window> {
  const rule = await getPriorityRule(db, req.order.priority);
  const today = localParts(req.now, req.timeZone).date;
  const lastDay = addDays(today, rule.horizonDays);
  const until = localToInstant(addDays(lastDay, 1), 0, req.timeZone);
  const requested = req.requestedStart;
  if (requested && requested < new Date(req.now.getTime() - 60_000)) {
    throw invalidStart('is in the past; give a future time or omit it for the earliest free slot');
  }
  if (requested && requested >= until) {
    throw invalidStart(
      rule.sameDayOnly
        ? `must be today (${today}) for ${withArticle(rule.priority)} order; omit it for the earliest free minute today`
        : `must be on or before ${lastDay} (${rule.priority} orders are booked within ${rule.horizonDays} days)`,
    );
  }
  if (requested) return { from: requested, until, preferred: requested };
  if (!rule.sameDayOnly) return { from: req.now, until, preferred: undefined };
  const step = STAT_ROUNDING_MINUTES * 60_000;
  const soonest = new Date(Math.ceil(req.now.getTime() / step) * step);
  return { from: soonest, until, preferred: soonest };
}

interface SlotSearch {
  rooms: readonly RoomSchedule[];
  from: Date;
  until: Date;
  preferred: Date | undefined;
  durationMinutes: number;
  timeZone: string;
  /** The appointment being moved: its own time is not busy. */
  ignore: number | undefined;
  /** Closures, holidays and holiday openings of the window's days. */
  calendar: PracticeCalendar;
}

async function earliestFree(db: RisDb | RisTrx, q: SlotSearch): Promise<Slot | undefined> {
  const roomIds = q.rooms.map((r) => r.roomId);
  for (let windowStart = q.from; windowStart < q.until; ) {
    const windowEnd = new Date(Math.min(windowStart.getTime() + WINDOW_DAYS * 86_400_000, q.until.getTime()));
    const busyTo = new Date(windowEnd.getTime() + q.durationMinutes * 60_000);
    const busy = await busyIntervals(db, roomIds, windowStart, busyTo, q.ignore);
    const slot = findFreeSlot({
      rooms: q.rooms,
      busy,
      durationMinutes: q.durationMinutes,
      from: windowStart,
      until: windowEnd,
      timeZone: q.timeZone,
      closed: q.calendar.isClosed,
      ...(q.preferred && q.preferred >= windowStart ? { preferredStart: q.preferred } : {}),
    });
    if (slot) return slot;
    windowStart = windowEnd;
  }
  return undefined;
}

function describe(slot: { start: Date }, timeZone: string): string {
  const local = localParts(slot.start, timeZone);
  return `${local.date} ${minutesToClock(local.minutes)}`;
}

/**
 * "an MR", "a CT", "an urgent", "a stat": an acronym takes the article of its first letter's name (em, en,
 * ex, ...), a word that of its first sound.
 */
export function withArticle(word: string): string {
  const acronym = /^[A-Z0-9]{2,}$/.test(word);
  const vowelSound = acronym ? /^[AEFHILMNORSX8]/.test(word) : /^[aeiou]/i.test(word);
  return `${vowelSound ? 'an' : 'a'} ${word}`;
}

function invalidStart(message: string): ToolError {
  return invalidField('start_time', message);
}

function noSlotError(order: Order, q: SlotSearch, room?: string): ToolError {
  const { from, until, timeZone } = q;
  const where = room ? `room ${room}` : `any ${order.modality} room`;
  const first = localParts(from, timeZone).date;
  const last = localParts(new Date(until.getTime() - 1), timeZone).date;
  // A one-day window (stat: today) on a closed day: say why first.
  const closed =
    first === last
      ? closedDay(first, spokenDate(first), q.rooms, q.calendar, { modality: order.modality, room })
      : undefined;
  return new ToolError(
    'CONFLICT',
    `${closed ? `${closed.sentence} ` : ''}No free ${order.durationMinutes}-minute slot in ${where} between ${describe({ start: from }, timeZone)} and the end of ${last} ` +
      `(${order.priority} booking window). Try another room, or raise the priority with the radiologist.`,
    { accession_number: order.accessionNumber, priority: order.priority, ...closed?.details },
  );
}

interface ClosedAt {
  sentence: string;
  details: ClosedDay['details'] | { reason: 'outside_hours' };
}

/**
 * Why no room of the search works at the requested time (a closed day, or outside its hours), or undefined
 * when one does (free or not: a taken slot is handled by if_taken).
 */
function closedAt(
  start: Date,
  q: SlotSearch,
  which: { modality: string; room: string | undefined },
): ClosedAt | undefined {
  const end = new Date(start.getTime() + q.durationMinutes * 60_000);
  const { date, isoWeekday } = localParts(start, q.timeZone);
  const open = q.rooms.filter((room) => opensOn(room, date, q.calendar));
  if (open.some((room) => withinHours(room, start, end, q.timeZone))) return undefined;
  const day = closedDay(date, spokenDate(date), q.rooms, q.calendar, which);
  if (day) return day;
  const hours = open
    .map(
      (room) =>
        `${room.room} ${(room.hours.get(isoWeekday) ?? [])
          .map((w) => `${minutesToClock(w.opens)}-${minutesToClock(w.closes)}`)
          .join(', ')}`,
    )
    .join('; ');
  const until = localParts(end, q.timeZone);
  return {
    sentence:
      `${spokenTime(start, q.timeZone)}-${minutesToClock(until.date === date ? until.minutes : 1440)} is outside ` +
      `opening hours (${WEEKDAY_NAMES[isoWeekday - 1]}s: ${hours}).`,
    details: { reason: 'outside_hours' },
  };
}

/** CONFLICT saying why the requested time is closed, offering the next open slot (words and details). */
async function closedError(
  db: RisDb,
  closed: ClosedAt,
  requested: Date,
  q: SlotSearch,
  order: Order,
): Promise<ToolError> {
  const next = await earliestFree(db, { ...q, from: requested, preferred: undefined });
  const last = localParts(new Date(q.until.getTime() - 1), q.timeZone).date;
  const offer = next
    ? `The next open slot is ${spokenTime(next.start, q.timeZone)} in ${next.room}; book that time, or ask for another.`
    : `No open slot is free before the end of ${spokenDate(last)} (${order.priority} booking window).`;
  return new ToolError('CONFLICT', `${closed.sentence} ${offer}`, {
    ...closed.details,
    requested_start: toZonedIso(requested, q.timeZone),
    ...(next ? { next_free_start: toZonedIso(next.start, q.timeZone), room: next.room } : {}),
  });
}

async function noRoomError(db: RisDb, modality: string, room?: string): Promise<ToolError> {
  if (!room) return new ToolError('NOT_FOUND', `No active room performs ${modality} examinations.`);
  const known = await roomExists(db, room);
  if (!known) return new ToolError('NOT_FOUND', `No room named ${room}.`, { room });
  return new ToolError(
    'CONFLICT',
    `Room ${known.room} is ${withArticle(known.modality)} room; this order needs ${modality}. Omit room to use any ${modality} room.`,
    { room: known.room, modality },
  );
}
