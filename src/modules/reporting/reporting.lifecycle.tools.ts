/** Ending a report: cancel (never signed) and entered-in-error (signed, kept readable, saying so). */
import { z } from 'zod';
import { WRITE } from '../../core/annotations.js';
import type { CallContext } from '../../core/context.js';
import { ToolError } from '../../core/errors.js';
import { type AnyTool, defineTool } from '../../core/tool.js';
import {
  assertVersion,
  currentVersion,
  illegalStep,
  type ReportingDeps,
  reportAnswer,
  reportInScope,
} from './reporting.access.js';
import { listVersions, type Report } from './reporting.reports.store.js';
import { canTransition } from './reporting.rules.js';
import { expectedVersion, reportId, reportOutput } from './reporting.schemas.js';
import type { ReportStatus } from './reporting.tables.js';
import { commitVersion, statusStep } from './reporting.tools.js';

const reason = z.string().trim().min(3).max(500);

/** Who may mark a signed report entered in error: an administrator, or a radiologist who signed a version. */
async function mayMarkInError(deps: ReportingDeps, ctx: CallContext, report: Report): Promise<void> {
  if (ctx.principal.role === 'admin') return;
  const signers = new Set(
    (await listVersions(deps.db, report.reportId)).flatMap((v) =>
      v.signature ? [v.signature.signedBy] : [],
    ),
  );
  if (signers.has(ctx.principal.subject)) return;
  throw new ToolError(
    'FORBIDDEN',
    `Only an administrator or the radiologist who signed report ${report.reportId} (${[...signers].join(', ')}) ` +
      'may mark it entered in error. If it is wrong, add a correction with reporting_amend_report, or ask them.',
    { report_id: report.reportId },
  );
}

/** The report if it may move to `to` now, at the caller's version; the current version's content. */
async function closable(
  deps: ReportingDeps,
  ctx: CallContext,
  input: { report_id: number; version: number },
  to: ReportStatus,
  action: string,
) {
  const report = await reportInScope(deps, ctx, input.report_id);
  if (!canTransition(report.status, to)) throw illegalStep(report, action);
  assertVersion(report, input.version);
  return { report, current: await currentVersion(deps, report) };
}

export function reportingLifecycleTools(deps: ReportingDeps): AnyTool[] {
  const cancel = defineTool({
    name: 'reporting_cancel_report',
    title: 'Cancel an unsigned report',
    description:
      'Cancels a report that was never signed (draft or preliminary), e.g. started on the wrong study or ' +
      'the study was repeated. Kept as a version (who, when, why); the study can then get a new report ' +
      '(reporting_generate_report). Pass the version you read. A signed report cannot be cancelled: use ' +
      'reporting_mark_entered_in_error or reporting_amend_report.',
    input: z.object({
      report_id: reportId,
      version: expectedVersion,
      reason: reason.optional().describe('Why it is cancelled (kept with the version)'),
    }),
    output: reportOutput,
    permission: 'reporting:cancel',
    annotations: WRITE,
    phi: true,
    confirmation: true,
    async describeAction(input, ctx) {
      const { report } = await closable(deps, ctx, input, 'cancelled', 'cancelled');
      return (
        `Cancel report ${report.reportId} (version ${report.version}, ${report.status}) for study ` +
        `${report.accessionNumber}, patient ${report.patientId}${input.reason ? `; reason: ${input.reason}` : ''}. ` +
        'It cannot be reopened; the study may get a new report.'
      );
    },
    examples: [
      {
        description: 'Started on the wrong study',
        parameters: { report_id: 42, version: 2, reason: 'Wrong study' },
      },
    ],
    async handler(input, ctx) {
      const { report, current } = await closable(deps, ctx, input, 'cancelled', 'cancelled');
      await commitVersion(
        deps,
        ctx,
        report,
        input.version,
        statusStep(current, { status: 'cancelled', change: 'cancelled', reason: input.reason ?? null }),
      );
      return reportAnswer(deps, ctx, await reportInScope(deps, ctx, report.reportId));
    },
  });

  const enteredInError = defineTool({
    name: 'reporting_mark_entered_in_error',
    title: 'Mark a signed report entered in error',
    description:
      'Marks a signed report as entered in error (FHIR entered-in-error): it should never have existed, ' +
      'e.g. reported on the wrong patient. Only an administrator or the radiologist who signed it. The report ' +
      'stays readable, says it was entered in error (notice), and its signed versions still verify; the study ' +
      'may then get a new report. For a wrong detail, use reporting_amend_report (correction) instead.',
    input: z.object({
      report_id: reportId,
      version: expectedVersion,
      reason: reason.describe('Why the report is in error (kept with the version and shown with the report)'),
    }),
    output: reportOutput,
    permission: 'reporting:entered_in_error',
    annotations: WRITE,
    phi: true,
    confirmation: true,
    async describeAction(input, ctx) {
      const { report } = await closable(deps, ctx, input, 'entered-in-error', 'marked entered in error');
      await mayMarkInError(deps, ctx, report);
      return (
        `Mark report ${report.reportId} (version ${report.version}, ${report.status}) for study ` +
        `${report.accessionNumber}, patient ${report.patientId}, as ENTERED IN ERROR; reason: ${input.reason}. ` +
        'Everyone reading it will be told not to rely on it; this cannot be undone.'
      );
    },
    examples: [
      {
        description: 'Reported on the wrong patient',
        parameters: { report_id: 42, version: 3, reason: 'Dictated on the wrong patient' },
      },
    ],
    async handler(input, ctx) {
      const { report, current } = await closable(
        deps,
        ctx,
        input,
        'entered-in-error',
        'marked entered in error',
      );
      await mayMarkInError(deps, ctx, report);
      await commitVersion(
        deps,
        ctx,
        report,
        input.version,
        statusStep(current, {
          status: 'entered-in-error',
          change: 'entered-in-error',
          reason: input.reason,
          predecessorVersion: current.version,
        }),
      );
      return reportAnswer(deps, ctx, await reportInScope(deps, ctx, report.reportId));
    },
  });

  return [cancel, enteredInError];
}
