/**
 * The practice calendar: public holidays (computed), closures and holiday openings, as tools, and what
 * scheduling and the worklist make of them. Days are found from the product clock (the suite runs this
 * file on a Monday, a Saturday and a Sunday), never hard-coded.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, isoWeekdayOf, spokenDate } from '../../src/core/practice-time.js';
import { holidaysOn, publicHolidayPhrase } from '../../src/core/public-holidays.js';
import { risDb } from '../../src/modules/ris/ris.tables.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { practiceTime, testNow, testToday } from '../harness/clock.js';
import {
  call,
  createOrder,
  createPhysician,
  createRoomSet,
  nextMonday,
  registerPatient,
} from '../harness/ris.js';

let t: TestApp;
let practice: string;
let patient: string;

beforeAll(async () => {
  t = await startTestApp();
  practice = (await createPhysician(t)).practiceNumber;
  patient = await registerPatient(t);
});
afterAll(() => t.close());

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** The first Monday-Friday public holiday (on its own date) at least `after` days from today. */
function weekdayHoliday(after: number): string {
  for (let ahead = after; ahead < 85; ahead++) {
    const day = addDays(testToday(), ahead);
    if (isoWeekdayOf(day) <= 5 && holidaysOn(day).some((h) => h.date === day)) return day;
  }
  throw new Error('no weekday public holiday in the booking window');
}

/** The next Monday-Friday day after `day` that is not a public holiday. */
function nextWorkingDay(day: string): string {
  let next = addDays(day, 1);
  while (isoWeekdayOf(next) > 5 || holidaysOn(next).length > 0) next = addDays(next, 1);
  return next;
}

const schedule = (params: Record<string, unknown>) =>
  call(t, 'ris_schedule_appointment', params, 'receptionist');

describe('ris_list_holidays', () => {
  it('lists a year’s holidays with the day each is observed; any RIS reader may ask', async () => {
    const res = await call(t, 'ris_list_holidays', { year: 2026 }, 'receptionist');
    expect(res.status, JSON.stringify(res.error)).toBe(200);
    expect(res.result).toMatchObject({ year: 2026, country: 'ZA', count: 12 });
    expect(res.result.holidays).toContainEqual({
      name: "National Women's Day",
      date: '2026-08-09',
      weekday: 'Sunday',
      observed_date: '2026-08-10',
      observed_weekday: 'Monday',
      kind: 'fixed',
    });
    expect(res.result.holidays[2]).toMatchObject({ name: 'Good Friday', date: '2026-04-03', kind: 'easter' });
    const thisYear = await call(t, 'ris_list_holidays', {}, 'radiographer');
    expect(thisYear.result.year).toBe(Number(testToday().slice(0, 4)));
    const early = await call(t, 'ris_list_holidays', { year: 1990 }, 'receptionist');
    expect(early.error.details.fields[0]).toMatchObject({ field: 'year' });
  });
});

