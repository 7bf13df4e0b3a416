import type { ColumnType, Generated, Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/database.js';

/** FHIR R4 `DiagnosticReport.status` values this module uses (docs/REPORTING.md). */
export const REPORT_STATUSES = [
  'draft',
  'preliminary',
  'final',
  'amended',
  'appended',
  'corrected',
  'cancelled',
  'entered-in-error',
] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];

export const VERSION_CHANGES = [
  'created',
  'updated',
  'submitted',
  'signed',
  'addendum',
  'correction',
  'cancelled',
  'entered-in-error',
] as const;
export type VersionChange = (typeof VERSION_CHANGES)[number];

/** The row shapes of schema `reporting` (migrations/0020_reporting.sql), as Kysely sees them. */
export type ReportingTables = {
  'reporting.reports': {
    report_id: Generated<number>;
    accession_number: string;
    patient_id: string;
    status: ReportStatus;
    version: number;
    created_by: string;
    created_at: ColumnType<Date, never, never>;
    updated_at: ColumnType<Date, never, Date>;
  };
  'reporting.report_versions': {
    report_id: number;
    version: number;
    status: ReportStatus;
    change: VersionChange;
    clinical_history: string;
    technique: string;
    comparison: string;
    findings: string;
    impression: string;
    recommendations: string;
    addendum: string | null;
    critical_finding: boolean;
    icd10_codes: string[];
    reason: string | null;
    predecessor_version: number | null;
    changed_by: string;
    changed_by_role: string;
    changed_at: ColumnType<Date, never, never>;
    signed_by: string | null;
    signed_at: Date | null;
    content_sha256: string | null;
  };
  /** Migration 0022: one critical-result communication per report, never changed. */
  'reporting.critical_communications': {
    communication_id: Generated<number>;
    report_id: number;
    report_version: number;
    communicated_by: string;
    communicated_by_role: string;
    recipient: string;
    communicated_at: Date;
    outcome: CriticalOutcome;
    snapshot_findings: string;
    snapshot_impression: string;
    recorded_at: ColumnType<Date, never, never>;
  };
};

/** How a critical-result call ended (docs/REPORTING.md, "Critical results"). */
export const CRITICAL_OUTCOMES = ['CONFIRMED', 'REACHED_NO_READBACK', 'UNABLE_TO_REACH'] as const;
export type CriticalOutcome = (typeof CRITICAL_OUTCOMES)[number];

export type ReportingDb = Kysely<ReportingTables>;
export type ReportingTrx = Transaction<ReportingTables>;

export function reportingDb(database: Database): ReportingDb {
  return database.db.withTables<ReportingTables>();
}
