import { describe, expect, it } from 'vitest';
import {
  localParts,
  localToInstant,
  offsetMinutes,
  parseCallerTime,
  toZonedIso,
} from '../../src/core/practice-time.js';
import {
  findFreeSlot,
  hoursFromRows,
  luhnValid,
  type RoomSchedule,
  saIdProblem,
  saIdSex,
} from '../../src/modules/ris/ris.rules.js';

const TZ = 'Africa/Johannesburg';
const weekdays = [1, 2, 3, 4, 5].map((d) => ({ iso_weekday: d, opens_at: '08:00', closes_at: '12:00' }));
const room = (roomId: number, name: string): RoomSchedule => ({
  roomId,
  room: name,
  gridMinutes: 15,
  hours: hoursFromRows([
    ...weekdays,
    // Lunch break on Mondays only in this test room: a second window.
    { iso_weekday: 1, opens_at: '13:00', closes_at: '16:00' },
  ]),
});
const at = (local: string) => new Date(`${local}:00+02:00`);

describe('practice time', () => {
  it('formats with the explicit +02:00 offset and reads caller times', () => {
    expect(toZonedIso(new Date('2026-03-02T07:30:00Z'), TZ)).toBe('2026-03-02T09:30:00+02:00');
    expect(parseCallerTime('2026-03-02T09:30', TZ).toISOString()).toBe('2026-03-02T07:30:00.000Z');
    expect(parseCallerTime('2026-03-02T09:30:00Z', TZ).toISOString()).toBe('2026-03-02T09:30:00.000Z');
    expect(localToInstant('2026-03-02', 0, TZ).toISOString()).toBe('2026-03-01T22:00:00.000Z');
    expect(localParts(new Date('2026-03-01T22:30:00Z'), TZ)).toEqual({
      date: '2026-03-02',
      minutes: 30,
      isoWeekday: 1,
    });
  });

  it('handles a zone with DST (the helpers are not hard-wired to +02:00)', () => {
    expect(toZonedIso(new Date('2026-07-01T12:00:00Z'), 'Europe/London')).toBe('2026-07-01T13:00:00+01:00');
    expect(localToInstant('2026-07-01', 13 * 60, 'Europe/London').toISOString()).toBe(
      '2026-07-01T12:00:00.000Z',
    );
  });
});

/** The offset straight from Intl, for every instant (what the cached offsets must agree with). */
function intlOffset(instant: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(instant);
  const n = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  const wall = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
  return Math.round((wall - Math.floor(instant.getTime() / 1000) * 1000) / 60_000);
}

describe('zone offsets (cached per quarter hour)', () => {
  it('agree with Intl at every instant around DST changes, including odd offsets and 30-minute shifts', () => {
    const around: [string, string][] = [
      ['Europe/London', '2026-03-29T01:00:00Z'],
      ['Europe/London', '2026-10-25T01:00:00Z'],
      ['America/New_York', '2026-03-08T07:00:00Z'],
      ['Australia/Lord_Howe', '2026-04-04T15:00:00Z'],
      ['Asia/Kathmandu', '2026-01-01T00:00:00Z'],
      ['Africa/Johannesburg', '2026-06-01T00:00:00Z'],
    ];
    for (const [zone, transition] of around) {
      const middle = Date.parse(transition);
      // Every 7 minutes and 13 seconds for three hours either side: lands on both sides of each edge.
      for (let t = middle - 3 * 3_600_000; t <= middle + 3 * 3_600_000; t += 433_000) {
        const instant = new Date(t);
        expect(offsetMinutes(instant, zone), `${zone} ${instant.toISOString()}`).toBe(
          intlOffset(instant, zone),
        );
      }
    }
  });

  it('reads local dates and times through the same offsets', () => {
    expect(localParts(new Date('2026-03-29T00:59:00Z'), 'Europe/London')).toEqual({
      date: '2026-03-29',
      minutes: 59,
      isoWeekday: 7,
    });
    expect(localParts(new Date('2026-03-29T01:00:00Z'), 'Europe/London')).toEqual({
      date: '2026-03-29',
      minutes: 120,
      isoWeekday: 7,
    });
    expect(toZonedIso(new Date('2026-04-04T15:00:00Z'), 'Australia/Lord_Howe')).toBe(
      '2026-04-05T01:30:00+10:30',
    );
  });
});

describe('findFreeSlot', () => {
  const base = { durationMinutes: 30, timeZone: TZ, until: at('2026-03-10T00:00') };

  it('takes the preferred time when free, else the next grid slot around bookings', () => {
    const rooms = [room(1, 'CT-1')];
    const busy = new Map([[1, [{ start: at('2026-03-02T09:00'), end: at('2026-03-02T09:40') }]]]);
    const free = findFreeSlot({
      ...base,
      rooms,
      busy,
      from: at('2026-03-02T08:10'),
      preferredStart: at('2026-03-02T08:10'),
    });
    expect(free?.start).toEqual(at('2026-03-02T08:10'));
    const moved = findFreeSlot({
      ...base,
      rooms,
      busy,
      from: at('2026-03-02T08:45'),
      preferredStart: at('2026-03-02T08:45'),
    });
    expect(moved?.start).toEqual(at('2026-03-02T09:45'));
  });

  it('skips closed hours and lunch breaks, and returns undefined past the window', () => {
    const rooms = [room(1, 'CT-1')];
    const empty = new Map();
    expect(findFreeSlot({ ...base, rooms, busy: empty, from: at('2026-03-02T11:45') })?.start).toEqual(
      at('2026-03-02T13:00'),
    );
    expect(findFreeSlot({ ...base, rooms, busy: empty, from: at('2026-03-03T11:45') })?.start).toEqual(
      at('2026-03-04T08:00'),
    );
    expect(findFreeSlot({ ...base, rooms, busy: empty, from: at('2026-03-06T11:45') })?.start).toEqual(
      at('2026-03-09T08:00'),
    );
    expect(
      findFreeSlot({
        ...base,
        rooms,
        busy: empty,
        from: at('2026-03-06T11:45'),
        until: at('2026-03-07T00:00'),
      }),
    ).toBeUndefined();
  });

  it('picks the room that is free first; ties go to the first room', () => {
    const rooms = [room(1, 'CT-1'), room(2, 'CT-2')];
    const busy = new Map([[1, [{ start: at('2026-03-02T08:00'), end: at('2026-03-02T09:00') }]]]);
    expect(findFreeSlot({ ...base, rooms, busy, from: at('2026-03-02T08:00') })).toMatchObject({
      room: 'CT-2',
    });
    expect(findFreeSlot({ ...base, rooms, busy: new Map(), from: at('2026-03-02T08:00') })).toMatchObject({
      room: 'CT-1',
    });
  });
});

describe('SA ID numbers', () => {
  it.each([
    ['8001015009087', undefined],
    ['8001015009088', 'check digit is wrong (Luhn); please re-check the number'],
    ['8013015009087', 'does not start with a valid date of birth (YYMMDD)'],
    ['8002305009087', 'does not start with a valid date of birth (YYMMDD)'],
    ['8001015009287', 'citizenship digit (11th) must be 0 or 1'],
    ['800101500908', 'must be 13 digits'],
  ])('%s → %s', (id, problem) => {
    expect(saIdProblem(id)).toBe(problem);
  });

  it('reads the sex digits and checks Luhn', () => {
    expect(saIdSex('8001015009087')).toBe('M');
    expect(saIdSex('8001014009087')).toBe('F');
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('79927398710')).toBe(false);
  });
});
