/**
 * RIS domain rules, pure (no I/O) so they are easy to read and to test: the study status state machine,
 * the free-slot search, and the checks on South African ID numbers and ICD-10 codes.
 */

import {
  addDays,
  clockToMinutes,
  isoWeekdayOf,
  localParts,
  localToInstant,
} from '../../core/practice-time.js';
import type { StudyStatus } from './ris.tables.js';

// ---------------------------------------------------------------------------------------------------------
// Study status state machine
// ---------------------------------------------------------------------------------------------------------

/** Allowed next states. REGISTERED means the patient has arrived; NO_SHOW only before arrival. */
export const TRANSITIONS: Readonly<Record<StudyStatus, readonly StudyStatus[]>> = {
  BOOKED: ['REGISTERED', 'CANCELLED', 'NO_SHOW'],
  REGISTERED: ['IN_PROGRESS', 'CANCELLED'],
  IN_PROGRESS: ['COMPLETED'],
  COMPLETED: ['REPORTED'],
  REPORTED: ['DELIVERED'],
  DELIVERED: [],
  CANCELLED: [],
  NO_SHOW: [],
};

export function canTransition(from: StudyStatus, to: StudyStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Statuses that hold a room's time; the others free it (mirrors the exclusion constraint's WHERE). */
export function holdsRoom(status: StudyStatus): boolean {
  return status !== 'CANCELLED' && status !== 'NO_SHOW';
}

/**
 * Steps that mean the examination is happening: refused before the appointment's day (practice time), so a
 * study cannot be started or finished days ahead by mistake. Arrival (REGISTERED) may be early.
 */
export function notBeforeAppointmentDay(to: StudyStatus): boolean {
  return to === 'IN_PROGRESS' || to === 'COMPLETED';
}

/** Only appointments that have not started may move. */
export function canReschedule(status: StudyStatus): boolean {
  return status === 'BOOKED';
}

// ---------------------------------------------------------------------------------------------------------
// Slot search
// ---------------------------------------------------------------------------------------------------------

export interface RoomSchedule {
  roomId: number;
  room: string;
  gridMinutes: number;
  /** Opening windows by ISO weekday; minutes since local midnight, [opens, closes). */
  hours: ReadonlyMap<number, readonly { opens: number; closes: number }[]>;
}

export interface Interval {
  start: Date;
  end: Date;
}

export interface SlotQuery {
  rooms: readonly RoomSchedule[];
  /** Held intervals per room id. */
  busy: ReadonlyMap<number, readonly Interval[]>;
  durationMinutes: number;
  /** The earliest acceptable start (the requested time, or now). */
  from: Date;
  /** Starts must be before this instant. */
  until: Date;
  timeZone: string;
  /** A start that counts even when off the grid (the caller's requested time). */
  preferredStart?: Date;
  /** Days a room does not work although its weekday hours say so (public holidays, closures). */
  closed?: (roomId: number, date: string) => boolean;
}

export interface Slot extends Interval {
  roomId: number;
  room: string;
}

/**
 * The earliest free slot: the preferred start if it fits, otherwise grid starts from opening time, in
 * whichever room frees up first (ties go to the room listed first), skipping the days a room is closed.
 * Returns undefined when nothing fits.
 */
export function findFreeSlot(query: SlotQuery): Slot | undefined {
  let best: Slot | undefined;
  for (const room of query.rooms) {
    const slot = firstFreeInRoom(room, query);
    if (slot && (!best || slot.start < best.start)) best = slot;
  }
  return best;
}

