import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/app.js';
import { connectMcp } from '../harness/mcp.js';
import {
  completedStudy,
  draftReport,
  ok,
  REPORT_SECTIONS,
  type ReportingWorld,
  reportingWorld,
  signedReport,
  submittedReport,
} from '../harness/reporting.js';
import { type Caller, call, callConfirmed, createOrder } from '../harness/ris.js';

// Worklists, cancel / entered-in-error and the report:// resource, through the front door (docs/REPORTING.md).
let t: TestApp;
let w: ReportingWorld;
const RAD_A = { role: 'radiologist', subject: 'rad-a' } as const;
const RAD_B = { role: 'radiologist', subject: 'rad-b' } as const;
const DOCTOR = 'dr-worklists';

beforeAll(async () => {
  t = await startTestApp();
  w = await reportingWorld(t, DOCTOR);
});
afterAll(() => t?.close());

interface Item {
  accession_number: string;
  report_id: number | null;
  report_status: string | null;
  priority: string | null;
}

async function queue(name: string, as: Caller): Promise<Item[]> {
  const res = ok(await call(t, 'reporting_get_worklist', { queue: name }, as));
  expect(res.result).toMatchObject({ queue: name, count: res.result.items.length });
  return res.result.items;
}

describe('worklists', () => {
  it('each role sees its own queue: to report, review, signature', async () => {
    const routine = await completedStudy(t, w, 'routine');
    const stat = await completedStudy(t, w, 'stat');
    const drafted = await completedStudy(t, w);
    const draftId = await draftReport(t, drafted, {}, RAD_A);
    const mineToSign = await completedStudy(t, w);
    const mineId = await submittedReport(t, mineToSign, {}, RAD_A);
    const theirsToSign = await completedStudy(t, w);
    const theirsId = await submittedReport(t, theirsToSign, {}, RAD_B);
    const signed = await completedStudy(t, w);
    const signedId = await signedReport(t, signed, {}, RAD_A);
    const notScanned = await createOrder(t, w.patient, w.procedureCode, w.practice);
    ok(await call(t, 'ris_schedule_appointment', { accession_number: notScanned }, 'receptionist'));

    // To report: COMPLETED studies without a signed report; stat first; a started draft is named.
    const toReport = await queue('to_report', RAD_A);
    const accessions = toReport.map((i) => i.accession_number);
    expect(accessions).toEqual(expect.arrayContaining([routine, stat, drafted, mineToSign, theirsToSign]));
    expect(accessions).not.toContain(signed);
    expect(accessions).not.toContain(notScanned);
    expect(accessions.indexOf(stat)).toBeLessThan(accessions.indexOf(routine));
    expect(toReport[0]).toMatchObject({ accession_number: stat, priority: 'stat' });
    expect(toReport.find((i) => i.accession_number === drafted)).toMatchObject({
      report_id: draftId,
      report_status: 'draft',
    });
    expect(toReport.find((i) => i.accession_number === routine)).toMatchObject({
      report_id: null,
      report_status: null,
    });

    // Review: the drafts waiting for a transcriptionist, not what is submitted or signed.
    const review = (await queue('review', 'transcriptionist')).map((i) => i.report_id);
    expect(review).toContain(draftId);
    for (const id of [mineId, theirsId, signedId]) expect(review).not.toContain(id);

    // Signature: my own preliminary reports only.
    const mine = await queue('signature', RAD_A);
    expect(mine.map((i) => i.report_id)).toEqual([mineId]);
    expect(mine[0]).toMatchObject({ report_status: 'preliminary', accession_number: mineToSign });
    expect((await queue('signature', RAD_B)).map((i) => i.report_id)).toEqual([theirsId]);

    // Queues by role (policy: reporting:worklist_<queue>).
    for (const [name, as] of [
      ['to_report', 'transcriptionist'],
      ['signature', 'transcriptionist'],
      ['review', 'receptionist'],
      ['to_report', 'referring_doctor'],
    ] as const)
      expect(
        (await call(t, 'reporting_get_worklist', { queue: name }, as)).error.error_code,
        `${as} ${name}`,
      ).toBe('FORBIDDEN');
  });
});

