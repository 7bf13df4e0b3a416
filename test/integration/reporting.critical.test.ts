import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrapeMetrics, startTestApp, type TestApp } from '../harness/app.js';
import {
  completedStudy,
  draftReport,
  ok,
  REPORT_SECTIONS,
  type ReportingWorld,
  reportingWorld,
  signedReport,
} from '../harness/reporting.js';
import { call, callConfirmed } from '../harness/ris.js';

// Critical results through the front door, on a real PostgreSQL database (docs/REPORTING.md).
let t: TestApp;
let w: ReportingWorld;

beforeAll(async () => {
  t = await startTestApp();
  w = await reportingWorld(t, 'dr-critical');
});
afterAll(() => t?.close());

async function openIds(as: 'radiologist' | 'admin' = 'radiologist'): Promise<number[]> {
  const res = ok(await call(t, 'reporting_list_open_criticals', {}, as));
  expect(res.result.count).toBe(res.result.open_criticals.length);
  return res.result.open_criticals.map((o: { report_id: number }) => o.report_id);
}

async function gauge(): Promise<number> {
  const line = (await scrapeMetrics(t))
    .split('\n')
    .find((l) => l.startsWith('upc_reporting_open_critical_results '));
  expect(line, 'the gauge is exposed').toBeDefined();
  return Number(line?.split(' ')[1]);
}

describe('critical results', () => {
  it('stay open until the communication is recorded, once; the gauge counts them', async () => {
    expect(await gauge()).toBe(0);
    const critical = await signedReport(t, await completedStudy(t, w), { critical_finding: true });
    const draftCritical = await draftReport(t, await completedStudy(t, w), { critical_finding: true });
    const plain = await signedReport(t, await completedStudy(t, w));

    expect(await openIds()).toEqual(expect.arrayContaining([critical, draftCritical]));
    expect(await openIds('admin')).not.toContain(plain);
    expect(await gauge()).toBe(2);

    const listed = ok(await call(t, 'reporting_list_open_criticals', {}, 'radiologist')).result
      .open_criticals;
    expect(listed.find((o: { report_id: number }) => o.report_id === critical)).toMatchObject({
      status: 'final',
      version: 3,
      radiologist: 'test-radiologist',
      impression: REPORT_SECTIONS.impression,
    });
    // The report itself says the critical result is open.
    const before = ok(await call(t, 'reporting_get_report', { report_id: critical }, 'radiologist')).result
      .report;
    expect(before.critical_result).toEqual({ open: true, communication: null });

    const recorded = ok(
      await call(
        t,
        'reporting_record_critical_communication',
        {
          report_id: critical,
          version: 3,
          recipient: 'Dr N Dlamini, referring physician',
          outcome: 'CONFIRMED',
        },
        'radiologist',
      ),
    ).result.communication;
    expect(recorded).toMatchObject({
      report_id: critical,
      report_version: 3,
      communicated_by: 'test-radiologist',
      communicated_by_role: 'radiologist',
      recipient: 'Dr N Dlamini, referring physician',
      outcome: 'CONFIRMED',
      finding: { findings: REPORT_SECTIONS.findings, impression: REPORT_SECTIONS.impression },
    });
    // Server time: the product clock, not a parameter.
    expect(new Date(recorded.communicated_at).getTime()).toBe(t.clock.now().getTime());

    expect(await openIds()).not.toContain(critical);
    expect(await openIds()).toContain(draftCritical);
    expect(await gauge()).toBe(1);
    const after = ok(await call(t, 'reporting_get_report', { report_id: critical }, 'radiologist')).result
      .report;
    expect(after.critical_result).toMatchObject({ open: false, communication: { outcome: 'CONFIRMED' } });

    // Written once: a second record is refused, whatever it says.
    const second = await call(
      t,
      'reporting_record_critical_communication',
      { report_id: critical, version: 3, recipient: 'Someone else', outcome: 'UNABLE_TO_REACH' },
      'radiologist',
    );
    expect(second.error).toMatchObject({ error_code: 'CONFLICT', details: { report_id: critical } });
    expect(second.error.message).toContain('already communicated');

    // Nor by raw SQL: the database refuses to change or delete the record.
    const client = new pg.Client({ connectionString: t.database.url });
    await client.connect();
    try {
      await expect(
        client.query(
          `UPDATE reporting.critical_communications SET outcome = 'UNABLE_TO_REACH' WHERE report_id = $1`,
          [critical],
        ),
      ).rejects.toThrow(/cannot be changed or deleted/);
      await expect(
        client.query('DELETE FROM reporting.critical_communications WHERE report_id = $1', [critical]),
      ).rejects.toThrow(/cannot be changed or deleted/);
      await expect(client.query('TRUNCATE reporting.critical_communications')).rejects.toThrow(
        /cannot be truncated/,
      );
      await expect(
        client.query(
          `INSERT INTO reporting.critical_communications (report_id, report_version, communicated_by,
             communicated_by_role, recipient, communicated_at, outcome, snapshot_findings, snapshot_impression)
           VALUES ($1, 3, 'x', 'radiologist', 'y', now(), 'CONFIRMED', '', '')`,
          [critical],
        ),
      ).rejects.toThrow(/duplicate key/);
    } finally {
      await client.end();
    }
    const still = ok(await call(t, 'reporting_get_report', { report_id: critical }, 'radiologist')).result
      .report;
    expect(still.critical_result.communication.outcome).toBe('CONFIRMED');
  });

  it('refuses what is not a critical result to record, and callers without the right', async () => {
    const plain = await signedReport(t, await completedStudy(t, w));
    const notFlagged = await call(
      t,
      'reporting_record_critical_communication',
      { report_id: plain, version: 3, recipient: 'Dr X', outcome: 'CONFIRMED' },
      'radiologist',
    );
    expect(notFlagged.error).toMatchObject({ error_code: 'CONFLICT', details: { report_id: plain } });

    const flagged = await draftReport(t, await completedStudy(t, w), { critical_finding: true });
    const stale = await call(
      t,
      'reporting_record_critical_communication',
      { report_id: flagged, version: 7, recipient: 'Dr X', outcome: 'CONFIRMED' },
      'radiologist',
    );
    expect(stale.error).toMatchObject({ error_code: 'CONFLICT', details: { current_version: 1 } });
    for (const role of ['transcriptionist', 'receptionist'] as const) {
      expect(
        (
          await call(
            t,
            'reporting_record_critical_communication',
            { report_id: flagged, version: 1, recipient: 'Dr X', outcome: 'CONFIRMED' },
            role,
          )
        ).error.error_code,
      ).toBe('FORBIDDEN');
      expect((await call(t, 'reporting_list_open_criticals', {}, role)).error.error_code).toBe('FORBIDDEN');
    }

    // Cancelling a flagged draft closes its critical result without a record.
    const before = await gauge();
    ok(await callConfirmed(t, 'reporting_cancel_report', { report_id: flagged, version: 1 }, 'radiologist'));
    expect(await openIds()).not.toContain(flagged);
    expect(await gauge()).toBe(before - 1);
  });
});
