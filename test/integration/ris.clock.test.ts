/**
 * The RIS decides "today", "now" and "the earliest slot" by the product clock in the practice's zone: on a
 * month's last day, and across a DST change in a zone that has one (the zone is data, `ris.settings`).
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { risDb } from '../../src/modules/ris/ris.tables.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { testClock } from '../harness/clock.js';
import { call, createOrder, createPhysician, createRoomSet, registerPatient } from '../harness/ris.js';

let t: TestApp;
let london: TestApp;
let practice: string;
let patient: string;

beforeAll(async () => {
  t = await startTestApp();
  practice = (await createPhysician(t)).practiceNumber;
  patient = await registerPatient(t);
  // A second server on the same database for a practice in a zone with DST.
  await sql`UPDATE core.instance_settings SET value = to_jsonb('Europe/London'::text) WHERE key = 'time_zone'`.execute(
    risDb(t.app.parts.database),
  );
  const clock = testClock();
  const app = await buildApp(t.config, { database: t.app.parts.database, clock });
  london = { ...t, app, clock, close: () => app.close() };
});
afterAll(async () => {
  await london?.close();
  await t?.close();
});

describe('month end', () => {
  it('on the last day of a month, a Saturday afternoon, the earliest routine slot is the next month’s Monday', async () => {
    const set = await createRoomSet(t, { rooms: 1, opens: '08:00', closes: '12:00' });
    const order = await createOrder(t, patient, set.procedureCode, practice);
    t.clock.set('2027-07-31T14:00:00+02:00');
    const booked = await call(t, 'ris_schedule_appointment', { accession_number: order }, 'receptionist');
    expect(booked.result.appointment.scheduled_start).toBe('2027-08-02T08:00:00+02:00');
    const worklist = await call(t, 'ris_get_worklist', { modality: set.modality }, 'receptionist');
    expect(worklist.result).toMatchObject({ date: '2027-07-31', open: false, next_open_date: '2027-08-02' });
  });
});

describe('a DST change (Europe/London, 25 October 2026: 02:00 BST becomes 01:00 GMT)', () => {
  it('books stat in the right hour on both sides of the change, and "today" is the 25-hour local day', async () => {
    const set = await createRoomSet(london, {
      rooms: 1,
      opens: '00:00',
      closes: '24:00',
      weekdays: [1, 2, 3, 4, 5, 6, 7],
      durationMinutes: 15,
    });
    const [before, after] = [
      await createOrder(london, patient, set.procedureCode, practice, 'stat'),
      await createOrder(london, patient, set.procedureCode, practice, 'stat'),
    ];
    london.clock.set('2026-10-25T00:52:00Z'); // 01:52 BST, before the clocks go back
    const first = await call(
      london,
      'ris_schedule_appointment',
      { accession_number: before },
      'receptionist',
    );
    expect(first.result.appointment.scheduled_start).toBe('2026-10-25T01:55:00+01:00');
    london.clock.set('2026-10-25T23:30:00Z'); // 23:30 GMT, the same local day
    const second = await call(
      london,
      'ris_schedule_appointment',
      { accession_number: after },
      'receptionist',
    );
    expect(second.result.appointment.scheduled_start).toBe('2026-10-25T23:30:00+00:00');
    const today = await call(london, 'ris_get_worklist', { modality: set.modality }, 'radiographer');
    expect(today.result).toMatchObject({
      date: '2026-10-25',
      time_zone: 'Europe/London',
      open: true,
      count: 2,
    });
  });
});