describe('booking on a public holiday', () => {
  const holiday = weekdayHoliday(3);
  const after = nextWorkingDay(holiday);

  it('a requested time on a holiday is refused with the holiday’s name and the next open slot', async () => {
    const set = await createRoomSet(t, { rooms: 1 });
    const order = await createOrder(t, patient, set.procedureCode, practice);
    const res = await schedule({ accession_number: order, start_time: `${holiday}T09:00` });
    expect(res.status).toBe(409);
    expect(res.error).toEqual({
      error_code: 'CONFLICT',
      message:
        `${spokenDate(holiday)} is ${publicHolidayPhrase(holiday)}: the practice is closed. ` +
        `The next open slot is ${spokenDate(after)} 08:00 in ${set.rooms[0]}; book that time, or ask for another.`,
      request_id: expect.any(String),
      details: {
        reason: 'public_holiday',
        holiday: holidaysOn(holiday)[0]!.name,
        requested_start: `${holiday}T09:00:00+02:00`,
        next_free_start: `${after}T08:00:00+02:00`,
        room: set.rooms[0],
      },
    });
    if (holiday === '2026-12-16')
      expect(res.error.message).toMatch(
        /^Wed 16 Dec 2026 is the Day of Reconciliation, a public holiday: the practice is closed\./,
      );
  });

  it('the earliest free slot skips the holiday; moving onto it is refused too', async () => {
    const set = await createRoomSet(t, { rooms: 1, weekdays: [1, 2, 3, 4, 5, 6, 7] });
    const order = await createOrder(t, patient, set.procedureCode, practice);
    let dayAfter = addDays(holiday, 1);
    while (holidaysOn(dayAfter).length > 0) dayAfter = addDays(dayAfter, 1);
    t.clock.set(practiceTime(addDays(holiday, -1), '11:50')); // the eve, after its last slot
    try {
      const booked = await schedule({ accession_number: order });
      expect(booked.result.appointment.scheduled_start).toBe(`${dayAfter}T08:00:00+02:00`);
      const moved = await call(
        t,
        'ris_reschedule_appointment',
        { appointment_id: booked.result.appointment.appointment_id, start_time: `${holiday}T10:00` },
        'receptionist',
      );
      expect(moved.error).toMatchObject({ error_code: 'CONFLICT', details: { reason: 'public_holiday' } });
      // Stat on the holiday itself: today only, and today is closed. The answer says why first.
      t.clock.set(practiceTime(holiday, '09:00'));
      const stat = await createOrder(t, patient, set.procedureCode, practice, 'stat');
      const res = await schedule({ accession_number: stat });
      expect(res.error.message).toMatch(
        new RegExp(`^${spokenDate(holiday)} is .*a public holiday.*: the practice is closed\\. No free`),
      );
    } finally {
      t.clock.set(testNow());
    }
  });

  it('the worklist of a holiday says it is closed, names the holiday and the next open day', async () => {
    const set = await createRoomSet(t, { rooms: 1 });
    const res = await call(t, 'ris_get_worklist', { date: holiday, modality: set.modality }, 'receptionist');
    expect(res.result).toMatchObject({
      date: holiday,
      open: false,
      next_open_date: after,
      closed_notice:
        `${holiday} is ${publicHolidayPhrase(holiday)}: the practice is closed. ` +
        `Next open day: ${WEEKDAYS[isoWeekdayOf(after) - 1]} ${after}.`,
      count: 0,
    });
  });
});

describe('a room open on a public holiday', () => {
  // A later holiday than the one the tests above use, so opening a room here changes nothing for them.
  const holiday = weekdayHoliday((Date.parse(weekdayHoliday(3)) - Date.parse(testToday())) / 86_400_000 + 1);

  it('books that room with its weekday hours; the other rooms stay closed; taken back, it is closed again', async () => {
    const set = await createRoomSet(t, { rooms: 2 });
    const [a, b, c] = [
      await createOrder(t, patient, set.procedureCode, practice),
      await createOrder(t, patient, set.procedureCode, practice),
      await createOrder(t, patient, set.procedureCode, practice),
    ];
    const opened = await call(
      t,
      'ris_open_room_on_holiday',
      { room: set.rooms[0], date: holiday, reason: 'Trauma cover' },
      'admin',
    );
    expect(opened.status, JSON.stringify(opened.error)).toBe(200);
    expect(opened.result).toMatchObject({ room: set.rooms[0], date: holiday, open: true });

    const there = await schedule({ accession_number: a, start_time: `${holiday}T09:00`, room: set.rooms[0] });
    expect(there.result).toMatchObject({
      moved: false,
      appointment: { scheduled_start: `${holiday}T09:00:00+02:00` },
    });
    const elsewhere = await schedule({
      accession_number: b,
      start_time: `${holiday}T09:00`,
      room: set.rooms[1],
    });
    expect(elsewhere.error.message).toMatch(
      new RegExp(`^${spokenDate(holiday)} is .*a public holiday: ${set.rooms[1]} is closed\\.`),
    );
    const listed = await call(t, 'ris_list_closures', { from: holiday, to: holiday }, 'receptionist');
    expect(listed.result.holiday_openings).toContainEqual({
      room: set.rooms[0],
      date: holiday,
      holiday: holidaysOn(holiday)[0]!.name,
      reason: 'Trauma cover',
      created_by: expect.any(String),
    });

    const closed = await call(
      t,
      'ris_open_room_on_holiday',
      { room: set.rooms[0], date: holiday, open: false },
      'admin',
    );
    expect(closed.result.open).toBe(false);
    const again = await schedule({ accession_number: c, start_time: `${holiday}T10:00`, room: set.rooms[0] });
    expect(again.error).toMatchObject({ error_code: 'CONFLICT', details: { reason: 'public_holiday' } });
  });

  it('only on a public holiday, and only for administrators', async () => {
    const set = await createRoomSet(t, { rooms: 1 });
    const ordinary = nextWorkingDay(testToday());
    const res = await call(t, 'ris_open_room_on_holiday', { room: set.rooms[0], date: ordinary }, 'admin');
    expect(res.error.details.fields[0]).toMatchObject({
      field: 'date',
      message: expect.stringMatching(/is not a public holiday/),
    });
    const desk = await call(
      t,
      'ris_open_room_on_holiday',
      { room: set.rooms[0], date: holiday },
      'receptionist',
    );
    expect(desk.error.error_code).toBe('FORBIDDEN');
  });
});

