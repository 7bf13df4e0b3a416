/**
 * The day a test runs on. Tests never read the machine's clock for a decision: the product clock starts at
 * `UPC_TEST_NOW` (set by `test/run-suite.ts` to a Saturday, a Sunday, ...) or at a fixed Monday morning,
 * so a test that passes today passes on any day. A test file that imports this module is date-sensitive:
 * the suite runs it again under each of those days.
 */
import { SettableClock } from '../../src/core/clock.js';
import {
  addDays,
  clockToMinutes,
  isoWeekdayOf,
  localParts,
  localToInstant,
} from '../../src/core/practice-time.js';

export const TZ = 'Africa/Johannesburg';

/** Monday 30 November 2026, 08:30 in Johannesburg: a working day that is also the last day of a month. */
export const DEFAULT_TEST_NOW = '2026-11-30T08:30:00+02:00';

/** The instant the suite runs at. */
export function testNow(): Date {
  const chosen = process.env.UPC_TEST_NOW ?? DEFAULT_TEST_NOW;
  const instant = new Date(chosen);
  if (Number.isNaN(instant.getTime())) throw new Error(`UPC_TEST_NOW is not an ISO time: ${chosen}`);
  return instant;
}

/** A frozen product clock at `testNow()` (or at `instant`), moved by the test with set/advance. */
export function testClock(instant: Date | string = testNow()): SettableClock {
  return new SettableClock(instant);
}

/** Today in the practice zone, YYYY-MM-DD, by the test clock. */
export function testToday(): string {
  return localParts(testNow(), TZ).date;
}

/** The next Monday (practice time) at least `minDaysAhead` days after the test clock's today. */
export function nextMonday(minDaysAhead = 7): string {
  let day = addDays(testToday(), minDaysAhead);
  while (isoWeekdayOf(day) !== 1) day = addDays(day, 1);
  return day;
}

/** The next day of an ISO weekday (1 = Monday) on or after `from`. */
export function nextWeekday(isoWeekday: number, from = testToday()): string {
  let day = from;
  while (isoWeekdayOf(day) !== isoWeekday) day = addDays(day, 1);
  return day;
}

/** The instant of a practice-local date and time ("2026-11-30", "09:15"). */
export function practiceTime(date: string, time: string): Date {
  return localToInstant(date, clockToMinutes(time), TZ);
}
