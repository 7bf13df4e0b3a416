/** Critical results: record the communication once, list the open ones (docs/REPORTING.md). */
import { z } from 'zod';
import { READ_ONLY, WRITE } from '../../core/annotations.js';
import { ToolError } from '../../core/errors.js';
import { type AnyTool, defineTool } from '../../core/tool.js';
import {
  assertVersion,
  communicationOut,
  currentVersion,
  type ReportingDeps,
  reportInScope,
} from './reporting.access.js';
import { communicationSchema, criticalOutcome } from './reporting.critical.schemas.js';
import { getCommunication, insertCommunication, listOpenCriticals } from './reporting.critical.store.js';
import { expectedVersion, reportId } from './reporting.schemas.js';

const zoned = z.string().describe('ISO 8601 in the practice time zone');

function alreadyRecorded(reportIdValue: number, by: string, at: string): ToolError {
  return new ToolError(
    'CONFLICT',
    `The critical result of report ${reportIdValue} was already communicated (recorded by ${by} at ${at}). ` +
      'A communication record is written once and never changed; read it with reporting_get_report.',
    { report_id: reportIdValue },
  );
}

export function reportingCriticalTools(deps: ReportingDeps): AnyTool[] {
  const record = defineTool({
    name: 'reporting_record_critical_communication',
    title: 'Record a critical-result communication',
    description:
      'Records that the critical finding of a report was communicated: you (the signed-in radiologist) called ' +
      '`recipient`, with the outcome (CONFIRMED with read-back, REACHED_NO_READBACK, UNABLE_TO_REACH). The ' +
      'time is the server time and the finding is snapshotted from the version you read. Written once per ' +
      'report, never changed: it closes the open critical result. Pass the version you read.',
    input: z.object({
      report_id: reportId,
      version: expectedVersion,
      recipient: z
        .string()
        .trim()
        .min(2)
        .max(200)
        .describe('Whom you called: name and capacity, e.g. "Dr N Dlamini, referring physician"'),
      outcome: criticalOutcome,
    }),
    output: z.object({ communication: communicationSchema }),
    permission: 'reporting:critical_communicate',
    annotations: WRITE,
    phi: true,
    examples: [
      {
        description: 'Read back by the referring doctor',
        parameters: {
          report_id: 42,
          version: 3,
          recipient: 'Dr N Dlamini, referring physician',
          outcome: 'CONFIRMED',
        },
      },
    ],
    async handler(input, ctx) {
      const report = await reportInScope(deps, ctx, input.report_id);
      const existing = await getCommunication(deps.db, report.reportId);
      if (existing)
        throw alreadyRecorded(
          report.reportId,
          existing.communicatedBy,
          await deps.format(existing.communicatedAt),
        );
      if (report.status === 'cancelled' || report.status === 'entered-in-error')
        throw new ToolError(
          'CONFLICT',
          `Report ${report.reportId} is ${report.status}: it has no critical result to communicate.`,
          { report_id: report.reportId, status: report.status },
        );
      assertVersion(report, input.version);
      const current = await currentVersion(deps, report);
      if (!current.criticalFinding)
        throw new ToolError(
          'CONFLICT',
          `Report ${report.reportId} version ${report.version} does not flag a critical finding. Flag it first ` +
            '(reporting_update_report, or a correction with reporting_amend_report once signed).',
          { report_id: report.reportId, current_version: report.version },
        );
      const written = await deps.db.transaction().execute((tx) =>
        insertCommunication(tx, {
          reportId: report.reportId,
          reportVersion: current.version,
          communicatedBy: ctx.principal.subject,
          communicatedByRole: ctx.principal.role,
          recipient: input.recipient,
          communicatedAt: deps.now(),
          outcome: input.outcome,
          snapshot: { findings: current.sections.findings, impression: current.sections.impression },
        }),
      );
      if (!written) {
        // Someone recorded it between our read and our write.
        const now = await getCommunication(deps.db, report.reportId);
        throw alreadyRecorded(
          report.reportId,
          now?.communicatedBy ?? 'someone else',
          now ? await deps.format(now.communicatedAt) : 'just now',
        );
      }
      return { communication: await communicationOut(deps, written) };
    },
  });

  const listOpen = defineTool({
    name: 'reporting_list_open_criticals',
    title: 'Open critical results',
    description:
      'Reports flagging a critical finding whose communication is not recorded yet, longest open first: ' +
      'each must be called through to a named person and recorded with ' +
      'reporting_record_critical_communication.',
    input: z.object({
      limit: z.number().int().min(1).max(500).default(100).describe('At most this many (default 100)'),
    }),
    output: z.object({
      open_criticals: z.array(
        z.object({
          report_id: z.number().int(),
          accession_number: z.string(),
          patient_id: z.string(),
          status: z.string().describe('The report status (draft, preliminary, final, ...)'),
          version: z.number().int().describe('The current version: pass it to the record tool'),
          radiologist: z.string().describe('Who started the report'),
          impression: z.string(),
          flagged_at: zoned.describe('When a version first flagged the finding'),
          open_minutes: z.number().int().describe('Minutes since flagged, by the server clock'),
        }),
      ),
      count: z.number().int(),
      time_zone: z.string(),
    }),
    permission: 'reporting:critical_list',
    annotations: READ_ONLY,
    phi: true,
    examples: [{ description: 'Everything still to call through', parameters: {} }],
    async handler(input, ctx) {
      const open = await listOpenCriticals(deps.db, await ctx.patientScope(), input.limit);
      ctx.touchPatients(...new Set(open.map((o) => o.patientId)));
      const now = deps.now().getTime();
      return {
        open_criticals: await Promise.all(
          open.map(async (o) => ({
            report_id: o.reportId,
            accession_number: o.accessionNumber,
            patient_id: o.patientId,
            status: o.status,
            version: o.version,
            radiologist: o.createdBy,
            impression: o.impression,
            flagged_at: await deps.format(o.flaggedAt),
            open_minutes: Math.max(0, Math.floor((now - o.flaggedAt.getTime()) / 60_000)),
          })),
        ),
        count: open.length,
        time_zone: await deps.timeZone(),
      };
    },
  });

  return [record, listOpen];
}
