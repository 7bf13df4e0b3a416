/**
 * Public holidays, computed per year from data: the statutory list lives in `public-holidays.za.json`
 * (fixed dates, days counted from Easter, days declared for one year, the Sunday rule); this file only
 * applies it. Pure and practice-wide: scheduling, worklists, demo data, billing (holiday tariffs) and
 * turnaround times all ask the same calendar.
 */
import { z } from 'zod';
import { addDays, isoWeekdayOf, spokenDate } from './practice-time.js';
import southAfrica from './public-holidays.za.json' with { type: 'json' };

export interface PublicHoliday {
  name: string;
  /** The statutory date, YYYY-MM-DD. */
  date: string;
  /** The day it is kept: the Monday after a Sunday holiday (when the rules say so), else the date. */
  observed: string;
  /** How the date comes about. */
  kind: 'fixed' | 'easter' | 'declared';
}

const monthDay = z.string().regex(/^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'must be MM-DD');

const holidayRulesSchema = z.object({
  country: z.string().regex(/^[A-Z]{2}$/),
  /** Years before this have no holidays under these rules (the Act's commencement). */
  from_year: z.number().int(),
  /** "Whenever a public holiday falls on a Sunday, the Monday following on it shall be a public holiday." */
  sunday_moves_to_monday: z.boolean(),
  holidays: z.array(
    z.union([
      z.object({ name: z.string().min(1), month_day: monthDay }).strict(),
      z.object({ name: z.string().min(1), days_from_easter: z.number().int().min(-60).max(60) }).strict(),
    ]),
  ),
  declared: z
    .array(z.object({ name: z.string().min(1), date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/) }).strict())
    .default([]),
});

export type HolidayRules = z.output<typeof holidayRulesSchema>;

/** Checks a rules document (a data file), naming every problem at once. */
export function holidayRules(document: unknown, source = 'holiday rules'): HolidayRules {
  const parsed = holidayRulesSchema.safeParse(document);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`${source} are invalid: ${problems}`);
  }
  return parsed.data;
}

/** South Africa's statutory public holidays (Public Holidays Act 36 of 1994). */
export const SOUTH_AFRICA: HolidayRules = holidayRules(southAfrica, 'public-holidays.za.json');

/** Western (Gregorian) Easter Sunday of a year, YYYY-MM-DD (the anonymous Gregorian algorithm). */
export function easterSunday(year: number): string {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

const byYear = new WeakMap<HolidayRules, Map<number, readonly PublicHoliday[]>>();

/** A year's public holidays in date order, each with the day it is observed. */
export function publicHolidays(year: number, rules: HolidayRules = SOUTH_AFRICA): readonly PublicHoliday[] {
  let cache = byYear.get(rules);
  if (!cache) {
    cache = new Map();
    byYear.set(rules, cache);
  }
  let list = cache.get(year);
  if (!list) {
    list = computeYear(year, rules);
    cache.set(year, list);
  }
  return list;
}

function computeYear(year: number, rules: HolidayRules): readonly PublicHoliday[] {
  if (!Number.isInteger(year) || year < rules.from_year || year > 9999) return [];
  const easter = easterSunday(year);
  const observe = (date: string): string =>
    rules.sunday_moves_to_monday && isoWeekdayOf(date) === 7 ? addDays(date, 1) : date;
  const list: PublicHoliday[] = rules.holidays.map((h) => {
    const date = 'month_day' in h ? `${year}-${h.month_day}` : addDays(easter, h.days_from_easter);
    return { name: h.name, date, observed: observe(date), kind: 'month_day' in h ? 'fixed' : 'easter' };
  });
  for (const d of rules.declared) {
    if (d.date.startsWith(`${year}-`))
      list.push({ name: d.name, date: d.date, observed: d.date, kind: 'declared' });
  }
  return list.sort((x, y) => x.date.localeCompare(y.date) || x.observed.localeCompare(y.observed));
}

/**
 * The holidays that make a day a public holiday: those whose date it is, and those observed on it (the
 * Monday after a Sunday holiday). Empty on an ordinary day.
 */
export function holidaysOn(date: string, rules: HolidayRules = SOUTH_AFRICA): PublicHoliday[] {
  const year = Number(date.slice(0, 4));
  // A holiday observed a day late may belong to the year before (31 December on a Sunday).
  return [...publicHolidays(year - 1, rules), ...publicHolidays(year, rules)].filter(
    (h) => h.date === date || h.observed === date,
  );
}

/**
 * What a public holiday makes of a day, to follow "<day> is ": "the Day of Reconciliation, a public
 * holiday", "a public holiday (National Women's Day falls on Sun 9 Aug 2026)", "a declared public holiday
 * (General election day)". Undefined on an ordinary day.
 */
export function publicHolidayPhrase(date: string, rules: HolidayRules = SOUTH_AFRICA): string | undefined {
  const holidays = holidaysOn(date, rules);
  const onTheDay = holidays.find((h) => h.date === date);
  if (onTheDay?.kind === 'declared') return `a declared public holiday (${onTheDay.name})`;
  if (onTheDay) return `${/^Day of /.test(onTheDay.name) ? 'the ' : ''}${onTheDay.name}, a public holiday`;
  const moved = holidays[0];
  return moved ? `a public holiday (${moved.name} falls on ${spokenDate(moved.date)})` : undefined;
}
