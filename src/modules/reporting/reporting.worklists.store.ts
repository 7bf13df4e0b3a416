/**
 * The reporting worklists' SQL: reports waiting in one status (the review and signature queues), and the
 * live reports of a set of studies (to leave out studies already signed from "to report").
 */
import type { PatientScope } from '../../core/scope.js';
import { scoped } from '../../db/sql-helpers.js';
import type { ReportingDb, ReportStatus } from './reporting.tables.js';

export interface QueuedReport {
  reportId: number;
  accessionNumber: string;
  patientId: string;
  status: ReportStatus;
  version: number;
  createdBy: string;
  criticalFinding: boolean;
  /** When the report last changed (the start of its wait in this queue, at the latest). */
  updatedAt: Date;
}

/** Reports in `status`, optionally started by one radiologist, critical first, then longest waiting. */
export async function reportsInStatus(
  db: ReportingDb,
  q: { status: ReportStatus; createdBy?: string; limit: number },
  scope: PatientScope,
): Promise<QueuedReport[]> {
  let query = db
    .selectFrom('reporting.reports as r')
    .innerJoin('reporting.report_versions as v', (join) =>
      join.onRef('v.report_id', '=', 'r.report_id').onRef('v.version', '=', 'r.version'),
    )
    .select([
      'r.report_id',
      'r.accession_number',
      'r.patient_id',
      'r.status',
      'r.version',
      'r.created_by',
      'r.updated_at',
      'v.critical_finding',
    ])
    .where('r.status', '=', q.status)
    .where(scoped('r.patient_id', scope));
  if (q.createdBy !== undefined) query = query.where('r.created_by', '=', q.createdBy);
  const rows = await query
    .orderBy('v.critical_finding', 'desc')
    .orderBy('r.updated_at')
    .orderBy('r.report_id')
    .limit(q.limit)
    .execute();
  return rows.map((row) => ({
    reportId: Number(row.report_id),
    accessionNumber: row.accession_number,
    patientId: row.patient_id,
    status: row.status,
    version: row.version,
    createdBy: row.created_by,
    criticalFinding: row.critical_finding,
    updatedAt: new Date(row.updated_at),
  }));
}

/** The live report (not cancelled, not entered in error) of each of these studies that has one. */
export async function liveReportsFor(
  db: ReportingDb,
  accessionNumbers: readonly string[],
): Promise<Map<string, { reportId: number; status: ReportStatus; version: number }>> {
  if (accessionNumbers.length === 0) return new Map();
  const rows = await db
    .selectFrom('reporting.reports')
    .select(['report_id', 'accession_number', 'status', 'version'])
    .where('accession_number', 'in', [...accessionNumbers])
    .where('status', 'not in', ['cancelled', 'entered-in-error'])
    .execute();
  return new Map(
    rows.map((r) => [
      r.accession_number,
      { reportId: Number(r.report_id), status: r.status, version: r.version },
    ]),
  );
}
