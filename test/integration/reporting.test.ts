import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex, stableStringify } from '../../src/core/stable-json.js';
import { reportedOnReportSigned } from '../../src/modules/ris/ris.events.js';
import { risDb } from '../../src/modules/ris/ris.tables.js';
import { WITHHELD } from '../../src/security/redaction.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import {
  type Called,
  type Caller,
  call,
  callConfirmed,
  createOrder,
  createPhysician,
  createRoomSet,
  registerPatient,
} from '../harness/ris.js';
import { waitUntil } from '../harness/wait.js';

// The reporting module through the front door, on a real PostgreSQL database (docs/REPORTING.md).
let t: TestApp;
let policyDir: string;
let procedureCode: string;
let practiceA: string;
let patientA: string;
let patientB: string;
let practiceB: string;
const DR_A = { role: 'referring_doctor', subject: 'dr-a-reporting' } as const;
const DR_B = { role: 'referring_doctor', subject: 'dr-b-reporting' } as const;

const SECTIONS = {
  clinical_history: 'Cough and fever for five days.',
  technique: 'PA chest radiograph.',
  comparison: 'None.',
  findings: 'Consolidation in the right lower lobe. No effusion.',
  impression: 'Right lower lobe pneumonia.',
  recommendations: 'Follow-up radiograph in six weeks.',
};

beforeAll(async () => {
  // The practice lets the front desk open the reporting tools (to prove the text is withheld from it).
  const policy = JSON.parse(readFileSync('policy/default-policy.json', 'utf8'));
  policy.roles.receptionist = [...policy.roles.receptionist, 'reporting:read'];
  policyDir = mkdtempSync(path.join(os.tmpdir(), 'upc-policy-'));
  const policyFile = path.join(policyDir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify(policy));
  t = await startTestApp({ POLICY_FILE: policyFile });
  practiceA = (await createPhysician(t, DR_A.subject)).practiceNumber;
  practiceB = (await createPhysician(t, DR_B.subject)).practiceNumber;
  patientA = await registerPatient(t);
  patientB = await registerPatient(t);
  // Open around the clock so "earliest free slot" always exists.
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
});
afterAll(async () => {
  await t?.close();
  if (policyDir) rmSync(policyDir, { recursive: true, force: true });
});

function ok(res: Called): Called {
  expect(res.status, JSON.stringify(res.error)).toBe(200);
  return res;
}

/** An order for patient A (referred by doctor A), its appointment COMPLETED, and a draft report. */
async function completedStudy(
  patient = patientA,
  practice = practiceA,
): Promise<{ accession: string; appointmentId: number }> {
  const accession = await createOrder(t, patient, procedureCode, practice);
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
  return { accession, appointmentId };
}

async function draft(
  accession: string,
  extra: Record<string, unknown> = {},
): Promise<{ id: number; version: number }> {
  const res = ok(
    await call(
      t,
      'reporting_generate_report',
      { accession_number: accession, ...SECTIONS, ...extra },
      'radiologist',
    ),
  );
  return { id: res.result.report.report_id, version: res.result.report.version };
}

async function signed(patient = patientA, practice = practiceA) {
  const { accession, appointmentId } = await completedStudy(patient, practice);
  const { id } = await draft(accession, { icd10_codes: ['J18.9'] });
  ok(await callConfirmed(t, 'reporting_submit_report', { report_id: id, version: 1 }, 'transcriptionist'));
  const res = ok(
    await callConfirmed(t, 'reporting_sign_report', { report_id: id, version: 2 }, 'radiologist'),
  );
  return { accession, appointmentId, id, report: res.result.report };
}