function firstFreeInRoom(room: RoomSchedule, q: SlotQuery): Slot | undefined {
  const durationMs = q.durationMinutes * 60_000;
  const busy = [...(q.busy.get(room.roomId) ?? [])].sort((a, b) => a.start.getTime() - b.start.getTime());
  const fits = (start: Date): Slot | undefined => {
    const end = new Date(start.getTime() + durationMs);
    if (!withinHours(room, start, end, q.timeZone)) return undefined;
    if (q.closed?.(room.roomId, localParts(start, q.timeZone).date)) return undefined;
    if (busy.some((b) => b.start < end && start < b.end)) return undefined;
    return { roomId: room.roomId, room: room.room, start, end };
  };
  if (q.preferredStart && q.preferredStart >= q.from) {
    const preferred = fits(q.preferredStart);
    if (preferred) return preferred;
  }
  const firstDay = localParts(q.from, q.timeZone).date;
  const lastDay = localParts(q.until, q.timeZone).date;
  for (let day = firstDay; day <= lastDay; day = addDays(day, 1)) {
    if (q.closed?.(room.roomId, day)) continue;
    for (const window of room.hours.get(isoWeekdayOf(day)) ?? []) {
      for (let m = window.opens; m + q.durationMinutes <= window.closes; m += room.gridMinutes) {
        const start = localToInstant(day, m, q.timeZone);
        if (start < q.from) continue;
        if (start >= q.until) return undefined;
        const slot = fits(start);
        if (slot) return slot;
      }
    }
  }
  return undefined;
}

/** True when [start, end) lies inside one opening window of its local day. */
export function withinHours(room: RoomSchedule, start: Date, end: Date, timeZone: string): boolean {
  const local = localParts(start, timeZone);
  const durationMinutes = (end.getTime() - start.getTime()) / 60_000;
  return (room.hours.get(local.isoWeekday) ?? []).some(
    (w) => local.minutes >= w.opens && local.minutes + durationMinutes <= w.closes,
  );
}

export function hoursFromRows(
  rows: readonly { iso_weekday: number; opens_at: string; closes_at: string }[],
): Map<number, { opens: number; closes: number }[]> {
  const hours = new Map<number, { opens: number; closes: number }[]>();
  for (const row of rows) {
    const list = hours.get(row.iso_weekday) ?? [];
    list.push({ opens: clockToMinutes(row.opens_at), closes: clockToMinutes(row.closes_at) });
    list.sort((a, b) => a.opens - b.opens);
    hours.set(row.iso_weekday, list);
  }
  return hours;
}

// ---------------------------------------------------------------------------------------------------------
// Identifiers and codes
// ---------------------------------------------------------------------------------------------------------

/**
 * A South African ID number: YYMMDD SSSS C A Z. Digits 7-10 are 0000-4999 for women and 5000-9999 for men,
 * C is 0 (citizen) or 1 (permanent resident), Z is a Luhn check digit. Returns a problem or undefined.
 */
export function saIdProblem(id: string): string | undefined {
  if (!/^\d{13}$/.test(id)) return 'must be 13 digits';
  const mm = Number(id.slice(2, 4));
  const dd = Number(id.slice(4, 6));
  if (mm < 1 || mm > 12 || dd < 1 || dd > daysInMonth(Number(id.slice(0, 2)), mm)) {
    return 'does not start with a valid date of birth (YYMMDD)';
  }
  if (id[10] !== '0' && id[10] !== '1') return 'citizenship digit (11th) must be 0 or 1';
  if (!luhnValid(id)) return 'check digit is wrong (Luhn); please re-check the number';
  return undefined;
}

/** Which sex an SA ID number encodes. */
export function saIdSex(id: string): 'F' | 'M' {
  return Number(id.slice(6, 10)) < 5000 ? 'F' : 'M';
}

/** True when the ID's YYMMDD matches a YYYY-MM-DD birth date. */
export function saIdMatchesBirthDate(id: string, birthDate: string): boolean {
  return id.slice(0, 6) === birthDate.slice(2, 4) + birthDate.slice(5, 7) + birthDate.slice(8, 10);
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** The Luhn check digit that completes `partial` (used by the demo generator). */
export function luhnCheckDigit(partial: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(partial + d)) return String(d);
  throw new Error('unreachable');
}

function daysInMonth(yy: number, mm: number): number {
  // Two-digit year: 00 is a leap year both in 1900 (no) and 2000 (yes); accept 29 Feb for any yy % 4 === 0.
  return mm === 2 ? (yy % 4 === 0 ? 29 : 28) : [4, 6, 9, 11].includes(mm) ? 30 : 31;
}

/**
 * ICD-10 code: a letter, two characters, and an optional dot with 1-4 characters: WHO (`R10.4`) and the
 * longer clinical-modification form (`S82.101A`) both pass.
 */
export const ICD10_PATTERN = /^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$/;
