/**
 * Critical results' SQL (migration 0022): the one communication record per report, written once and
 * refused any change by the database, and the open criticals: live reports whose current version flags a
 * critical finding and that have no record yet.
 */
import { sql } from 'kysely';
import type { PatientScope } from '../../core/scope.js';
import { scoped } from '../../db/sql-helpers.js';
import type { CriticalOutcome, ReportingDb, ReportingTrx, ReportStatus } from './reporting.tables.js';

export interface CriticalCommunication {
  communicationId: number;
  reportId: number;
  reportVersion: number;
  communicatedBy: string;
  communicatedByRole: string;
  recipient: string;
  communicatedAt: Date;
  outcome: CriticalOutcome;
  snapshot: { findings: string; impression: string };
}

export interface OpenCritical {
  reportId: number;
  accessionNumber: string;
  patientId: string;
  status: ReportStatus;
  version: number;
  createdBy: string;
  impression: string;
  /** When a version of the report first flagged the finding. */
  flaggedAt: Date;
}

type CommunicationRow = Awaited<ReturnType<ReturnType<typeof communications>['executeTakeFirstOrThrow']>>;
function communications(db: ReportingDb | ReportingTrx) {
  return db.selectFrom('reporting.critical_communications').selectAll();
}

function toCommunication(row: CommunicationRow): CriticalCommunication {
  return {
    communicationId: Number(row.communication_id),
    reportId: Number(row.report_id),
    reportVersion: row.report_version,
    communicatedBy: row.communicated_by,
    communicatedByRole: row.communicated_by_role,
    recipient: row.recipient,
    communicatedAt: new Date(row.communicated_at),
    outcome: row.outcome,
    snapshot: { findings: row.snapshot_findings, impression: row.snapshot_impression },
  };
}

/** Writes the report's communication; undefined when it has one already (written once, never replaced). */
export async function insertCommunication(
  tx: ReportingTrx,
  c: Omit<CriticalCommunication, 'communicationId'>,
): Promise<CriticalCommunication | undefined> {
  const row = await tx
    .insertInto('reporting.critical_communications')
    .values({
      report_id: c.reportId,
      report_version: c.reportVersion,
      communicated_by: c.communicatedBy,
      communicated_by_role: c.communicatedByRole,
      recipient: c.recipient,
      communicated_at: c.communicatedAt,
      outcome: c.outcome,
      snapshot_findings: c.snapshot.findings,
      snapshot_impression: c.snapshot.impression,
    })
    .onConflict((oc) => oc.column('report_id').doNothing())
    .returningAll()
    .executeTakeFirst();
  return row ? toCommunication(row) : undefined;
}

export async function getCommunication(
  db: ReportingDb,
  reportId: number,
): Promise<CriticalCommunication | undefined> {
  const row = await communications(db).where('report_id', '=', reportId).executeTakeFirst();
  return row ? toCommunication(row) : undefined;
}

/** Live reports whose current version is flagged critical, with no communication recorded. */
function openCriticals(db: ReportingDb) {
  return db
    .selectFrom('reporting.reports as r')
    .innerJoin('reporting.report_versions as v', (join) =>
      join.onRef('v.report_id', '=', 'r.report_id').onRef('v.version', '=', 'r.version'),
    )
    .where('v.critical_finding', '=', true)
    .where('r.status', 'not in', ['cancelled', 'entered-in-error'])
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('reporting.critical_communications as c')
            .select('c.communication_id')
            .whereRef('c.report_id', '=', 'r.report_id'),
        ),
      ),
    );
}

/** The open criticals the caller may see, longest open first. */
export async function listOpenCriticals(
  db: ReportingDb,
  scope: PatientScope,
  limit: number,
): Promise<OpenCritical[]> {
  const rows = await openCriticals(db)
    .where(scoped('r.patient_id', scope))
    .select([
      'r.report_id',
      'r.accession_number',
      'r.patient_id',
      'r.status',
      'r.version',
      'r.created_by',
      'v.impression',
      sql<Date>`(SELECT min(f.changed_at) FROM reporting.report_versions f
        WHERE f.report_id = r.report_id AND f.critical_finding)`.as('flagged_at'),
    ])
    .orderBy('flagged_at')
    .orderBy('r.report_id')
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    reportId: Number(row.report_id),
    accessionNumber: row.accession_number,
    patientId: row.patient_id,
    status: row.status,
    version: row.version,
    createdBy: row.created_by,
    impression: row.impression,
    flaggedAt: new Date(row.flagged_at),
  }));
}

/** How many critical results are open, practice-wide (the gauge). */
export async function countOpenCriticals(db: ReportingDb): Promise<number> {
  const row = await openCriticals(db)
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