/** The signed content as docs/REPORTING.md defines it, rebuilt from a tool's answer. */
// biome-ignore lint/suspicious/noExplicitAny: a tool answer, read field by field
function hashOf(report: any): string {
  return sha256Hex(
    stableStringify({
      report_id: report.report_id,
      accession_number: report.accession_number,
      patient_id: report.patient_id,
      version: report.shown_version,
      status: report.shown_status,
      sections: {
        clinical_history: report.clinical_history,
        technique: report.technique,
        comparison: report.comparison,
        findings: report.findings,
        impression: report.impression,
        recommendations: report.recommendations,
      },
      addendum:
        report.addenda.find((a: { version: number }) => a.version === report.shown_version)?.addendum ?? null,
      critical_finding: report.critical_finding,
      icd10_codes: report.icd10_codes,
      reason: report.reason ?? null,
      predecessor_version: report.predecessor_version,
      signed_by: report.signature.signed_by,
      signed_at: new Date(report.signature.signed_at).toISOString(),
    }),
  );
}

describe('the report workflow', () => {
  it('draft → preliminary → final, each step a version with who and when', async () => {
    const { accession } = await completedStudy();
    const created = ok(
      await call(
        t,
        'reporting_generate_report',
        { accession_number: accession, ...SECTIONS, critical_finding: true, icd10_codes: ['J18.9'] },
        'radiologist',
      ),
    );
    const id = created.result.report.report_id as number;
    expect(created.result.report).toMatchObject({
      accession_number: accession,
      patient_id: patientA,
      status: 'draft',
      version: 1,
      critical_finding: true,
      icd10_codes: ['J18.9'],
      signature: null,
      ...SECTIONS,
    });

    const updated = ok(
      await call(
        t,
        'reporting_update_report',
        { report_id: id, version: 1, findings: 'Consolidation in the right lower lobe.' },
        'transcriptionist',
      ),
    );
    expect(updated.result.report).toMatchObject({
      status: 'draft',
      version: 2,
      findings: 'Consolidation in the right lower lobe.',
      impression: SECTIONS.impression,
    });

    const submitted = ok(
      await callConfirmed(t, 'reporting_submit_report', { report_id: id, version: 2 }, 'transcriptionist'),
    );
    expect(submitted.result.report).toMatchObject({ status: 'preliminary', version: 3 });
    // Still correctable in review.
    ok(
      await call(
        t,
        'reporting_update_report',
        { report_id: id, version: 3, recommendations: 'None.' },
        'transcriptionist',
      ),
    );

    const first = await call(t, 'reporting_sign_report', { report_id: id, version: 4 }, 'radiologist');
    expect(first.error.error_code).toBe('CONFIRMATION_REQUIRED');
    expect(first.error.message).toContain(`Sign report ${id} version 4`);
    expect(first.error.message).toContain('critical finding');
    const sign = ok(
      await callConfirmed(t, 'reporting_sign_report', { report_id: id, version: 4 }, 'radiologist'),
    );
    const report = sign.result.report;
    expect(report).toMatchObject({
      status: 'final',
      version: 5,
      predecessor_version: 4,
      recommendations: 'None.',
    });
    // The signer is the authenticated caller; the timestamp is the server's (product clock).
    expect(report.signature).toMatchObject({ signed_by: 'test-radiologist', verified: true });
    expect(new Date(report.signature.signed_at).getTime()).toBe(t.clock.now().getTime());
    expect(report.signature.content_sha256).toBe(hashOf(report));

    expect(
      sign.result.history.map((h: { change: string; changed_by: string; status: string }) => [
        h.change,
        h.status,
        h.changed_by,
      ]),
    ).toEqual([
      ['created', 'draft', 'test-radiologist'],
      ['updated', 'draft', 'test-transcriptionist'],
      ['submitted', 'preliminary', 'test-transcriptionist'],
      ['updated', 'preliminary', 'test-transcriptionist'],
      ['signed', 'final', 'test-radiologist'],
    ]);

    const byAccession = ok(
      await call(t, 'reporting_get_report', { accession_number: accession }, 'radiologist'),
    );
    expect(byAccession.result.report).toMatchObject({ report_id: id, status: 'final', version: 5 });
  });

  it('refuses what the workflow does not allow, saying what to do instead', async () => {
    const { accession } = await completedStudy();
    const { id } = await draft(accession, { findings: '', impression: '' });

    // One live report per study.
    const twice = await call(t, 'reporting_generate_report', { accession_number: accession }, 'radiologist');
    expect(twice.error).toMatchObject({ error_code: 'CONFLICT', details: { report_id: id } });

    // Not without findings and impression.
    const empty = await callConfirmed(
      t,
      'reporting_submit_report',
      { report_id: id, version: 1 },
      'transcriptionist',
    );
    expect(empty.error).toMatchObject({
      error_code: 'CONFLICT',
      details: { missing_sections: ['findings', 'impression'] },
    });

    // A transcriptionist cannot sign, nor create, nor amend.
    const fill = ok(
      await call(
        t,
        'reporting_update_report',
        { report_id: id, version: 1, findings: 'F.', impression: 'I.' },
        'transcriptionist',
      ),
    );
    expect(fill.result.report.version).toBe(2);
    expect(
      (await call(t, 'reporting_sign_report', { report_id: id, version: 2 }, 'transcriptionist')).error
        .error_code,
    ).toBe('FORBIDDEN');
    expect(
      (await call(t, 'reporting_generate_report', { accession_number: accession }, 'transcriptionist')).error
        .error_code,
    ).toBe('FORBIDDEN');
    // Nor may a referring doctor write anything.
    expect(
      (await call(t, 'reporting_update_report', { report_id: id, version: 2, findings: 'x' }, DR_A)).error
        .error_code,
    ).toBe('FORBIDDEN');

    // Bad ICD-10 codes are named.
    const bad = await call(
      t,
      'reporting_update_report',
      { report_id: id, version: 2, icd10_codes: ['Q99.99'] },
      'transcriptionist',
    );
    expect(bad.error.error_code).toBe('INVALID_PARAMETERS');
    expect(bad.error.details.fields[0].field).toBe('icd10_codes');

    // A stale version names the current one.
    const stale = await call(
      t,
      'reporting_update_report',
      { report_id: id, version: 1, findings: 'Old.' },
      'transcriptionist',
    );
    expect(stale.error).toEqual({
      error_code: 'CONFLICT',
      message: expect.stringContaining(`Report ${id} is at version 2 (draft), not 1`),
      request_id: expect.any(String),
      details: { report_id: id, current_version: 2, your_version: 1, status: 'draft' },
    });
    const staleSign = await callConfirmed(
      t,
      'reporting_sign_report',
      { report_id: id, version: 1 },
      'radiologist',
    );
    expect(staleSign.error).toMatchObject({ error_code: 'CONFLICT', details: { current_version: 2 } });

    // A radiologist may sign a draft directly; then nothing edits it in place.
    ok(await callConfirmed(t, 'reporting_sign_report', { report_id: id, version: 2 }, 'radiologist'));
    const edit = await call(
      t,
      'reporting_update_report',
      { report_id: id, version: 3, findings: 'Changed.' },
      'radiologist',
    );
    expect(edit.error).toMatchObject({
      error_code: 'CONFLICT',
      details: { status: 'final', allowed_next: ['appended', 'corrected', 'entered-in-error'] },
    });
    expect(edit.error.message).toContain('reporting_amend_report');
    const resign = await callConfirmed(
      t,
      'reporting_sign_report',
      { report_id: id, version: 3 },
      'radiologist',
    );
    expect(resign.error.error_code).toBe('CONFLICT');
    const resubmit = await callConfirmed(
      t,
      'reporting_submit_report',
      { report_id: id, version: 3 },
      'transcriptionist',
    );
    expect(resubmit.error.error_code).toBe('CONFLICT');

    // Amendments only on signed reports.
    const { accession: other } = await completedStudy();
    const { id: draftId } = await draft(other);
    const early = await callConfirmed(
      t,
      'reporting_amend_report',
      { report_id: draftId, version: 1, kind: 'addendum', reason: 'Too early', addendum: 'x' },
      'radiologist',
    );
    expect(early.error).toMatchObject({ error_code: 'CONFLICT', details: { status: 'draft' } });

    expect(
      (await call(t, 'reporting_get_report', { report_id: 99_999_999 }, 'radiologist')).error.error_code,
    ).toBe('NOT_FOUND');
    const unknownOrder = await call(
      t,
      'reporting_generate_report',
      { accession_number: 'ACC99999999' },
      'radiologist',
    );
    expect(unknownOrder.error.error_code).toBe('NOT_FOUND');
  });

  it('concurrent updates from one version: exactly one wins, the others hear CONFLICT', async () => {
    const { accession } = await completedStudy();
    const { id } = await draft(accession);
    const results = await Promise.all(
      [1, 2, 3, 4].map((n) =>
        call(
          t,
          'reporting_update_report',
          { report_id: id, version: 1, findings: `Writer ${n}.` },
          'transcriptionist',
        ),
      ),
    );
    const winners = results.filter((r) => r.ok);
    expect(winners).toHaveLength(1);
    for (const loser of results.filter((r) => !r.ok))
      expect(loser.error).toMatchObject({
        error_code: 'CONFLICT',
        details: { current_version: 2, your_version: 1 },
      });
    const now = ok(await call(t, 'reporting_get_report', { report_id: id }, 'radiologist'));
    expect(now.result.report.version).toBe(2);
    expect(now.result.report.findings).toBe(winners[0]?.result.report.findings);
    expect(now.result.history).toHaveLength(2);
  });
});