describe('cancel and entered-in-error', () => {
  it('cancels an unsigned report with confirmation; the study may get a new one', async () => {
    const accession = await completedStudy(t, w);
    const id = await draftReport(t, accession, {}, RAD_A);

    expect(
      (await call(t, 'reporting_cancel_report', { report_id: id, version: 1 }, 'transcriptionist')).error
        .error_code,
    ).toBe('FORBIDDEN');
    const stale = await callConfirmed(t, 'reporting_cancel_report', { report_id: id, version: 2 }, RAD_A);
    expect(stale.error).toMatchObject({ error_code: 'CONFLICT', details: { current_version: 1 } });

    const ask = await call(
      t,
      'reporting_cancel_report',
      { report_id: id, version: 1, reason: 'Wrong study' },
      RAD_A,
    );
    expect(ask.error.error_code).toBe('CONFIRMATION_REQUIRED');
    expect(ask.error.message).toContain(`Cancel report ${id} (version 1, draft)`);
    const cancelled = ok(
      await callConfirmed(
        t,
        'reporting_cancel_report',
        { report_id: id, version: 1, reason: 'Wrong study' },
        RAD_A,
      ),
    ).result;
    expect(cancelled.report).toMatchObject({
      status: 'cancelled',
      version: 2,
      findings: REPORT_SECTIONS.findings,
    });
    expect(cancelled.report.notice).toContain('Cancelled by rad-a');
    expect(cancelled.report.notice).toContain('Wrong study');
    expect(cancelled.history.at(-1)).toMatchObject({
      change: 'cancelled',
      changed_by: 'rad-a',
      reason: 'Wrong study',
    });

    // Closed: nothing moves it again; the study can be reported afresh.
    const again = await callConfirmed(t, 'reporting_cancel_report', { report_id: id, version: 2 }, RAD_A);
    expect(again.error).toMatchObject({
      error_code: 'CONFLICT',
      details: { status: 'cancelled', allowed_next: [] },
    });
    const fresh = await draftReport(t, accession, {}, RAD_A);
    expect(fresh).not.toBe(id);

    // A signed report is not cancelled.
    const signedId = await signedReport(t, await completedStudy(t, w), {}, RAD_A);
    const refused = await callConfirmed(
      t,
      'reporting_cancel_report',
      { report_id: signedId, version: 3 },
      RAD_A,
    );
    expect(refused.error).toMatchObject({ error_code: 'CONFLICT', details: { status: 'final' } });
  });

  it('marks a signed report entered in error: admin or the signer only, with a reason; it stays readable', async () => {
    const accession = await completedStudy(t, w);
    const id = await signedReport(t, accession, {}, RAD_A);
    const input = { report_id: id, version: 3, reason: 'Dictated on the wrong patient' };

    expect(
      (await call(t, 'reporting_mark_entered_in_error', { report_id: id, version: 3 }, RAD_A)).error
        .error_code,
    ).toBe('INVALID_PARAMETERS');
    const other = await callConfirmed(t, 'reporting_mark_entered_in_error', input, RAD_B);
    expect(other.error).toMatchObject({ error_code: 'FORBIDDEN', details: { report_id: id } });
    expect(other.error.message).toContain('rad-a');
    expect(
      (await call(t, 'reporting_mark_entered_in_error', input, 'transcriptionist')).error.error_code,
    ).toBe('FORBIDDEN');
    const draftId = await draftReport(t, await completedStudy(t, w), {}, RAD_A);
    const unsigned = await callConfirmed(
      t,
      'reporting_mark_entered_in_error',
      { ...input, report_id: draftId, version: 1 },
      RAD_A,
    );
    expect(unsigned.error).toMatchObject({ error_code: 'CONFLICT', details: { status: 'draft' } });

    const ask = await call(t, 'reporting_mark_entered_in_error', input, RAD_A);
    expect(ask.error.error_code).toBe('CONFIRMATION_REQUIRED');
    expect(ask.error.message).toContain('ENTERED IN ERROR');
    const marked = ok(await callConfirmed(t, 'reporting_mark_entered_in_error', input, RAD_A)).result;
    expect(marked.report).toMatchObject({
      status: 'entered-in-error',
      version: 4,
      findings: REPORT_SECTIONS.findings,
      signature: null,
    });
    expect(marked.report.notice).toMatch(/^ENTERED IN ERROR by rad-a \(radiologist\)/);
    expect(marked.report.notice).toContain('Dictated on the wrong patient');
    expect(marked.history.at(-1)).toMatchObject({ change: 'entered-in-error', signed: false });

    // The signed version is unchanged and still verifies; the referring doctor is told too.
    const v3 = ok(await call(t, 'reporting_get_report', { report_id: id, version: 3 }, 'radiologist')).result
      .report;
    expect(v3).toMatchObject({
      status: 'entered-in-error',
      shown_status: 'final',
      signature: { verified: true },
    });
    const doctor = ok(
      await call(t, 'reporting_get_report', { report_id: id }, { role: 'referring_doctor', subject: DOCTOR }),
    ).result.report;
    expect(doctor).toMatchObject({ status: 'entered-in-error', shown_version: 3 });
    expect(doctor.notice).toContain('ENTERED IN ERROR');

    const twice = await callConfirmed(t, 'reporting_mark_entered_in_error', { ...input, version: 4 }, RAD_A);
    expect(twice.error).toMatchObject({ error_code: 'CONFLICT', details: { status: 'entered-in-error' } });
    // The study may be reported again.
    expect(await draftReport(t, accession, {}, RAD_A)).not.toBe(id);

    // An administrator may mark anyone's signed report.
    const byB = await signedReport(t, await completedStudy(t, w), {}, RAD_B);
    ok(
      await callConfirmed(
        t,
        'reporting_mark_entered_in_error',
        { report_id: byB, version: 3, reason: 'Duplicate report' },
        'admin',
      ),
    );
  });
});

