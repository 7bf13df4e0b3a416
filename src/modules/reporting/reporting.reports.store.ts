/**
 * The report aggregate's SQL: the head (where a report stands) and its append-only versions. Every
 * function takes the database (or transaction) handle first; rows become `Report` / `ReportVersion`
 * objects here and never leave the module as rows. The database refuses to change a signed version
 * (trigger in migrations/0020_reporting.sql); optimistic concurrency is a compare-and-set on `version`.
 */
import { sql } from 'kysely';
import type { PatientScope } from '../../core/scope.js';
import { scoped } from '../../db/sql-helpers.js';
import { type Sections, SIGNED_STATUSES } from './reporting.rules.js';
import type { ReportingDb, ReportingTrx, ReportStatus, VersionChange } from './reporting.tables.js';

export interface Report {
  reportId: number;
  accessionNumber: string;
  patientId: string;
  status: ReportStatus;
  version: number;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface Signature {
  signedBy: string;
  signedAt: Date;
  contentSha256: string;
}

export interface ReportVersion {
  reportId: number;
  version: number;
  status: ReportStatus;
  change: VersionChange;
  sections: Sections;
  addendum: string | null;
  criticalFinding: boolean;
  icd10Codes: string[];
  reason: string | null;
  predecessorVersion: number | null;
  changedBy: string;
  changedByRole: string;
  changedAt: Date;
  signature: Signature | null;
}

export interface NewVersion {
  reportId: number;
  version: number;
  status: ReportStatus;
  change: VersionChange;
  sections: Sections;
  addendum: string | null;
  criticalFinding: boolean;
  icd10Codes: readonly string[];
  reason: string | null;
  predecessorVersion: number | null;
  changedBy: string;
  changedByRole: string;
  signature: Signature | null;
}

const LIVE_EXCLUDED: ReportStatus[] = ['cancelled', 'entered-in-error'];

/**
 * What a caller may read: its patients only (the scope is part of the query), and a scoped caller (a
 * referring doctor) signed reports only, never a draft or one in review.
 */
function visibleReports(db: ReportingDb, scope: PatientScope) {
  let query = db.selectFrom('reporting.reports').selectAll().where(scoped('patient_id', scope));
  // A signed report later entered in error stays readable to them, saying so.
  if (scope.kind !== 'all') query = query.where('status', 'in', [...SIGNED_STATUSES, 'entered-in-error']);
  return query;
}

type ReportRow = Awaited<ReturnType<ReturnType<typeof visibleReports>['executeTakeFirstOrThrow']>>;

function toReport(row: ReportRow): Report {
  return {
    reportId: Number(row.report_id),
    accessionNumber: row.accession_number,
    patientId: row.patient_id,
    status: row.status,
    version: row.version,
    createdBy: row.created_by,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

/** A new report head at version 1; undefined when the study already has a live report. */
export async function insertReport(
  tx: ReportingTrx,
  row: { accessionNumber: string; patientId: string; createdBy: string },
): Promise<number | undefined> {
  const inserted = await tx
    .insertInto('reporting.reports')
    .values({
      accession_number: row.accessionNumber,
      patient_id: row.patientId,
      status: 'draft',
      version: 1,
      created_by: row.createdBy,
    })
    .onConflict((oc) => oc.column('accession_number').where('status', 'not in', LIVE_EXCLUDED).doNothing())
    .returning('report_id')
    .executeTakeFirst();
  return inserted ? Number(inserted.report_id) : undefined;
}

export async function getReport(
  db: ReportingDb,
  reportId: number,
  scope: PatientScope,
): Promise<Report | undefined> {
  const row = await visibleReports(db, scope).where('report_id', '=', reportId).executeTakeFirst();
  return row ? toReport(row) : undefined;
}

/** The study's live report (not cancelled, not entered in error), if the caller may read it. */
export async function getLiveReportFor(
  db: ReportingDb,
  accessionNumber: string,
  scope: PatientScope,
): Promise<Report | undefined> {
  const row = await visibleReports(db, scope)
    .where('accession_number', '=', accessionNumber)
    .where('status', 'not in', LIVE_EXCLUDED)
    .executeTakeFirst();
  return row ? toReport(row) : undefined;
}

/** The study's live report id, whoever may see it (to name it in a CONFLICT); undefined when none. */
export async function liveReportIdFor(db: ReportingDb, accessionNumber: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('reporting.reports')
    .select('report_id')
    .where('accession_number', '=', accessionNumber)
    .where('status', 'not in', LIVE_EXCLUDED)
    .executeTakeFirst();
  return row ? Number(row.report_id) : undefined;
}

/**
 * Compare-and-set: moves the head from `expectedVersion` to the next version with `status`. Undefined when
 * someone else moved it first (the caller's version is stale). Concurrent calls with one version: the
 * row lock makes the second re-check `version` after the first commits, so exactly one wins.
 */
export async function advanceReport(
  tx: ReportingTrx,
  reportId: number,
  expectedVersion: number,
  status: ReportStatus,
): Promise<number | undefined> {
  const row = await tx
    .updateTable('reporting.reports')
    .set((eb) => ({ version: eb('version', '+', 1), status, updated_at: sql<Date>`now()` }))
    .where('report_id', '=', reportId)
    .where('version', '=', expectedVersion)
    .returning('version')
    .executeTakeFirst();
  return row?.version;
}

export async function insertVersion(tx: ReportingTrx, v: NewVersion): Promise<ReportVersion> {
  const row = await tx
    .insertInto('reporting.report_versions')
    .values({
      report_id: v.reportId,
      version: v.version,
      status: v.status,
      change: v.change,
      ...v.sections,
      addendum: v.addendum,
      critical_finding: v.criticalFinding,
      icd10_codes: [...v.icd10Codes],
      reason: v.reason,
      predecessor_version: v.predecessorVersion,
      changed_by: v.changedBy,
      changed_by_role: v.changedByRole,
      signed_by: v.signature?.signedBy ?? null,
      signed_at: v.signature?.signedAt ?? null,
      content_sha256: v.signature?.contentSha256 ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toVersion(row);
}

/** One version of a report (the caller has already been allowed to see the report). */
export async function getVersion(
  db: ReportingDb,
  reportId: number,
  version: number,
): Promise<ReportVersion | undefined> {
  const row = await db
    .selectFrom('reporting.report_versions')
    .selectAll()
    .where('report_id', '=', reportId)
    .where('version', '=', version)
    .executeTakeFirst();
  return row ? toVersion(row) : undefined;
}

/** Every version, oldest first. */
export async function listVersions(db: ReportingDb, reportId: number): Promise<ReportVersion[]> {
  const rows = await db
    .selectFrom('reporting.report_versions')
    .selectAll()
    .where('report_id', '=', reportId)
    .orderBy('version')
    .execute();
  return rows.map(toVersion);
}

type VersionRow = Awaited<ReturnType<ReturnType<typeof versionQuery>['executeTakeFirstOrThrow']>>;
function versionQuery(db: ReportingDb) {
  return db.selectFrom('reporting.report_versions').selectAll();
}

function toVersion(row: VersionRow): ReportVersion {
  return {
    reportId: Number(row.report_id),
    version: row.version,
    status: row.status,
    change: row.change,
    sections: {
      clinical_history: row.clinical_history,
      technique: row.technique,
      comparison: row.comparison,
      findings: row.findings,
      impression: row.impression,
      recommendations: row.recommendations,
    },
    addendum: row.addendum,
    criticalFinding: row.critical_finding,
    icd10Codes: row.icd10_codes,
    reason: row.reason,
    predecessorVersion: row.predecessor_version,
    changedBy: row.changed_by,
    changedByRole: row.changed_by_role,
    changedAt: new Date(row.changed_at),
    signature:
      row.signed_at && row.signed_by && row.content_sha256
        ? { signedBy: row.signed_by, signedAt: new Date(row.signed_at), contentSha256: row.content_sha256 }
        : null,
  };
}
