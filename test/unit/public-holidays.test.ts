import { describe, expect, it } from 'vitest';
import {
  easterSunday,
  holidayRules,
  holidaysOn,
  publicHolidayPhrase,
  publicHolidays,
} from '../../src/core/public-holidays.js';

/** name → [date, observed] for a year. */
function table(year: number): Record<string, [string, string]> {
  return Object.fromEntries(publicHolidays(year).map((h) => [h.name, [h.date, h.observed]]));
}

describe('South African public holidays', () => {
  it('2026: Easter 5 April; National Women’s Day on a Sunday is kept on Monday 10 August', () => {
    expect(easterSunday(2026)).toBe('2026-04-05');
    expect(table(2026)).toEqual({
      "New Year's Day": ['2026-01-01', '2026-01-01'], // Thursday
      'Human Rights Day': ['2026-03-21', '2026-03-21'], // Saturday: stays (only Sundays move)
      'Good Friday': ['2026-04-03', '2026-04-03'],
      'Family Day': ['2026-04-06', '2026-04-06'],
      'Freedom Day': ['2026-04-27', '2026-04-27'], // Monday
      "Workers' Day": ['2026-05-01', '2026-05-01'], // Friday
      'Youth Day': ['2026-06-16', '2026-06-16'], // Tuesday
      "National Women's Day": ['2026-08-09', '2026-08-10'], // Sunday → Monday
      'Heritage Day': ['2026-09-24', '2026-09-24'], // Thursday
      'Day of Reconciliation': ['2026-12-16', '2026-12-16'], // Wednesday
      'Christmas Day': ['2026-12-25', '2026-12-25'], // Friday
      'Day of Goodwill': ['2026-12-26', '2026-12-26'], // Saturday
    });
    expect(publicHolidays(2026).map((h) => h.date)).toEqual(
      [...publicHolidays(2026).map((h) => h.date)].sort(),
    );
  });

  it('2027: Easter 28 March; Human Rights Day and the Day of Goodwill fall on Sundays', () => {
    expect(easterSunday(2027)).toBe('2027-03-28');
    expect(table(2027)).toMatchObject({
      'Human Rights Day': ['2027-03-21', '2027-03-22'],
      'Good Friday': ['2027-03-26', '2027-03-26'],
      'Family Day': ['2027-03-29', '2027-03-29'],
      'Freedom Day': ['2027-04-27', '2027-04-27'],
      "Workers' Day": ['2027-05-01', '2027-05-01'], // Saturday
      "National Women's Day": ['2027-08-09', '2027-08-09'],
      'Christmas Day': ['2027-12-25', '2027-12-25'], // Saturday
      'Day of Goodwill': ['2027-12-26', '2027-12-27'], // Sunday → Monday
    });
  });

  it('Easter Sunday for known years (including the earliest and latest dates it can fall on)', () => {
    expect([1995, 2000, 2008, 2011, 2019, 2024, 2025, 2038, 2285].map(easterSunday)).toEqual([
      '1995-04-16',
      '2000-04-23',
      '2008-03-23',
      '2011-04-24',
      '2019-04-21',
      '2024-03-31',
      '2025-04-20',
      '2038-04-25',
      '2285-03-22',
    ]);
  });

  it('Christmas on a Sunday is kept on the Monday, which is also the Day of Goodwill; declared days are listed', () => {
    const y2022 = publicHolidays(2022);
    expect(y2022.find((h) => h.name === 'Christmas Day')).toMatchObject({
      date: '2022-12-25',
      observed: '2022-12-26',
    });
    expect(y2022.filter((h) => h.kind === 'declared').map((h) => h.date)).toEqual(['2022-12-27']);
    expect(holidaysOn('2022-12-26').map((h) => h.name)).toEqual(['Christmas Day', 'Day of Goodwill']);
    expect(publicHolidays(2024).some((h) => h.date === '2024-05-29' && h.kind === 'declared')).toBe(true);
  });

  it('nothing before the Act (1995)', () => {
    expect(publicHolidays(1994)).toEqual([]);
    expect(publicHolidays(1995)).toHaveLength(12);
  });

  it('says what a day is, in words', () => {
    expect(publicHolidayPhrase('2026-12-16')).toBe('the Day of Reconciliation, a public holiday');
    expect(publicHolidayPhrase('2026-12-25')).toBe('Christmas Day, a public holiday');
    expect(publicHolidayPhrase('2026-08-10')).toBe(
      "a public holiday (National Women's Day falls on Sun 9 Aug 2026)",
    );
    expect(publicHolidayPhrase('2024-05-29')).toBe('a declared public holiday (General election day)');
    expect(publicHolidayPhrase('2026-12-17')).toBeUndefined();
  });

  it('the rules are data: another list is checked and applied the same way', () => {
    const rules = holidayRules({
      country: 'XX',
      from_year: 2000,
      sunday_moves_to_monday: false,
      holidays: [{ name: 'Founders Day', month_day: '08-09' }],
    });
    expect(publicHolidays(2026, rules)).toEqual([
      { name: 'Founders Day', date: '2026-08-09', observed: '2026-08-09', kind: 'fixed' },
    ]);
    expect(() =>
      holidayRules({
        country: 'XX',
        from_year: 2000,
        sunday_moves_to_monday: true,
        holidays: [{ name: 'x', month_day: '13-01' }],
      }),
    ).toThrow(/holidays\.0/);
  });
});