describe('report://{id}', () => {
  const open: Client[] = [];
  let url: string;
  beforeAll(async () => {
    url = `${await t.app.listen({ host: '127.0.0.1', port: 0 })}/mcp`;
  });
  afterAll(async () => {
    await Promise.all(open.map((c) => c.close().catch(() => {})));
  });
  async function reader(role: 'radiologist' | 'receptionist'): Promise<Client> {
    const client = await connectMcp(url, '2026', { token: await t.tokenFor(role) });
    open.push(client);
    return client;
  }

  it('reads a report through reporting_get_report for a radiologist; refused for a receptionist', async () => {
    const id = await signedReport(t, await completedStudy(t, w));
    const radiologist = await reader('radiologist');
    const templates = (await radiologist.listResourceTemplates()).resourceTemplates.map((r) => r.uriTemplate);
    expect(templates).toContain('report://{id}');
    const read = await radiologist.readResource({ uri: `report://${id}` });
    expect(read.contents[0]).toMatchObject({ uri: `report://${id}`, mimeType: 'application/json' });
    const body = JSON.parse((read.contents[0] as { text: string }).text);
    expect(body.report).toMatchObject({ report_id: id, status: 'final', findings: REPORT_SECTIONS.findings });

    const receptionist = await reader('receptionist');
    expect(
      (await receptionist.listResourceTemplates()).resourceTemplates.map((r) => r.uriTemplate),
    ).not.toContain('report://{id}');
    const refused = await receptionist.readResource({ uri: `report://${id}` }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeDefined();
    expect(JSON.stringify(refused)).not.toContain(REPORT_SECTIONS.findings);
  });
});