describe('closures', () => {
  // A working day no other test here books: the whole practice closes on it.
  const day = nextWorkingDay(nextMonday(35));

  it('closing the practice lists the bookings to move, refuses new ones, shows in the worklist; removing it reopens', async () => {
    const set = await createRoomSet(t, { rooms: 1 });
    const [booked, refused] = [
      await createOrder(t, patient, set.procedureCode, practice),
      await createOrder(t, patient, set.procedureCode, practice),
    ];
    const existing = await schedule({ accession_number: booked, start_time: `${day}T09:00` });
    expect(existing.status).toBe(200);

    const added = await call(t, 'ris_add_closure', { first_day: day, reason: 'Staff training' }, 'admin');
    expect(added.status, JSON.stringify(added.error)).toBe(200);
    const closureId = added.result.closure.closure_id;
    expect(added.result.closure).toMatchObject({
      room: null,
      first_day: day,
      last_day: day,
      reason: 'Staff training',
    });
    expect(added.result.appointments_to_move).toContainEqual({
      appointment_id: existing.result.appointment.appointment_id,
      room: set.rooms[0],
      scheduled_start: `${day}T09:00:00+02:00`,
    });
    expect(added.result.message).toMatch(
      new RegExp(
        `^Closed the practice on ${spokenDate(day)} \\(Staff training\\)\\. \\d+ appointments? (is|are) booked`,
      ),
    );

    const res = await schedule({ accession_number: refused, start_time: `${day}T10:00` });
    const next = nextWorkingDay(day);
    expect(res.error).toMatchObject({
      error_code: 'CONFLICT',
      message:
        `${spokenDate(day)}: the practice is closed (Staff training). ` +
        `The next open slot is ${spokenDate(next)} 08:00 in ${set.rooms[0]}; book that time, or ask for another.`,
      details: { reason: 'closure', closure_id: closureId },
    });
    const worklist = await call(t, 'ris_get_worklist', { date: day, modality: set.modality }, 'radiographer');
    expect(worklist.result).toMatchObject({
      open: false,
      next_open_date: next,
      closed_notice: `${day}: the practice is closed (Staff training). Next open day: ${WEEKDAYS[isoWeekdayOf(next) - 1]} ${next}.`,
    });
    const listed = await call(t, 'ris_list_closures', {}, 'receptionist');
    expect(listed.result.closures.map((c: { closure_id: number }) => c.closure_id)).toContain(closureId);

    const removed = await call(t, 'ris_remove_closure', { closure_id: closureId }, 'admin');
    expect(removed.result.message).toBe(
      `Removed the closure of the practice on ${spokenDate(day)} (Staff training).`,
    );
    expect((await schedule({ accession_number: refused, start_time: `${day}T10:00` })).status).toBe(200);
    const gone = await call(t, 'ris_remove_closure', { closure_id: closureId }, 'admin');
    expect(gone.error.error_code).toBe('NOT_FOUND');
  });

  it('a room closure closes that room only, for every day of its range', async () => {
    const set = await createRoomSet(t, { rooms: 2, durationMinutes: 30 });
    const first = nextWorkingDay(nextMonday(42));
    const last = nextWorkingDay(first);
    const added = await call(
      t,
      'ris_add_closure',
      { first_day: first, last_day: last, room: set.rooms[0]!.toLowerCase(), reason: 'Scanner service' },
      'admin',
    );
    expect(added.result).toMatchObject({
      closure: { room: set.rooms[0], first_day: first, last_day: last },
      appointments_to_move: [],
      message: `Closed ${set.rooms[0]} on ${spokenDate(first)} to ${spokenDate(last)} (Scanner service). No appointments are booked in that time.`,
    });
    const [a, b] = [
      await createOrder(t, patient, set.procedureCode, practice),
      await createOrder(t, patient, set.procedureCode, practice),
    ];
    const named = await schedule({ accession_number: a, start_time: `${last}T09:00`, room: set.rooms[0] });
    expect(named.error.message).toMatch(
      new RegExp(
        `^${spokenDate(last)}: ${set.rooms[0]} is closed \\(Scanner service\\)\\. The next open slot is`,
      ),
    );
    const any = await schedule({ accession_number: b, start_time: `${first}T09:00` });
    expect(any.result.appointment).toMatchObject({
      room: set.rooms[1],
      scheduled_start: `${first}T09:00:00+02:00`,
    });
  });

  it('checks its input, and only administrators may change closures', async () => {
    const day2 = nextWorkingDay(testToday());
    const backwards = await call(
      t,
      'ris_add_closure',
      { first_day: day2, last_day: addDays(day2, -1), reason: 'Oops' },
      'admin',
    );
    expect(backwards.error.details.fields[0]).toMatchObject({ field: 'last_day' });
    const past = await call(t, 'ris_add_closure', { first_day: '2020-01-06', reason: 'Long ago' }, 'admin');
    expect(past.error.details.fields[0]).toMatchObject({
      field: 'last_day',
      message: expect.stringMatching(/past/),
    });
    const noRoom = await call(
      t,
      'ris_add_closure',
      { first_day: day2, room: 'NOPE-1', reason: 'Service' },
      'admin',
    );
    expect(noRoom.error.error_code).toBe('NOT_FOUND');
    for (const role of ['receptionist', 'radiographer', 'radiologist'] as const) {
      const res = await call(t, 'ris_add_closure', { first_day: day2, reason: 'Not mine' }, role);
      expect(res.error.error_code).toBe('FORBIDDEN');
      expect((await call(t, 'ris_remove_closure', { closure_id: 1 }, role)).error.error_code).toBe(
        'FORBIDDEN',
      );
    }
  });

  it('the application role may use the new tables (migration 0016 grants)', async () => {
    const { rows } = await sql<{ closures: boolean; openings: boolean; seq: boolean }>`
      SELECT has_table_privilege('upc_app', 'ris.closures', 'SELECT,INSERT,UPDATE,DELETE') AS closures,
             has_table_privilege('upc_app', 'ris.holiday_openings', 'SELECT,INSERT,UPDATE,DELETE') AS openings,
             has_sequence_privilege('upc_app', 'ris.closures_closure_id_seq', 'USAGE') AS seq`.execute(
      risDb(t.app.parts.database),
    );
    expect(rows[0]).toEqual({ closures: true, openings: true, seq: true });
  });
});
