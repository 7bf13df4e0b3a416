/**
 * Booking: finds the requested or next free slot and writes it. Bookings that could use the same rooms
 * take those rooms' booking locks and run one after another (read the schedule, write the slot, commit),
 * so concurrent callers end up in distinct slots without retries. The database still has the last word
 * (the exclusion constraint on room and time); a writer that skipped the locks makes a booking lose a
 * race, and it then looks again.
 */
import { invalidField, ToolError } from '../../core/errors.js';
import { addDays, localParts, localToInstant, minutesToClock, toZonedIso } from '../../core/practice-time.js';
import { constraintOf, sqlState } from '../../db/sql-helpers.js';
import {
  type Actor,
  busyIntervals,
  insertAppointment,
  lockRoomsForBooking,
  moveAppointment,
} from './ris.appointments.store.js';
import type { Order } from './ris.orders.store.js';
import { getPriorityRule, roomExists, roomsFor } from './ris.reference.store.js';
import { findFreeSlot, type Slot } from './ris.rules.js';
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
  const ignore = req.moving?.appointmentId;

  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    try {
      return await db.transaction().execute(async (trx) => {
        await lockRoomsForBooking(
          trx,
          rooms.map((r) => r.roomId),
        );
        const slot = await earliestFree(trx, {
          rooms,
          from,
          until,
          preferred,
          durationMinutes: order.durationMinutes,
          timeZone,
          ignore,
        });
        if (!slot) throw noSlotError(order, from, until, timeZone, req.room);
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

async function earliestFree(
  db: RisDb | RisTrx,
  q: {
    rooms: Awaited<ReturnType<typeof roomsFor>>;
    from: Date;
    until: Date;
    preferred: Date | undefined;
    durationMinutes: number;
    timeZone: string;
    ignore: number | undefined;
  },
): Promise<Slot | undefined> {
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

function noSlotError(order: Order, from: Date, until: Date, timeZone: string, room?: string): ToolError {
  const where = room ? `room ${room}` : `any ${order.modality} room`;
  const last = localParts(new Date(until.getTime() - 1), timeZone).date;
  return new ToolError(
    'CONFLICT',
    `No free ${order.durationMinutes}-minute slot in ${where} between ${describe({ start: from }, timeZone)} and the end of ${last} ` +
      `(${order.priority} booking window). Try another room, or raise the priority with the radiologist.`,
    { accession_number: order.accessionNumber, priority: order.priority },
  );
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
