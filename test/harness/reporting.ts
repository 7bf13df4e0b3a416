/** Reporting test helpers: a completed study, a draft, a submitted or signed report, through the front door. */
import { expect } from 'vitest';
import type { TestApp } from './app.js';
import {
  type Called,
  type Caller,
  call,
  callConfirmed,
  createOrder,
  createPhysician,
  createRoomSet,
  registerPatient,
} from './ris.js';

export const REPORT_SECTIONS = {
  clinical_history: 'Sudden severe headache.',
  technique: 'Non-contrast CT head.',
  comparison: 'None.',
  findings: 'Acute subarachnoid haemorrhage in the basal cisterns.',
  impression: 'Acute subarachnoid haemorrhage.',
  recommendations: 'Urgent neurosurgical referral; CT angiography.',
};

export function ok(res: Called): Called {
  expect(res.status, JSON.stringify(res.error)).toBe(200);
  return res;
}

/** One patient, one referring doctor and a procedure bookable around the clock. */
export interface ReportingWorld {
  patient: string;
  practice: string;
  procedureCode: string;
}

export async function reportingWorld(t: TestApp, doctor: string): Promise<ReportingWorld> {
  const practice = (await createPhysician(t, doctor)).practiceNumber;
  const patient = await registerPatient(t);
  const { procedureCode } = await createRoomSet(t, {
    rooms: 1,
    opens: '00:00',
    closes: '24:00',
    weekdays: [1, 2, 3, 4, 5, 6, 7],
    durationMinutes: 5,
    gridMinutes: 5,
  });
  return { patient, practice, procedureCode };
}

/** An order, its appointment booked and walked to COMPLETED; returns the accession number. */
export async function completedStudy(
  t: TestApp,
  w: ReportingWorld,
  priority: 'routine' | 'urgent' | 'stat' = 'routine',
): Promise<string> {
  const accession = await createOrder(t, w.patient, w.procedureCode, w.practice, priority);
  const booked = ok(
    await call(t, 'ris_schedule_appointment', { accession_number: accession }, 'receptionist'),
  );
  const appointmentId = booked.result.appointment.appointment_id as number;
  const steps: [string, Caller][] = [
    ['REGISTERED', 'receptionist'],
    ['IN_PROGRESS', 'radiographer'],
    ['COMPLETED', 'radiographer'],
  ];
  for (const [status, role] of steps)
    ok(await call(t, 'ris_update_study_status', { appointment_id: appointmentId, status }, role));
  return accession;
}

/** A draft report (version 1) by a radiologist. */
export async function draftReport(
  t: TestApp,
  accession: string,
  extra: Record<string, unknown> = {},
  as: Caller = 'radiologist',
): Promise<number> {
  const res = ok(
    await call(
      t,
      'reporting_generate_report',
      { accession_number: accession, ...REPORT_SECTIONS, ...extra },
      as,
    ),
  );
  return res.result.report.report_id as number;
}

/** Draft (v1) → preliminary (v2) by the transcriptionist. */
export async function submittedReport(
  t: TestApp,
  accession: string,
  extra: Record<string, unknown> = {},
  as: Caller = 'radiologist',
): Promise<number> {
  const id = await draftReport(t, accession, extra, as);
  ok(await callConfirmed(t, 'reporting_submit_report', { report_id: id, version: 1 }, 'transcriptionist'));
  return id;
}

/** Draft → preliminary → final (v3), signed by `as`. */
export async function signedReport(
  t: TestApp,
  accession: string,
  extra: Record<string, unknown> = {},
  as: Caller = 'radiologist',
): Promise<number> {
  const id = await submittedReport(t, accession, extra, as);
  ok(await callConfirmed(t, 'reporting_sign_report', { report_id: id, version: 2 }, as));
  return id;
}
