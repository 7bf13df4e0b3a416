import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/core/context.js';
import { TRANSITIONS } from '../../src/modules/ris/ris.rules.js';
import { STUDY_STATUSES, type StudyStatus } from '../../src/modules/ris/ris.tables.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import {
  call,
  callConfirmed,
  createOrder,
  createPhysician,
  createRoomSet,
  registerPatient,
} from '../harness/ris.js';

let t: TestApp;
let practice: string;
let patient: string;
let procedureCode: string;

beforeAll(async () => {
  t = await startTestApp();
  practice = (await createPhysician(t)).practiceNumber;
  patient = await registerPatient(t);
  // Open around the clock so "earliest free slot" always exists, whatever time the suite runs.
  const set = await createRoomSet(t, {
    rooms: 1,
    opens: '00:00',
    closes: '24:00',
    weekdays: [1, 2, 3, 4, 5, 6, 7],
    durationMinutes: 5,
    gridMinutes: 5,
  });
  procedureCode = set.procedureCode;
});
afterAll(() => t.close());

/** Who sets each status under the default policy (ris:status_<status>). */
const SETTER: Record<StudyStatus, Role> = {
  BOOKED: 'receptionist',
  REGISTERED: 'receptionist',
  NO_SHOW: 'receptionist',
  CANCELLED: 'receptionist',
  IN_PROGRESS: 'radiographer',
  COMPLETED: 'radiographer',
  REPORTED: 'radiologist',
  DELIVERED: 'radiologist',
};

/** The legal path from BOOKED to each status. */
const PATH: Record<StudyStatus, StudyStatus[]> = {
  BOOKED: [],
  REGISTERED: ['REGISTERED'],
  IN_PROGRESS: ['REGISTERED', 'IN_PROGRESS'],
  COMPLETED: ['REGISTERED', 'IN_PROGRESS', 'COMPLETED'],
  REPORTED: ['REGISTERED', 'IN_PROGRESS', 'COMPLETED', 'REPORTED'],
  DELIVERED: ['REGISTERED', 'IN_PROGRESS', 'COMPLETED', 'REPORTED', 'DELIVERED'],
  CANCELLED: ['CANCELLED'],
  NO_SHOW: ['NO_SHOW'],
};

async function appointmentIn(status: StudyStatus): Promise<{ id: number; accession: string }> {
  const accession = await createOrder(t, patient, procedureCode, practice);
  const booked = await call(t, 'ris_schedule_appointment', { accession_number: accession }, 'receptionist');
  if (!booked.ok) throw new Error(JSON.stringify(booked.error));
  const id = booked.result.appointment.appointment_id as number;
  for (const step of PATH[status]) {
    const res =
      step === 'CANCELLED'
        ? await callConfirmed(
            t,
            'ris_cancel_appointment',
            { appointment_id: id, reason: 'test' },
            'receptionist',
          )
        : await call(t, 'ris_update_study_status', { appointment_id: id, status: step }, SETTER[step]);
    if (!res.ok) throw new Error(`walking to ${status}: ${JSON.stringify(res.error)}`);
  }
  return { id, accession };
}

const cases = STUDY_STATUSES.flatMap((from) => STUDY_STATUSES.map((to) => ({ from, to })));

describe('study status state machine: every pair of states', () => {
  it.each(cases)('$from → $to', async ({ from, to }) => {
    const { id } = await appointmentIn(from);
    const legal = TRANSITIONS[from].includes(to);
    const res =
      to === 'CANCELLED'
        ? await callConfirmed(
            t,
            'ris_cancel_appointment',
            { appointment_id: id, reason: 'table test' },
            'receptionist',
          )
        : await call(t, 'ris_update_study_status', { appointment_id: id, status: to }, SETTER[to]);
    if (legal) {
      expect(res.status, JSON.stringify(res.error)).toBe(200);
      expect(res.result).toMatchObject({ previous_status: from, appointment: { status: to } });
      return;
    }
    const allowed = TRANSITIONS[from];
    expect(res.status).toBe(409);
    expect(res.error).toEqual({
      error_code: 'CONFLICT',
      message: `Appointment ${id} is ${from} and cannot become ${to}. ${
        allowed.length > 0 ? `Allowed from ${from}: ${allowed.join(', ')}.` : `${from} is final.`
      }`,
      request_id: expect.any(String),
      details: { appointment_id: id, status: from, allowed: [...allowed] },
    });
  });
});

