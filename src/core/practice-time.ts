/**
 * Practice-local time without a date library. The practice zone is data (`core.instance_settings.time_zone`,
 * read through `PracticeZone` below); these
 * helpers work for any IANA zone through Intl, so a zone with DST would also be handled correctly.
 */

import type { Kysely } from 'kysely';
import { ToolError } from './errors.js';

export interface LocalParts {
  /** YYYY-MM-DD */
  date: string;
  /** minutes since local midnight */
  minutes: number;
  /** 1 = Monday ... 7 = Sunday */
  isoWeekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

function wallClock(instant: Date, timeZone: string): Record<string, number> {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(instant)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return parts;
}

function exactOffsetMinutes(instant: Date, timeZone: string): number {
  const p = wallClock(instant, timeZone);
  const asUtc = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return Math.round((asUtc - Math.floor(instant.getTime() / 1000) * 1000) / 60_000);
}

/**
 * Offsets per zone and quarter hour. `formatToParts` costs microseconds and a worklist formats hundreds
 * of times per call, while an offset only changes at a zone's transitions. A quarter hour whose two ends
 * agree holds no transition (zones change at most once in one), so its offset serves every instant in it;
 * one whose ends differ is marked and computed exactly each time.
 */
const QUARTER_HOUR_MS = 15 * 60_000;
const MAX_CACHED_OFFSETS = 50_000;
const offsets = new Map<string, number | null>();

/** The zone's offset from UTC at `instant`, in minutes (Johannesburg: +120). */
export function offsetMinutes(instant: Date, timeZone: string): number {
  const quarter = Math.floor(instant.getTime() / QUARTER_HOUR_MS);
  const key = `${timeZone}|${quarter}`;
  let offset = offsets.get(key);
  if (offset === undefined) {
    const first = exactOffsetMinutes(new Date(quarter * QUARTER_HOUR_MS), timeZone);
    const last = exactOffsetMinutes(new Date((quarter + 1) * QUARTER_HOUR_MS - 1000), timeZone);
    offset = first === last ? first : null;
    if (offsets.size >= MAX_CACHED_OFFSETS) offsets.clear();
    offsets.set(key, offset);
  }
  return offset ?? exactOffsetMinutes(instant, timeZone);
}

export function localParts(instant: Date, timeZone: string): LocalParts {
  // The wall clock is the instant shifted by the zone's offset, read in UTC.
  const wall = new Date(instant.getTime() + offsetMinutes(instant, timeZone) * 60_000);
  const weekday = wall.getUTCDay();
  return {
    date: wall.toISOString().slice(0, 10),
    minutes: wall.getUTCHours() * 60 + wall.getUTCMinutes(),
    isoWeekday: weekday === 0 ? 7 : weekday,
  };
}

/** The instant at which the wall clock in `timeZone` shows `date` + `minutes` after midnight. */
export function localToInstant(date: string, minutes: number, timeZone: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const naive = Date.UTC(y, m - 1, d, 0, minutes);
  // Two passes settle the offset even across a DST change.
  let instant = new Date(naive - offsetMinutes(new Date(naive), timeZone) * 60_000);
  instant = new Date(naive - offsetMinutes(instant, timeZone) * 60_000);
  return instant;
}

/** ISO-8601 with the zone's explicit offset, e.g. `2026-03-02T09:30:00+02:00`. */
export function toZonedIso(instant: Date, timeZone: string): string {
  const offset = offsetMinutes(instant, timeZone);
  const local = new Date(instant.getTime() + offset * 60_000).toISOString().slice(0, 19);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${local}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function isoWeekdayOf(date: string): number {
  const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
  return weekday === 0 ? 7 : weekday;
}

/** 'HH:MM[:SS]' → minutes since midnight ('24:00' → 1440). */
export function clockToMinutes(clock: string): number {
  const [h, m] = clock.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

export function minutesToClock(minutes: number): string {
  return `${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

/**
 * A time given by a caller: ISO-8601 with an offset or `Z` is absolute; without one it is read as practice
 * local time (a receptionist says "10:30", meaning Johannesburg time).
 */
export function parseCallerTime(text: string, timeZone: string): Date {
  if (/([zZ]|[+-]\d{2}:?\d{2})$/.test(text)) return new Date(text);
  const [date, clock = '00:00'] = text.split('T') as [string, string | undefined];
  const [h = 0, m = 0, s = 0] = clock.split(':').map(Number);
  return new Date(localToInstant(date, h * 60 + m, timeZone).getTime() + s * 1000);
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

const DEFAULT_TIME_ZONE = 'Africa/Johannesburg';

type SettingsTables = { 'core.instance_settings': { key: string; value: unknown } };

/** How long a replica keeps the zone it read before reading it again (another replica may change it). */
const ZONE_MAX_AGE_MS = 60_000;
/**
 * The practice's time zone, from `core.instance_settings` (the practice profile shows and changes that
 * row), and times formatted in it for people and models. The zone is cached: read again after a minute
 * (so a change made on another replica arrives), at once after `invalidate()` (a change made here), and a
 * failed read is retried on the next call instead of being cached. Cache ages use the machine's clock: they
 * measure elapsed time, not the practice's calendar.
 */
export class PracticeZone {
  readonly #db: Kysely<SettingsTables>;
  #zone: Promise<string> | undefined;
  #loadedAt = 0;

  // biome-ignore lint/suspicious/noExplicitAny: narrowed to the one settings table below
  constructor(db: Kysely<any>) {
    this.#db = db.withTables<SettingsTables>();
  }

  zone(): Promise<string> {
    const now = performance.now();
    if (this.#zone && now - this.#loadedAt >= ZONE_MAX_AGE_MS) this.#zone = undefined;
    if (!this.#zone) {
      this.#loadedAt = now;
      const loading = this.#load().catch((error: unknown) => {
        if (this.#zone === loading) this.#zone = undefined;
        throw error;
      });
      this.#zone = loading;
    }
    return this.#zone;
  }

  /** The zone row was changed (by this replica, and committed): read it again on the next call. */
  invalidate(): void {
    this.#zone = undefined;
  }

  /** An instant as ISO 8601 in the practice zone with its offset ("2026-11-30T09:30:00+02:00"). */
  async format(instant: Date): Promise<string> {
    return toZonedIso(instant, await this.zone());
  }

  async #load(): Promise<string> {
    const row = await this.#db
      .selectFrom('core.instance_settings')
      .select('value')
      .where('key', '=', 'time_zone')
      .executeTakeFirst();
    const zone = typeof row?.value === 'string' ? row.value : DEFAULT_TIME_ZONE;
    if (!isTimeZone(zone))
      throw new ToolError('INTERNAL', `core.instance_settings time_zone "${zone}" is not an IANA time zone.`);
    return zone;
  }
}

/** Whether Intl knows `zone` as a time zone ("Africa/Johannesburg", "UTC"). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const WEEKDAYS_SHORT = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const MONTHS_SHORT = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "Mon 30 Nov 2026 09:30": how a person reads a practice-local time in a sentence. */
export function spokenTime(instant: Date, timeZone: string): string {
  const local = localParts(instant, timeZone);
  return `${spokenDate(local.date)} ${minutesToClock(local.minutes)}`;
}

/** "Mon 30 Nov 2026" for a YYYY-MM-DD practice date. */
export function spokenDate(date: string): string {
  const [year, month, day] = date.split('-').map(Number);
  return `${WEEKDAYS_SHORT[isoWeekdayOf(date) - 1]} ${day} ${MONTHS_SHORT[(month ?? 1) - 1]} ${year}`;
}
