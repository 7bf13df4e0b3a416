/**
 * Who may set which study status (policy data: ris:status_<status>) and the time rule: IN_PROGRESS and
 * COMPLETED not before the appointment's day, unless an administrator overrides it with a reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/core/context.js';
import { spokenDate, spokenTime } from '../../src/core/practice-time.js';
import type { StudyStatus } from '../../src/modules/ris/ris.tables.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { practiceTime, TZ, testNow, testToday } from '../harness/clock.js';
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
let procedureCode: string;
let weekProcedure: string;

beforeAll(async () => {
  t = await startTestApp();
  practice = (await createPhysician(t)).practiceNumber;
  patient = await registerPatient(t);
  // Open around the clock, every day: the earliest free slot is today, whatever day the suite runs on.
  procedureCode = (
    await createRoomSet(t, {
      rooms: 1,
      opens: '00:00',
      closes: '24:00',
      weekdays: [1, 2, 3, 4, 5, 6, 7],
      durationMinutes: 5,
      gridMinutes: 5,
    })
  ).procedureCode;
  weekProcedure = (await createRoomSet(t, { rooms: 1 })).procedureCode;
});
afterAll(() => t.close());

/** The step before each status (from BOOKED), walked as admin. */
const BEFORE: Partial<Record<StudyStatus, StudyStatus[]>> = {
  REGISTERED: [],
  NO_SHOW: [],
  IN_PROGRESS: ['REGISTERED'],
  COMPLETED: ['REGISTERED', 'IN_PROGRESS'],
  REPORTED: ['REGISTERED', 'IN_PROGRESS', 'COMPLETED'],
  DELIVERED: ['REGISTERED', 'IN_PROGRESS', 'COMPLETED', 'REPORTED'],
};

/** An appointment today, walked (as admin) to the status just before `to`. */
async function readyFor(to: StudyStatus): Promise<number> {
  const accession = await createOrder(t, patient, procedureCode, practice);
  const booked = await call(t, 'ris_schedule_appointment', { accession_number: accession }, 'receptionist');
  if (!booked.ok) throw new Error(JSON.stringify(booked.error));
  const id = booked.result.appointment.appointment_id as number;
  for (const status of BEFORE[to] ?? []) {
    const res = await call(t, 'ris_update_study_status', { appointment_id: id, status }, 'admin');
    if (!res.ok) throw new Error(`to ${status}: ${JSON.stringify(res.error)}`);
  }
  return id;
}

/** The default policy: receptionists arrival and no-show, radiographers the scan, radiologists the report. */
const MAY: Record<string, Role[]> = {
  REGISTERED: ['receptionist', 'admin'],
  NO_SHOW: ['receptionist', 'admin'],
  IN_PROGRESS: ['radiographer', 'admin'],
  COMPLETED: ['radiographer', 'admin'],
  REPORTED: ['radiologist', 'admin'],
  DELIVERED: ['radiologist', 'admin'],
};
const ROLES: Role[] = ['receptionist', 'radiographer', 'radiologist', 'admin'];
const cases = Object.keys(MAY).flatMap((status) => ROLES.map((role) => ({ status, role })));

describe('status rights by role (policy/default-policy.json)', () => {
  it.each(cases)('$role sets $status', async ({ status, role }) => {
    const id = await readyFor(status as StudyStatus);
    const res = await call(t, 'ris_update_study_status', { appointment_id: id, status }, role);
    if (MAY[status]!.includes(role)) {
      expect(res.status, JSON.stringify(res.error)).toBe(200);
      expect(res.result.appointment.status).toBe(status);
      return;
    }
    const holders = MAY[status]!;
    expect(res.status).toBe(403);
    expect(res.error).toEqual({
      error_code: 'FORBIDDEN',
      message: `The ${role} role may not set an appointment to ${status} (needs ris:status_${status.toLowerCase()}): only the ${holders.join(' or ')} roles may. Ask one of them to do it.`,
      request_id: expect.any(String),
      details: {
        tool: 'ris_update_study_status',
        permission: `ris:status_${status.toLowerCase()}`,
        role,
        allowed_roles: holders,
      },
    });
    // Refused before anything changed.
    const order = await call(t, 'ris_get_worklist', {}, 'admin');
    const still = order.result.worklist.find((w: { appointment_id: number }) => w.appointment_id === id);
    expect(still.status).toBe(BEFORE[status as StudyStatus]!.at(-1) ?? 'BOOKED');
  });

  it('roles without the status tool at all are refused by the tool permission', async () => {
    const id = await readyFor('REGISTERED');
    for (const role of ['billing_clerk', 'referring_doctor', 'transcriptionist'] as const) {
      const res = await call(
        t,
        'ris_update_study_status',
        { appointment_id: id, status: 'REGISTERED' },
        role,
      );
      expect(res.error).toMatchObject({
        error_code: 'FORBIDDEN',
        details: { permission: 'ris:update_status' },
      });
    }
  });
});