describe('signatures and amendments', () => {
  it('a signed version cannot be changed by raw SQL either (the database refuses)', async () => {
    const { id } = await signed();
    const client = new pg.Client({ connectionString: t.database.url });
    await client.connect();
    try {
      await expect(
        client.query(
          `UPDATE reporting.report_versions SET findings = 'Tampered.' WHERE report_id = $1 AND version = 3`,
          [id],
        ),
      ).rejects.toThrow(/signed and cannot be changed/);
      await expect(
        client.query('DELETE FROM reporting.report_versions WHERE report_id = $1 AND version = 3', [id]),
      ).rejects.toThrow(/signed and cannot be changed/);
      await expect(client.query('TRUNCATE reporting.report_versions CASCADE')).rejects.toThrow(
        /cannot be truncated/,
      );
      // The head cannot be walked back to an editable state.
      await expect(
        client.query(`UPDATE reporting.reports SET status = 'draft' WHERE report_id = $1`, [id]),
      ).rejects.toThrow(/cannot go back/);
      await expect(client.query('DELETE FROM reporting.reports WHERE report_id = $1', [id])).rejects.toThrow(
        /cannot be deleted/,
      );
    } finally {
      await client.end();
    }
    const after = ok(await call(t, 'reporting_get_report', { report_id: id }, 'radiologist'));
    expect(after.result.report).toMatchObject({
      status: 'final',
      findings: SECTIONS.findings,
      signature: { verified: true },
    });
  });

  it('an addendum and a correction are new signed versions; the originals stay readable and verify', async () => {
    const { id, report: original } = await signed();
    const addendum = ok(
      await callConfirmed(
        t,
        'reporting_amend_report',
        {
          report_id: id,
          version: 3,
          kind: 'addendum',
          reason: 'Outside prior study received',
          addendum: 'Compared with the outside radiograph: new since then.',
        },
        'radiologist',
      ),
    ).result.report;
    expect(addendum).toMatchObject({
      status: 'appended',
      version: 4,
      predecessor_version: 3,
      findings: SECTIONS.findings,
      addenda: [
        {
          version: 4,
          addendum: 'Compared with the outside radiograph: new since then.',
          reason: 'Outside prior study received',
        },
      ],
      signature: { signed_by: 'test-radiologist', verified: true },
    });
    expect(addendum.signature.content_sha256).toBe(
      hashOf({ ...addendum, reason: 'Outside prior study received' }),
    );

    // The description says what is signed, and a stale version is refused before anyone is asked.
    const stale = await call(
      t,
      'reporting_amend_report',
      { report_id: id, version: 3, kind: 'correction', reason: 'Side', impression: 'Left.' },
      'radiologist',
    );
    expect(stale.error).toMatchObject({ error_code: 'CONFLICT', details: { current_version: 4 } });
    const addendumWithSections = await call(
      t,
      'reporting_amend_report',
      { report_id: id, version: 4, kind: 'addendum', reason: 'x y z', addendum: 'a', impression: 'b' },
      'radiologist',
    );
    expect(addendumWithSections.error.error_code).toBe('INVALID_PARAMETERS');

    const correction = ok(
      await callConfirmed(
        t,
        'reporting_amend_report',
        {
          report_id: id,
          version: 4,
          kind: 'correction',
          reason: 'Wrong side dictated',
          impression: 'Left lower lobe pneumonia.',
        },
        'radiologist',
      ),
    ).result.report;
    expect(correction).toMatchObject({
      status: 'corrected',
      version: 5,
      predecessor_version: 4,
      impression: 'Left lower lobe pneumonia.',
      signature: { verified: true },
    });
    expect(correction.signature.content_sha256).toBe(
      hashOf({ ...correction, reason: 'Wrong side dictated' }),
    );

    // The original signed version is unchanged and still verifies against its own hash.
    const v3 = ok(await call(t, 'reporting_get_report', { report_id: id, version: 3 }, 'radiologist')).result;
    expect(v3.report).toMatchObject({
      status: 'corrected',
      version: 5,
      shown_version: 3,
      shown_status: 'final',
      impression: SECTIONS.impression,
      addenda: [],
      signature: { content_sha256: original.signature.content_sha256, verified: true },
    });
    expect(hashOf(v3.report)).toBe(original.signature.content_sha256);
    expect(v3.history.map((h: { change: string }) => h.change)).toEqual([
      'created',
      'submitted',
      'signed',
      'addendum',
      'correction',
    ]);
    expect(v3.history.at(-1)).toMatchObject({ reason: 'Wrong side dictated', signed: true });

    // A transcriptionist cannot amend.
    const refused = await call(
      t,
      'reporting_amend_report',
      { report_id: id, version: 5, kind: 'addendum', reason: 'x y z', addendum: 'a' },
      'transcriptionist',
    );
    expect(refused.error.error_code).toBe('FORBIDDEN');
  });
});

