import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, spokenDate } from '../../src/core/practice-time.js';
import { lockRoomsForBooking } from '../../src/modules/ris/ris.appointments.store.js';
import type { RisDb, RisTrx } from '../../src/modules/ris/ris.tables.js';
import { risDb } from '../../src/modules/ris/ris.tables.js';
import { WITHHELD } from '../../src/security/redaction.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { practiceTime, testNow, testToday } from '../harness/clock.js';
import {
  call,
  callConfirmed,
  createOrder,
  createPhysician,
  createRoomSet,
  nextMonday,
  registerPatient,
} from '../harness/ris.js';
import { waitUntil } from '../harness/wait.js';

let t: TestApp;
let practice: string;
let patient: string;

beforeAll(async () => {
  t = await startTestApp();
  practice = (await createPhysician(t)).practiceNumber;
  patient = await registerPatient(t);
});
afterAll(() => t.close());

async function orders(
  procedureCode: string,
  count: number,
  priority: 'routine' | 'urgent' | 'stat' = 'routine',
) {
  const list: string[] = [];
  for (let i = 0; i < count; i++) list.push(await createOrder(t, patient, procedureCode, practice, priority));
  return list;
}

async function sessionsWaitingOnLocks(): Promise<number> {
  const { rows } = await sql<{ waiting: number }>`
    SELECT count(*)::int AS waiting FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(risDb(t.app.parts.database));
  return rows[0]?.waiting ?? 0;
}

const roomRow = (name: string) =>
  risDb(t.app.parts.database)
    .selectFrom('ris.rooms')
    .select('room_id')
    .where('room', '=', name)
    .executeTakeFirstOrThrow();

/** Writes an appointment row directly, past the booking code (practice-local times, +02:00). */
function insertRawAppointment(
  db: RisDb | RisTrx,
  accessionNumber: string,
  roomId: number,
  start: string,
  end: string,
) {
  return db
    .insertInto('ris.appointments')
    .values({
      accession_number: accessionNumber,
      room_id: roomId,
      start_at: `${start}:00+02:00`,
      end_at: `${end}:00+02:00`,
      created_by: 'test',
    })
    .execute();
}

const schedule = (params: Record<string, unknown>, context: Record<string, string> = {}) =>
  call(t, 'ris_schedule_appointment', params, 'receptionist', context);

describe('slot search', () => {
  it('books the requested time when free, with the practice offset in the answer', async () => {
    const set = await createRoomSet(t, { rooms: 1 });
    const [acc] = await orders(set.procedureCode, 1);
    const day = nextMonday();
    const res = await schedule({ accession_number: acc, start_time: `${day}T09:00` });
    expect(res.status).toBe(200);
    expect(res.result).toMatchObject({
      moved: false,
      requested_start: `${day}T09:00:00+02:00`,
      patient_id: patient,
      appointment: {
        accession_number: acc,
        room: set.rooms[0],
        modality: set.modality,
        scheduled_start: `${day}T09:00:00+02:00`,
        scheduled_end: `${day}T09:30:00+02:00`,
        status: 'BOOKED',
      },
    });
    // An explicit UTC time means the same instant.
    const [acc2] = await orders(set.procedureCode, 1);
    const utc = await schedule({ accession_number: acc2, start_time: `${day}T08:00:00Z` });
    expect(utc.result.appointment.scheduled_start).toBe(`${day}T10:00:00+02:00`);
  });

  it('moves around existing bookings to the next free slot on the grid', async () => {
    const set = await createRoomSet(t, { rooms: 1, durationMinutes: 30, gridMinutes: 15 });
    const [a, b, c] = await orders(set.procedureCode, 3);
    const day = nextMonday();
    await schedule({ accession_number: a, start_time: `${day}T09:00` });
    await schedule({ accession_number: b, start_time: `${day}T09:30` });
    // 09:15 overlaps both; 09:30 is held until 10:00.
    const res = await schedule({ accession_number: c, start_time: `${day}T09:15` });
    expect(res.result.moved).toBe(true);
    expect(res.result.appointment.scheduled_start).toBe(`${day}T10:00:00+02:00`);
    expect(res.result.message).toBe(
      `The requested time was taken; booked the next free slot: ${day} 10:00 in ${set.rooms[0]}.`,
    );
  });

  it('never books outside opening hours: a request outside them is refused, offering the next open slot', async () => {
    const set = await createRoomSet(t, { rooms: 1, opens: '08:00', closes: '12:00', durationMinutes: 30 });
    const [a, b] = await orders(set.procedureCode, 2);
    const monday = nextMonday();
    const room = set.rooms[0];
    // 11:45 + 30 min would end after closing; the next opening is Tuesday 08:00.
    const late = await schedule({ accession_number: a, start_time: `${monday}T11:45` });
    expect(late.status).toBe(409);
    expect(late.error).toMatchObject({
      error_code: 'CONFLICT',
      message:
        `${spokenDate(monday)} 11:45-12:15 is outside opening hours (Mondays: ${room} 08:00-12:00). ` +
        `The next open slot is ${spokenDate(addDays(monday, 1))} 08:00 in ${room}; book that time, or ask for another.`,
      details: {
        reason: 'outside_hours',
        requested_start: `${monday}T11:45:00+02:00`,
        next_free_start: `${addDays(monday, 1)}T08:00:00+02:00`,
        room,
      },
    });
    // A Saturday (no hours at all) is a closed day; the next open slot is Monday's first.
    const saturday = addDays(monday, 5);
    const weekend = await schedule({ accession_number: b, start_time: `${saturday}T09:00` });
    expect(weekend.error.message).toBe(
      `${spokenDate(saturday)} is a Saturday: the ${set.modality} rooms are closed. ` +
        `The next open slot is ${spokenDate(addDays(monday, 7))} 08:00 in ${room}; book that time, or ask for another.`,
    );
    expect(weekend.error.details).toMatchObject({ reason: 'closed_weekday' });
    // Nothing was booked: the offered time is free for the asking.
    const offered = await schedule({
      accession_number: b,
      start_time: weekend.error.details.next_free_start,
    });
    expect(offered.result).toMatchObject({
      moved: false,
      appointment: { scheduled_start: `${addDays(monday, 7)}T08:00:00+02:00` },
    });
  });

  it('uses the room that frees up first when no room is named', async () => {
    const set = await createRoomSet(t, { rooms: 2, durationMinutes: 30 });
    const [a, b, c] = await orders(set.procedureCode, 3);
    const day = nextMonday();
    await schedule({ accession_number: a, start_time: `${day}T08:00`, room: set.rooms[0] });
    const second = await schedule({ accession_number: b, start_time: `${day}T08:00` });
    expect(second.result).toMatchObject({ moved: false, appointment: { room: set.rooms[1] } });
    const third = await schedule({ accession_number: c, start_time: `${day}T08:00` });
    expect(third.result.appointment).toMatchObject({
      room: set.rooms[0],
      scheduled_start: `${day}T08:30:00+02:00`,
    });
  });

  it('if_taken "fail" answers CONFLICT naming the next free time and room', async () => {
    const set = await createRoomSet(t, { rooms: 1 });
    const [a, b] = await orders(set.procedureCode, 2);
    const day = nextMonday();
    await schedule({ accession_number: a, start_time: `${day}T10:00` });
    const res = await schedule({ accession_number: b, start_time: `${day}T10:00`, if_taken: 'fail' });
    expect(res.status).toBe(409);
    expect(res.error).toMatchObject({
      error_code: 'CONFLICT',
      message: `Slot taken; next free ${day} 10:30 in ${set.rooms[0]}. Book that time, or ask for another.`,
      details: { room: set.rooms[0], next_free_start: `${day}T10:30:00+02:00` },
    });
  });

  it('refuses a second live appointment for one order, a past time, and a room of the wrong modality', async () => {
    const set = await createRoomSet(t, { rooms: 1 });
    const [a] = await orders(set.procedureCode, 1);
    const day = nextMonday();
    await schedule({ accession_number: a, start_time: `${day}T08:00` });
    const again = await schedule({ accession_number: a, start_time: `${day}T09:00` });
    expect(again.error.error_code).toBe('CONFLICT');
    expect(again.error.message).toMatch(/already has a live appointment; use ris_reschedule_appointment/);

    const [b] = await orders(set.procedureCode, 1);
    const past = await schedule({ accession_number: b, start_time: '2020-01-06T09:00' });
    expect(past.status).toBe(400);
    expect(past.error.details.fields[0].field).toBe('start_time');
    const wrongRoom = await schedule({ accession_number: b, room: 'CT-1' });
    expect(wrongRoom.error.message).toBe(
      `Room CT-1 is a CT room; this order needs ${set.modality}. Omit room to use any ${set.modality} room.`,
    );
  });

  it('stat takes the earliest free minute today; urgent may not be booked beyond its 2-day window', async () => {
    const set = await createRoomSet(t, {
      rooms: 1,
      opens: '00:00',
      closes: '24:00',
      weekdays: [1, 2, 3, 4, 5, 6, 7],
      durationMinutes: 15,
    });
    const today = testToday();
    const [stat, late] = await orders(set.procedureCode, 2, 'stat');
    t.clock.set(practiceTime(today, '10:02'));
    const res = await schedule({ accession_number: stat });
    expect(res.result.appointment.scheduled_start).toBe(`${today}T10:05:00+02:00`);
    // Too close to midnight for a same-day slot: the answer says so instead of booking tomorrow.
    t.clock.set(practiceTime(today, '23:50'));
    const tooLate = await schedule({ accession_number: late });
    expect(tooLate.error.error_code).toBe('CONFLICT');
    t.clock.set(testNow());

    const [urgent] = await orders(set.procedureCode, 1, 'urgent');
    const far = await schedule({ accession_number: urgent, start_time: `${addDays(today, 10)}T10:00` });
    expect(far.error).toMatchObject({ error_code: 'INVALID_PARAMETERS' });
    expect(far.error.message).toBe(
      `Invalid parameters: start_time: must be on or before ${addDays(today, 2)} (urgent orders are booked within 2 days)`,
    );
  });

  it('"in the past" and "the earliest free slot" are decided by the product clock', async () => {
    const set = await createRoomSet(t, { rooms: 1, opens: '08:00', closes: '12:00' });
    const day = nextMonday();
    const [a, b] = await orders(set.procedureCode, 2);
    t.clock.set(practiceTime(day, '10:10'));
    try {
      const past = await schedule({ accession_number: a, start_time: `${day}T09:00` });
      expect(past.error.details.fields[0]).toMatchObject({ field: 'start_time' });
      const earliest = await schedule({ accession_number: a });
      expect(earliest.result.appointment.scheduled_start).toBe(`${day}T10:15:00+02:00`);
      // The same request a day earlier (the clock moved back) books that earlier day's first slot.
      t.clock.set(practiceTime(addDays(day, -3), '07:00'));
      const friday = await schedule({ accession_number: b });
      expect(friday.result.appointment.scheduled_start).toBe(`${addDays(day, -3)}T08:00:00+02:00`);
    } finally {
      t.clock.set(testNow());
    }
  });
});

describe('no double booking under concurrency', () => {
  it('20 concurrent requests for one slot with if_taken "fail": exactly one holds it, 19 hear the next free time', async () => {
    const set = await createRoomSet(t, { rooms: 1, durationMinutes: 15, opens: '07:00', closes: '18:00' });
    const accs = await orders(set.procedureCode, 20);
    const day = nextMonday(14);
    const results = await Promise.all(
      accs.map((acc) => schedule({ accession_number: acc, start_time: `${day}T09:00`, if_taken: 'fail' })),
    );
    const winners = results.filter((r) => r.ok);
    expect(winners).toHaveLength(1);
    expect(winners[0]!.result.appointment.scheduled_start).toBe(`${day}T09:00:00+02:00`);
    for (const loser of results.filter((r) => !r.ok)) {
      expect(loser.error).toMatchObject({
        error_code: 'CONFLICT',
        message: expect.stringMatching(/^Slot taken; next free \d{4}-\d{2}-\d{2} \d{2}:\d{2} in /),
      });
    }
  });

  it('20 concurrent requests with next_free: 20 distinct, non-overlapping slots, one at the requested time', async () => {
    const set = await createRoomSet(t, { rooms: 1, durationMinutes: 15, opens: '07:00', closes: '18:00' });
    const accs = await orders(set.procedureCode, 20);
    const day = nextMonday(21);
    const results = await Promise.all(
      accs.map((acc) => schedule({ accession_number: acc, start_time: `${day}T09:00` })),
    );
    expect(results.filter((r) => !r.ok).map((r) => r.error)).toEqual([]);
    const starts = results.map((r) => r.result.appointment.scheduled_start as string).sort();
    expect(new Set(starts).size).toBe(20);
    expect(starts[0]).toBe(`${day}T09:00:00+02:00`);
    expect(results.filter((r) => !r.result.moved)).toHaveLength(1);
    // Exactly back to back: 09:00, 09:15, ... 13:45.
    expect(starts.at(-1)).toBe(`${day}T13:45:00+02:00`);
  });

  it('a booking waits while another holds the room, then sees the slot that one took', async () => {
    const set = await createRoomSet(t, { rooms: 1 });
    const [first, second] = await orders(set.procedureCode, 2);
    const day = nextMonday(28);
    const db = risDb(t.app.parts.database);
    const room = await roomRow(set.rooms[0]!);
    let release!: () => void;
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    // Another booking in flight: it holds the room while it decides, then writes 09:00 and commits.
    const other = db.transaction().execute(async (trx) => {
      await lockRoomsForBooking(trx, [room.room_id]);
      locked();
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      await insertRawAppointment(trx, first!, room.room_id, `${day}T09:00`, `${day}T09:30`);
    });
    await isLocked;
    let settled = false;
    const waiting = schedule({ accession_number: second, start_time: `${day}T09:00`, if_taken: 'fail' }).then(
      (r) => {
        settled = true;
        return r;
      },
    );
    // The booking is queued behind the room lock: PostgreSQL shows its session waiting on a lock.
    await waitUntil(async () => (await sessionsWaitingOnLocks()) > 0, {
      what: 'the booking to wait on the lock',
    });
    const queued = !settled; // waiting behind the room lock instead of taking the free 09:00
    release();
    await other;
    expect(queued).toBe(true);
    const answer = await waiting;
    expect(answer.status).toBe(409);
    expect(answer.error).toMatchObject({
      error_code: 'CONFLICT',
      details: { next_free_start: `${day}T09:30:00+02:00`, room: set.rooms[0] },
    });
  });

  it('the database itself refuses an overlapping row, whatever the application does', async () => {
    const set = await createRoomSet(t, { rooms: 1 });
    const [a, b] = await orders(set.procedureCode, 2);
    const day = nextMonday();
    const booked = await schedule({ accession_number: a, start_time: `${day}T09:00` });
    const db = risDb(t.app.parts.database);
    const room = await roomRow(set.rooms[0]!);
    const insert = insertRawAppointment(db, b!, room.room_id, `${day}T09:10`, `${day}T09:20`);
    await expect(insert).rejects.toMatchObject({ code: '23P01' });
    expect(booked.ok).toBe(true);
  });
});

describe('reschedule and cancel', () => {
  it('moves a booking (freeing the old time), records it, and only while BOOKED', async () => {
    const set = await createRoomSet(t, { rooms: 1 });
    const [a, b] = await orders(set.procedureCode, 2);
    const day = nextMonday();
    const first = await schedule({ accession_number: a, start_time: `${day}T09:00` });
    const id = first.result.appointment.appointment_id;
    const moved = await call(
      t,
      'ris_reschedule_appointment',
      { appointment_id: id, start_time: `${day}T10:00`, reason: 'Patient request' },
      'receptionist',
    );
    expect(moved.result).toMatchObject({
      moved: false,
      appointment: { appointment_id: id, scheduled_start: `${day}T10:00:00+02:00` },
    });
    // 09:00 is free again.
    const other = await schedule({ accession_number: b, start_time: `${day}T09:00`, if_taken: 'fail' });
    expect(other.ok).toBe(true);
    // Moving onto its own current time is not a clash with itself.
    const same = await call(
      t,
      'ris_reschedule_appointment',
      { appointment_id: id, start_time: `${day}T10:00`, if_taken: 'fail' },
      'receptionist',
    );
    expect(same.ok).toBe(true);

    const notes = async (role: 'radiographer' | 'receptionist') =>
      (await call(t, 'ris_get_order', { accession_number: a }, role)).result.status_history.map(
        (h: { note: string | null }) => h.note,
      );
    expect(await notes('radiographer')).toEqual([
      null,
      `moved from ${day}T09:00:00+02:00 in ${set.rooms[0]}: Patient request`,
      `moved from ${day}T10:00:00+02:00 in ${set.rooms[0]}`,
    ]);
    // Status notes are free text ("contrast reaction, urticaria"): clinical text, withheld from the desk.
    expect(await notes('receptionist')).toEqual([null, WITHHELD, WITHHELD]);

    await call(t, 'ris_update_study_status', { appointment_id: id, status: 'REGISTERED' }, 'receptionist');
    const late = await call(
      t,
      'ris_reschedule_appointment',
      { appointment_id: id, start_time: `${day}T11:00` },
      'receptionist',
    );
    expect(late.error).toMatchObject({
      error_code: 'CONFLICT',
      message: `Appointment ${id} is REGISTERED; only BOOKED appointments can be moved.`,
    });
  });

  it('cancelling needs confirmation, frees the slot, and lets the order be booked again', async () => {
    const set = await createRoomSet(t, { rooms: 1 });
    const [a, b] = await orders(set.procedureCode, 2);
    const day = nextMonday();
    const first = await schedule({ accession_number: a, start_time: `${day}T09:00` });
    const id = first.result.appointment.appointment_id;
    const ask = await call(
      t,
      'ris_cancel_appointment',
      { appointment_id: id, reason: 'Patient unwell' },
      'receptionist',
    );
    expect(ask.error.error_code).toBe('CONFIRMATION_REQUIRED');
    const done = await callConfirmed(
      t,
      'ris_cancel_appointment',
      { appointment_id: id, reason: 'Patient unwell' },
      'receptionist',
    );
    expect(done.result).toMatchObject({ previous_status: 'BOOKED', appointment: { status: 'CANCELLED' } });
    expect((await schedule({ accession_number: b, start_time: `${day}T09:00`, if_taken: 'fail' })).ok).toBe(
      true,
    );
    const rebooked = await schedule({ accession_number: a, start_time: `${day}T11:00` });
    expect(rebooked.result.appointment.appointment_id).not.toBe(id);
  });
});

describe('idempotent retries (pipeline idempotency keys)', () => {
  it('a retried booking with the same key returns the first booking and books nothing new', async () => {
    const set = await createRoomSet(t, { rooms: 1 });
    const [a] = await orders(set.procedureCode, 1);
    const day = nextMonday();
    const params = { accession_number: a, start_time: `${day}T09:00` };
    const first = await schedule(params, { idempotency_key: `book-${a}` });
    const retry = await schedule(params, { idempotency_key: `book-${a}` });
    expect(retry.result).toEqual(first.result);
    const rows = await risDb(t.app.parts.database)
      .selectFrom('ris.appointments')
      .select('appointment_id')
      .where('accession_number', '=', a!)
      .execute();
    expect(rows).toHaveLength(1);
    // Without the key a retry is a new request, which the one-live-appointment rule refuses.
    expect((await schedule(params)).error.error_code).toBe('CONFLICT');
  });

  it('retried registrations and orders with one key create one patient and one order', async () => {
    const params = { family_name: 'Mokoena', given_names: 'Sipho', birth_date: '1990-05-17', sex: 'M' };
    const first = await call(t, 'ris_register_patient', params, 'receptionist', { idempotency_key: 'reg-1' });
    const retry = await call(t, 'ris_register_patient', params, 'receptionist', { idempotency_key: 'reg-1' });
    expect(retry.result.patient.patient_id).toBe(first.result.patient.patient_id);
    const set = await createRoomSet(t, { rooms: 1 });
    const order = {
      patient_id: first.result.patient.patient_id,
      procedure_code: set.procedureCode,
      clinical_indication: 'Chronic cough',
      icd10_codes: ['R05'],
      referring_practice_number: practice,
    };
    const o1 = await call(t, 'ris_create_order', order, 'receptionist', { idempotency_key: 'ord-1' });
    const o2 = await call(t, 'ris_create_order', order, 'receptionist', { idempotency_key: 'ord-1' });
    expect(o2.result.order.accession_number).toBe(o1.result.order.accession_number);
    const patientOrders = await call(
      t,
      'ris_get_patient',
      { patient_id: first.result.patient.patient_id },
      'receptionist',
    );
    expect(patientOrders.result.orders).toHaveLength(1);
  });
});