describe("status steps respect the appointment's day", () => {
  async function bookedNextWeek(): Promise<{ id: number; start: string; day: string }> {
    const day = nextMonday();
    const accession = await createOrder(t, patient, weekProcedure, practice);
    const booked = await call(
      t,
      'ris_schedule_appointment',
      { accession_number: accession, start_time: `${day}T09:00` },
      'receptionist',
    );
    if (!booked.ok) throw new Error(JSON.stringify(booked.error));
    return { id: booked.result.appointment.appointment_id, start: `${day}T09:00`, day };
  }

  it('IN_PROGRESS and COMPLETED are refused before the day, naming it; arrival may be early', async () => {
    const { id, day } = await bookedNextWeek();
    const arrived = await call(
      t,
      'ris_update_study_status',
      { appointment_id: id, status: 'REGISTERED' },
      'receptionist',
    );
    expect(arrived.status).toBe(200);
    for (const role of ['radiographer', 'admin'] as const) {
      const res = await call(
        t,
        'ris_update_study_status',
        { appointment_id: id, status: 'IN_PROGRESS' },
        role,
      );
      expect(res.status).toBe(409);
      expect(res.error).toEqual({
        error_code: 'CONFLICT',
        message:
          `Appointment ${id} is on ${spokenTime(practiceTime(day, '09:00'), TZ)}; it cannot become IN_PROGRESS before ` +
          `that day (today is ${spokenDate(testToday())}). If the examination really is happening today, an ` +
          'administrator can set it with a reason.',
        request_id: expect.any(String),
        details: { appointment_id: id, status: 'REGISTERED', appointment_date: day, today: testToday() },
      });
    }
  });

  it('an administrator overrides with a reason, recorded in the status history; others may not override', async () => {
    const { id, day } = await bookedNextWeek();
    await call(t, 'ris_update_study_status', { appointment_id: id, status: 'REGISTERED' }, 'receptionist');
    const reason = 'Patient came in early; slot free, radiologist agreed';
    const radiographer = await call(
      t,
      'ris_update_study_status',
      { appointment_id: id, status: 'IN_PROGRESS', reason },
      'radiographer',
    );
    expect(radiographer.error).toMatchObject({
      error_code: 'FORBIDDEN',
      details: { permission: 'ris:status_override', allowed_roles: ['admin'] },
    });
    expect(radiographer.error.message).toMatch(
      /^The radiographer role may not override the appointment-day rule/,
    );

    const admin = await call(
      t,
      'ris_update_study_status',
      { appointment_id: id, status: 'IN_PROGRESS', reason, note: 'Contrast given' },
      { role: 'admin', subject: 'lindiwe.admin' },
    );
    expect(admin.status, JSON.stringify(admin.error)).toBe(200);
    const order = await call(
      t,
      'ris_get_order',
      { accession_number: admin.result.appointment.accession_number },
      'admin',
    );
    expect(order.result.status_history.at(-1)).toMatchObject({
      to_status: 'IN_PROGRESS',
      changed_by: 'lindiwe.admin',
      changed_by_role: 'admin',
      note: `Contrast given [IN_PROGRESS before the appointment's day (${spokenDate(day)}), overridden: ${reason}]`,
    });
  });

  it('on the day (product clock) the radiographer needs no override', async () => {
    const { id, day } = await bookedNextWeek();
    await call(t, 'ris_update_study_status', { appointment_id: id, status: 'REGISTERED' }, 'receptionist');
    t.clock.set(practiceTime(day, '07:30')); // before the 09:00 start, but the same day
    try {
      for (const status of ['IN_PROGRESS', 'COMPLETED']) {
        const res = await call(t, 'ris_update_study_status', { appointment_id: id, status }, 'radiographer');
        expect(res.status, JSON.stringify(res.error)).toBe(200);
      }
    } finally {
      t.clock.set(testNow());
    }
  });
});
