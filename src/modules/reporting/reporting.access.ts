/** What the reporting tools share: their dependencies, the caller's view of a report, and its answer. */

import type { z } from 'zod';
import type { CallContext } from '../../core/context.js';
import type { DomainEvents } from '../../core/domain-events.js';
import { invalidField, ToolError } from '../../core/errors.js';
import { notVisible } from '../../core/scope.js';
import type { CodesApi } from '../codes/codes.api.js';
import type { RisApi } from '../ris/ris.api.js';
import { type CriticalCommunication, getCommunication } from './reporting.critical.store.js';
import {
  getReport,
  getVersion,
  listVersions,
  type Report,
  type ReportVersion,
} from './reporting.reports.store.js';
import { contentHash, SIGNED_STATUSES, TRANSITIONS } from './reporting.rules.js';
import type { reportOutput } from './reporting.schemas.js';
import type { ReportingDb, ReportStatus } from './reporting.tables.js';

export interface ReportingDeps {
  db: ReportingDb;
  codes: CodesApi;
  /** The RIS's read-only API: studies waiting for a report (the worklist). */
  ris: RisApi;
  events: DomainEvents;
  /** The product clock: signatures are stamped with it. */
  now(): Date;
  timeZone(): Promise<string>;
  format(instant: Date): Promise<string>;
}

/** The report if the caller may see it: NOT_FOUND for staff, the one OUT_OF_SCOPE answer for a scoped caller. */
export async function reportInScope(
  deps: ReportingDeps,
  ctx: CallContext,
  reportId: number,
): Promise<Report> {
  const scope = await ctx.patientScope();
  const report = await getReport(deps.db, reportId, scope);
  if (!report) {
    if (scope.kind !== 'all') throw notVisible(`Report ${reportId}`, { report_id: reportId });
    throw new ToolError(
      'NOT_FOUND',
      `There is no report ${reportId}. Find it by accession number with reporting_get_report.`,
      {
        report_id: reportId,
      },
    );
  }
  ctx.touchPatients(report.patientId);
  return report;
}

export async function currentVersion(deps: ReportingDeps, report: Report): Promise<ReportVersion> {
  const version = await getVersion(deps.db, report.reportId, report.version);
  if (!version)
    throw new ToolError('INTERNAL', `Report ${report.reportId} has no version ${report.version}.`);
  return version;
}

/** CONFLICT for a stale version, naming the current one. */
export function staleVersion(
  report: Pick<Report, 'reportId' | 'version' | 'status'>,
  yours: number,
): ToolError {
  return new ToolError(
    'CONFLICT',
    `Report ${report.reportId} is at version ${report.version} (${report.status}), not ${yours}: it changed ` +
      'since you read it. Read it again with reporting_get_report and re-apply your change to version ' +
      `${report.version}.`,
    {
      report_id: report.reportId,
      current_version: report.version,
      your_version: yours,
      status: report.status,
    },
  );
}

export function assertVersion(report: Report, yours: number): void {
  if (report.version !== yours) throw staleVersion(report, yours);
}

/** CONFLICT for a step the workflow does not allow from the report's status, naming what is allowed. */
export function illegalStep(report: Report, action: string): ToolError {
  const allowed = TRANSITIONS[report.status];
  const next =
    allowed.length > 0 ? `From ${report.status} it can become: ${allowed.join(', ')}.` : 'It is closed.';
  const hint = SIGNED_STATUSES.has(report.status)
    ? ' A signed report is never edited: add an addendum or a correction with reporting_amend_report.'
    : '';
  return new ToolError(
    'CONFLICT',
    `Report ${report.reportId} is ${report.status}; it cannot be ${action}. ${next}${hint}`,
    {
      report_id: report.reportId,
      status: report.status,
      allowed_next: allowed,
    },
  );
}

/** Every coding problem as INVALID_PARAMETERS on `icd10_codes`; the codes normalised when all is well. */
export async function checkIcd10(deps: ReportingDeps, codes: readonly string[] | undefined): Promise<void> {
  if (!codes || codes.length === 0) return;
  const problems = await deps.codes.validateIcd10(codes, { asOf: deps.now() });
  if (problems.length > 0) throw invalidField('icd10_codes', problems.map((p) => p.message).join(' '));
}

/** Recomputes a signed version's hash from what is stored now. */
export function verifies(report: Report, v: ReportVersion): boolean {
  if (!v.signature) return false;
  return (
    contentHash({
      report_id: report.reportId,
      accession_number: report.accessionNumber,
      patient_id: report.patientId,
      version: v.version,
      status: v.status,
      sections: v.sections,
      addendum: v.addendum,
      critical_finding: v.criticalFinding,
      icd10_codes: v.icd10Codes,
      reason: v.reason,
      predecessor_version: v.predecessorVersion,
      signed_by: v.signature.signedBy,
      signed_at: v.signature.signedAt.toISOString(),
    }) === v.signature.contentSha256
  );
}