describe('status history', () => {
  it('records every transition with who (subject and role) and when, in order', async () => {
    const before = Date.now();
    const accession = await createOrder(t, patient, procedureCode, practice);
    const booked = await call(
      t,
      'ris_schedule_appointment',
      { accession_number: accession },
      {
        role: 'receptionist',
        subject: 'thandi.front-desk',
      },
    );
    const id = booked.result.appointment.appointment_id;
    const by = {
      REGISTERED: { role: 'receptionist', subject: 'thandi.front-desk' },
      IN_PROGRESS: { role: 'radiographer', subject: 'sipho.radiographer' },
      COMPLETED: { role: 'radiographer', subject: 'sipho.radiographer' },
    } as const;
    for (const status of ['REGISTERED', 'IN_PROGRESS', 'COMPLETED'] as const) {
      const res = await call(
        t,
        'ris_update_study_status',
        { appointment_id: id, status, note: `to ${status}` },
        by[status],
      );
      expect(res.status, JSON.stringify(res.error)).toBe(200);
    }
    const order = await call(t, 'ris_get_order', { accession_number: accession }, 'radiologist');
    const history = order.result.status_history as {
      from_status: string | null;
      to_status: string;
      changed_by: string;
      changed_by_role: string;
      changed_at: string;
      note: string | null;
    }[];
    expect(history.map((h) => [h.from_status, h.to_status, h.changed_by, h.changed_by_role, h.note])).toEqual(
      [
        [null, 'BOOKED', 'thandi.front-desk', 'receptionist', null],
        ['BOOKED', 'REGISTERED', 'thandi.front-desk', 'receptionist', 'to REGISTERED'],
        ['REGISTERED', 'IN_PROGRESS', 'sipho.radiographer', 'radiographer', 'to IN_PROGRESS'],
        ['IN_PROGRESS', 'COMPLETED', 'sipho.radiographer', 'radiographer', 'to COMPLETED'],
      ],
    );
    for (const h of history) {
      expect(h.changed_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+02:00$/);
      expect(new Date(h.changed_at).getTime()).toBeGreaterThanOrEqual(before - 1000);
    }
  });

  it('two concurrent changes from one state: exactly one wins', async () => {
    const { id } = await appointmentIn('BOOKED');
    const [a, b] = await Promise.all([
      call(t, 'ris_update_study_status', { appointment_id: id, status: 'REGISTERED' }, 'receptionist'),
      call(t, 'ris_update_study_status', { appointment_id: id, status: 'NO_SHOW' }, 'receptionist'),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
  });

  it('a retried status change with the same idempotency key returns the first answer, not a CONFLICT', async () => {
    const { id } = await appointmentIn('BOOKED');
    const params = { appointment_id: id, status: 'REGISTERED' };
    const first = await call(t, 'ris_update_study_status', params, 'receptionist', {
      idempotency_key: `reg-${id}`,
    });
    const retry = await call(t, 'ris_update_study_status', params, 'receptionist', {
      idempotency_key: `reg-${id}`,
    });
    expect(first.status).toBe(200);
    expect(retry.result).toEqual(first.result);
    const fresh = await call(t, 'ris_update_study_status', params, 'receptionist');
    expect(fresh.error.error_code).toBe('CONFLICT');
  });

  it('refuses CANCELLED through the status tool, naming the field and the cancel tool', async () => {
    const { id } = await appointmentIn('BOOKED');
    const res = await call(
      t,
      'ris_update_study_status',
      { appointment_id: id, status: 'CANCELLED' },
      'radiographer',
    );
    expect(res.status).toBe(400);
    expect(res.error.details.fields).toEqual([
      expect.objectContaining({
        field: 'status',
        message: expect.stringMatching(/cancel with ris_cancel_appointment/),
      }),
    ]);
  });
});
