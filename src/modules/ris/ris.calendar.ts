/**
 * The practice calendar, pure: which days a room is closed although its weekday hours say open (a closure
 * of the practice or of the room, a public holiday the room does not open for), and the sentence that says
 * so. The rows come from ris.closures.store.ts; public holidays from core (computed per year).
 */

import { isoWeekdayOf } from '../../core/practice-time.js';
import { holidaysOn, type PublicHoliday, publicHolidayPhrase } from '../../core/public-holidays.js';
import type { RoomSchedule } from './ris.rules.js';

export interface Closure {
  closureId: number;
  /** Null: the whole practice. */
  roomId: number | null;
  room: string | null;
  /** First and last closed day, YYYY-MM-DD, both included. */
  firstDay: string;
  lastDay: string;
  reason: string;
  createdBy: string;
  createdAt: Date;
}

export interface HolidayOpening {
  roomId: number;
  room: string;
  day: string;
  reason: string | null;
  createdBy: string;
}

/** Why a room is closed on a day its weekday hours would open it. */
export type ClosedReason =
  | { kind: 'closure'; closure: Closure }
  | { kind: 'holiday'; holidays: PublicHoliday[]; phrase: string };

export class PracticeCalendar {
  readonly #closures: readonly Closure[];
  readonly #openings: ReadonlySet<string>;
  readonly #openingDays: ReadonlySet<string>;

  /** The closures and holiday openings of the days it will be asked about (more do no harm). */
  constructor(closures: readonly Closure[] = [], openings: readonly { roomId: number; day: string }[] = []) {
    this.#closures = closures;
    this.#openings = new Set(openings.map((o) => `${o.roomId}|${o.day}`));
    this.#openingDays = new Set(openings.map((o) => o.day));
  }

  /**
   * Why the room is closed that day, or undefined when its weekday hours apply. A closure of the practice
   * comes first, then one of the room; a public holiday closes the room unless it opens for that day.
   */
  closedReason(roomId: number, date: string): ClosedReason | undefined {
    const key = `${roomId}|${date}`;
    if (!this.#answers.has(key)) this.#answers.set(key, this.#reason(roomId, date));
    return this.#answers.get(key);
  }

  /** Answers so far: the slot search asks about the same room and day for every slot of the day. */
  readonly #answers = new Map<string, ClosedReason | undefined>();

  #reason(roomId: number, date: string): ClosedReason | undefined {
    const covers = (c: Closure) => c.firstDay <= date && date <= c.lastDay;
    const closure =
      this.#closures.find((c) => c.roomId === null && covers(c)) ??
      this.#closures.find((c) => c.roomId === roomId && covers(c));
    if (closure) return { kind: 'closure', closure };
    const phrase = publicHolidayPhrase(date);
    if (phrase && !this.#openings.has(`${roomId}|${date}`))
      return { kind: 'holiday', holidays: holidaysOn(date), phrase };
    return undefined;
  }

  isClosed = (roomId: number, date: string): boolean => this.closedReason(roomId, date) !== undefined;

  /** Whether some room opens on this (holiday) day by exception. */
  hasHolidayOpening(date: string): boolean {
    return this.#openingDays.has(date);
  }
}

/** Whether the room works that day: it has hours on the weekday and the calendar does not close it. */
export function opensOn(room: RoomSchedule, date: string, calendar: PracticeCalendar): boolean {
  return (room.hours.get(isoWeekdayOf(date))?.length ?? 0) > 0 && !calendar.isClosed(room.roomId, date);
}

export const WEEKDAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** Which rooms a sentence is about: all of them, a modality's, or one. */
export interface RoomsInQuestion {
  modality?: string | undefined;
  room?: string | undefined;
}

export interface ClosedDay {
  /** For a person: "2026-12-16 is the Day of Reconciliation, a public holiday: the practice is closed." */
  sentence: string;
  /** For a program: why (public_holiday, closure, closed_weekday), with the holiday's name or closure's id. */
  details: { reason: 'public_holiday' | 'closure' | 'closed_weekday'; holiday?: string; closure_id?: number };
}

/**
 * Why none of these rooms works on `date`, in one sentence that starts with `label` (the date as the caller
 * reads it); undefined when one of them works that day.
 */
export function closedDay(
  date: string,
  label: string,
  rooms: readonly RoomSchedule[],
  calendar: PracticeCalendar,
  which: RoomsInQuestion,
): ClosedDay | undefined {
  if (rooms.some((room) => opensOn(room, date, calendar))) return undefined;
  const what = which.room
    ? `${which.room} is`
    : which.modality
      ? `the ${which.modality} rooms are`
      : 'the practice is';
  const weekday = isoWeekdayOf(date);
  const working = rooms.filter((room) => (room.hours.get(weekday)?.length ?? 0) > 0);
  if (working.length === 0) {
    return {
      sentence: `${label} is a ${WEEKDAY_NAMES[weekday - 1]}: ${what} closed.`,
      details: { reason: 'closed_weekday' },
    };
  }
  const reasons = working.map((room) => ({ room, why: calendar.closedReason(room.roomId, date)! }));
  const practiceWide = reasons.find((r) => r.why.kind === 'closure' && r.why.closure.roomId === null);
  if (practiceWide?.why.kind === 'closure') {
    const { closure } = practiceWide.why;
    return {
      sentence: `${label}: the practice is closed (${closure.reason}).`,
      details: { reason: 'closure', closure_id: closure.closureId },
    };
  }
  const first = reasons[0]!.why;
  if (first.kind === 'holiday' && reasons.every((r) => r.why.kind === 'holiday')) {
    // "the practice is closed" only when no room at all opens for the holiday.
    const subject = calendar.hasHolidayOpening(date) ? what : 'the practice is';
    return {
      sentence: `${label} is ${first.phrase}: ${subject} closed.`,
      details: { reason: 'public_holiday', holiday: first.holidays[0]!.name },
    };
  }
  const parts = reasons.map(
    ({ room, why }) => `${room.room} is closed (${why.kind === 'closure' ? why.closure.reason : why.phrase})`,
  );
  const closure = reasons.find((r) => r.why.kind === 'closure')?.why;
  return {
    sentence: `${label}: ${parts.join('; ')}.`,
    details:
      closure?.kind === 'closure'
        ? { reason: 'closure', closure_id: closure.closure.closureId }
        : { reason: 'public_holiday', holiday: first.kind === 'holiday' ? first.holidays[0]!.name : '' },
  };
}