/**
 * The answer every reporting tool gives: the report at `shownVersion` (default the current one) with its
 * history. A scoped caller (a referring doctor) is shown signed versions only.
 */
export async function reportAnswer(
  deps: ReportingDeps,
  ctx: CallContext,
  report: Report,
  shownVersion?: number,
): Promise<z.input<typeof reportOutput>> {
  const scope = await ctx.patientScope();
  const all = await listVersions(deps.db, report.reportId);
  const visible = scope.kind === 'all' ? all : all.filter((v) => v.signature !== null);
  const wanted = shownVersion ?? (scope.kind === 'all' ? report.version : visible.at(-1)?.version);
  const shown = visible.find((v) => v.version === wanted);
  if (!shown) {
    if (scope.kind !== 'all' && shownVersion !== undefined)
      throw notVisible(`Version ${shownVersion} of report ${report.reportId}`, {
        report_id: report.reportId,
      });
    throw new ToolError(
      'NOT_FOUND',
      `Report ${report.reportId} has no version ${wanted}; it has versions 1 to ${report.version}.`,
      { report_id: report.reportId, current_version: report.version },
    );
  }
  const time = (d: Date) => deps.format(d);
  const current = all.find((v) => v.version === report.version);
  const communication = await getCommunication(deps.db, report.reportId);
  return {
    report: {
      report_id: report.reportId,
      accession_number: report.accessionNumber,
      patient_id: report.patientId,
      status: report.status,
      version: report.version,
      shown_version: shown.version,
      shown_status: shown.status,
      ...shown.sections,
      critical_finding: shown.criticalFinding,
      icd10_codes: shown.icd10Codes,
      predecessor_version: shown.predecessorVersion,
      signature: shown.signature
        ? {
            signed_by: shown.signature.signedBy,
            signed_at: await time(shown.signature.signedAt),
            content_sha256: shown.signature.contentSha256,
            verified: verifies(report, shown),
          }
        : null,
      addenda: await Promise.all(
        visible
          .filter((v) => v.addendum !== null && v.version <= shown.version)
          .map(async (v) => ({
            version: v.version,
            addendum: v.addendum ?? '',
            reason: v.reason,
            signed_by: v.signature?.signedBy ?? null,
            signed_at: v.signature ? await time(v.signature.signedAt) : null,
          })),
      ),
      created_by: report.createdBy,
      created_at: await time(report.createdAt),
      updated_at: await time(report.updatedAt),
      critical_result: await criticalResultOut(
        deps,
        report,
        current?.criticalFinding ?? false,
        communication,
      ),
      notice: await closedNotice(deps, report, all),
    },
    history: await Promise.all(
      visible.map(async (v) => ({
        version: v.version,
        status: v.status,
        change: v.change,
        changed_by: v.changedBy,
        changed_by_role: v.changedByRole,
        changed_at: await time(v.changedAt),
        reason: v.reason,
        signed: v.signature !== null,
      })),
    ),
  };
}

/** Open while the current version flags a critical finding of a live report and nothing is recorded. */
async function criticalResultOut(
  deps: ReportingDeps,
  report: Report,
  flagged: boolean,
  communication: CriticalCommunication | undefined,
) {
  if (communication) return { open: false, communication: await communicationOut(deps, communication) };
  if (!flagged || report.status === 'cancelled' || report.status === 'entered-in-error') return null;
  return { open: true, communication: null };
}

export async function communicationOut(deps: ReportingDeps, c: CriticalCommunication) {
  return {
    communication_id: c.communicationId,
    report_id: c.reportId,
    report_version: c.reportVersion,
    communicated_by: c.communicatedBy,
    communicated_by_role: c.communicatedByRole,
    recipient: c.recipient,
    communicated_at: await deps.format(c.communicatedAt),
    outcome: c.outcome,
    finding: c.snapshot,
  };
}

/** A cancelled or entered-in-error report says so: who closed it, when and why. */
async function closedNotice(
  deps: ReportingDeps,
  report: Report,
  all: readonly ReportVersion[],
): Promise<string | null> {
  if (report.status !== 'cancelled' && report.status !== 'entered-in-error') return null;
  const closing = all.findLast((v) => v.change === report.status);
  if (!closing) return null;
  const when = await deps.format(closing.changedAt);
  const why = closing.reason ? `: ${closing.reason}` : '';
  return report.status === 'entered-in-error'
    ? `ENTERED IN ERROR by ${closing.changedBy} (${closing.changedByRole}) at ${when}${why}. Do not rely on ` +
        'this report; its text is kept for the record only.'
    : `Cancelled by ${closing.changedBy} (${closing.changedByRole}) at ${when}${why}. It was never signed; a ` +
        'new report for the study can be started with reporting_generate_report.';
}

export type { ReportStatus };