describe('who reads what', () => {
  it("a referring doctor reads signed reports of their own patients only: not a draft, not another doctor's patient", async () => {
    const mine = await signed(patientA, practiceA);
    const { accession: draftAccession } = await completedStudy(patientA, practiceA);
    const { id: draftId } = await draft(draftAccession);
    const theirs = await signed(patientB, practiceB);

    const read = ok(await call(t, 'reporting_get_report', { report_id: mine.id }, DR_A));
    expect(read.result.report).toMatchObject({ status: 'final', findings: SECTIONS.findings });
    // Only signed versions in the history; the draft and the review are not shown.
    expect(read.result.history.map((h: { change: string }) => h.change)).toEqual(['signed']);
    const byAccession = ok(await call(t, 'reporting_get_report', { accession_number: mine.accession }, DR_A));
    expect(byAccession.result.report.report_id).toBe(mine.id);
    // An earlier, unsigned version is not for them.
    expect(
      (await call(t, 'reporting_get_report', { report_id: mine.id, version: 1 }, DR_A)).error.error_code,
    ).toBe('OUT_OF_SCOPE');

    for (const refused of [
      await call(t, 'reporting_get_report', { report_id: draftId }, DR_A),
      await call(t, 'reporting_get_report', { accession_number: draftAccession }, DR_A),
      await call(t, 'reporting_get_report', { report_id: theirs.id }, DR_A),
      await call(t, 'reporting_get_report', { accession_number: theirs.accession }, DR_A),
    ])
      expect(refused.error.error_code).toBe('OUT_OF_SCOPE');
    ok(await call(t, 'reporting_get_report', { report_id: theirs.id }, DR_B));
  });

  it('the front desk sees that a report exists, never its text', async () => {
    const { id } = await signed();
    const shown = ok(await call(t, 'reporting_get_report', { report_id: id }, 'receptionist')).result.report;
    for (const field of [
      'clinical_history',
      'technique',
      'comparison',
      'findings',
      'impression',
      'recommendations',
    ])
      expect(shown[field], field).toBe(WITHHELD);
    expect(shown).toMatchObject({ status: 'final', report_id: id });
    // Without the practice's extra grant, billing clerks cannot open reports at all.
    expect((await call(t, 'reporting_get_report', { report_id: id }, 'billing_clerk')).error.error_code).toBe(
      'FORBIDDEN',
    );
  });
});

