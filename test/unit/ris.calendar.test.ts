import { describe, expect, it } from 'vitest';
import { type Closure, closedDay, PracticeCalendar } from '../../src/modules/ris/ris.calendar.js';
import { findFreeSlot, hoursFromRows, type RoomSchedule } from '../../src/modules/ris/ris.rules.js';

const TZ = 'Africa/Johannesburg';
const weekdays = [1, 2, 3, 4, 5].map((d) => ({ iso_weekday: d, opens_at: '08:00', closes_at: '12:00' }));
const room = (roomId: number, name: string): RoomSchedule => ({
  roomId,
  room: name,
  gridMinutes: 15,
  hours: hoursFromRows(weekdays),
});
const at = (local: string) => new Date(`${local}:00+02:00`);
const ct1 = room(1, 'CT-1');
const ct2 = room(2, 'CT-2');

function closure(
  id: number,
  roomId: number | null,
  firstDay: string,
  lastDay: string,
  reason: string,
): Closure {
  return {
    closureId: id,
    roomId,
    room: roomId === null ? null : `CT-${roomId}`,
    firstDay,
    lastDay,
    reason,
    createdBy: 'admin',
    createdAt: new Date(0),
  };
}

describe('practice calendar', () => {
  it('a public holiday closes every room unless it opens for that day; a closure wins over an opening', () => {
    const calendar = new PracticeCalendar(
      [closure(7, 2, '2026-12-25', '2026-12-25', 'Scanner service')],
      [
        { roomId: 1, day: '2026-12-25' },
        { roomId: 2, day: '2026-12-25' },
      ],
    );
    expect(calendar.closedReason(1, '2026-12-16')).toMatchObject({
      kind: 'holiday',
      phrase: 'the Day of Reconciliation, a public holiday',
    });
    expect(calendar.closedReason(1, '2026-12-25')).toBeUndefined();
    expect(calendar.closedReason(2, '2026-12-25')).toMatchObject({ kind: 'closure' });
    expect(calendar.closedReason(1, '2026-12-17')).toBeUndefined();
  });

  it('says why a day is closed: holiday, practice closure, room closures, weekday', () => {
    const calendar = new PracticeCalendar([
      closure(1, null, '2026-12-07', '2026-12-08', 'Staff training'),
      closure(2, 1, '2026-12-09', '2026-12-09', 'Scanner service'),
      closure(3, 2, '2026-12-09', '2026-12-10', 'Tube replacement'),
    ]);
    const rooms = [ct1, ct2];
    const say = (date: string, which = {}) => closedDay(date, date, rooms, calendar, which);
    expect(say('2026-12-16', { modality: 'CT' })).toEqual({
      sentence: '2026-12-16 is the Day of Reconciliation, a public holiday: the practice is closed.',
      details: { reason: 'public_holiday', holiday: 'Day of Reconciliation' },
    });
    expect(say('2026-12-08')).toEqual({
      sentence: '2026-12-08: the practice is closed (Staff training).',
      details: { reason: 'closure', closure_id: 1 },
    });
    expect(say('2026-12-09')?.sentence).toBe(
      '2026-12-09: CT-1 is closed (Scanner service); CT-2 is closed (Tube replacement).',
    );
    expect(say('2026-12-10')).toBeUndefined(); // CT-1 works
    expect(say('2026-12-06', { modality: 'CT' })?.sentence).toBe(
      '2026-12-06 is a Sunday: the CT rooms are closed.',
    );
  });

  it('with a room open for the holiday, the others are "closed", not the practice', () => {
    const calendar = new PracticeCalendar([], [{ roomId: 9, day: '2026-12-16' }]);
    expect(closedDay('2026-12-16', 'Wed 16 Dec 2026', [ct1], calendar, { room: 'CT-1' })?.sentence).toBe(
      'Wed 16 Dec 2026 is the Day of Reconciliation, a public holiday: CT-1 is closed.',
    );
  });

  it('the free-slot search skips closed days, also for a requested start', () => {
    const calendar = new PracticeCalendar([closure(1, 1, '2026-12-17', '2026-12-17', 'Service')]);
    const slot = findFreeSlot({
      rooms: [ct1],
      busy: new Map(),
      durationMinutes: 30,
      from: at('2026-12-15T11:45'),
      until: at('2026-12-31T00:00'),
      timeZone: TZ,
      preferredStart: at('2026-12-16T09:00'),
      closed: calendar.isClosed,
    });
    // Tuesday 11:45 + 30 min runs past closing; Wednesday is a holiday, Thursday closed: Friday 08:00.
    expect(slot?.start).toEqual(at('2026-12-18T08:00'));
  });
});