describe('reactions', () => {
  it('signing moves the RIS appointment to REPORTED, once, recorded as the signer', async () => {
    const { accession, appointmentId, id } = await signed();
    await waitUntil(
      async () =>
        (await call(t, 'ris_get_order', { accession_number: accession }, 'radiologist')).result.appointment
          .status === 'REPORTED',
      { what: 'the RIS to mark the study REPORTED' },
    );
    const order = ok(await call(t, 'ris_get_order', { accession_number: accession }, 'radiologist')).result;
    const reported = order.status_history.filter((h: { to_status: string }) => h.to_status === 'REPORTED');
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({ changed_by: 'test-radiologist', from_status: 'COMPLETED' });
    expect(order.appointment.appointment_id).toBe(appointmentId);

    // The event carries identifiers only, never report text.
    const events = await t.app.parts.database.db
      .withTables<{ 'core.outbox_events': { type: string; key: string; payload: unknown } }>()
      .selectFrom('core.outbox_events')
      .select(['type', 'key', 'payload'])
      .where('key', '=', accession)
      .execute();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'reporting.report.signed',
      payload: { report_id: id, accession_number: accession, version: 3, signed_by: 'test-radiologist' },
    });
    expect(JSON.stringify(events[0]?.payload)).not.toContain('pneumonia');
  });

  it('the RIS handler is idempotent and leaves a study that is not COMPLETED as it is', async () => {
    const handler = reportedOnReportSigned(risDb(t.app.parts.database));
    const context = { log: t.app.log, attempt: 2 };
    const { accession } = await signed();
    const historyOf = async (acc: string) =>
      ok(await call(t, 'ris_get_order', { accession_number: acc }, 'radiologist')).result.status_history
        .length;
    await waitUntil(
      async () =>
        (await call(t, 'ris_get_order', { accession_number: accession }, 'radiologist')).result.appointment
          .status === 'REPORTED',
      { what: 'the RIS to mark the study REPORTED' },
    );
    const before = await historyOf(accession);
    const event = (acc: string) => ({
      id: randomUUID(),
      occurredAt: t.clock.now(),
      type: 'reporting.report.signed',
      key: acc,
      payload: { report_id: 1, accession_number: acc, version: 3, signed_by: 'test-radiologist' },
    });
    await handler.handle(event(accession), context);
    expect(await historyOf(accession)).toBe(before);

    // Booked but not yet scanned: a signature does not skip the RIS's own steps.
    const early = await createOrder(t, patientA, procedureCode, practiceA);
    ok(await call(t, 'ris_schedule_appointment', { accession_number: early }, 'receptionist'));
    await handler.handle(event(early), context);
    const order = ok(await call(t, 'ris_get_order', { accession_number: early }, 'radiologist')).result;
    expect(order.appointment.status).toBe('BOOKED');
  });
});
