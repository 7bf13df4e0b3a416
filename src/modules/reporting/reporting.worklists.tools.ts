/** The reporting worklists: studies to report, the review queue and the signature queue (docs/REPORTING.md). */
import { z } from 'zod';
import { READ_ONLY } from '../../core/annotations.js';
import { type AnyTool, defineTool } from '../../core/tool.js';
import type { ReportingDeps } from './reporting.access.js';
import { SIGNED_STATUSES } from './reporting.rules.js';
import { REPORT_STATUSES } from './reporting.tables.js';
import { liveReportsFor, reportsInStatus } from './reporting.worklists.store.js';

const QUEUES = ['to_report', 'review', 'signature'] as const;
/** How many COMPLETED studies are read from the RIS before those already signed are left out. */
const TO_REPORT_READ = 500;

const zoned = z.string().describe('ISO 8601 in the practice time zone');

const itemSchema = z.object({
  accession_number: z.string(),
  patient_id: z.string(),
  patient_name: z.string().nullable().describe('DICOM order Family^Given (to_report only)'),
  modality: z.string().nullable(),
  study_description: z.string().nullable(),
  priority: z.string().nullable().describe('stat, urgent or routine (to_report only)'),
  report_id: z.number().int().nullable().describe('The live report, if one is started'),
  report_status: z.enum(REPORT_STATUSES).nullable(),
  version: z.number().int().nullable().describe('The report version to pass to the next write'),
  critical_finding: z.boolean().nullable(),
  radiologist: z.string().nullable().describe('Who started the report'),
  waiting_since: zoned.describe('Study completed (to_report) or report last changed (review, signature)'),
  waiting_minutes: z.number().int().describe('Minutes waiting, by the server clock'),
});

export function reportingWorklistTools(deps: ReportingDeps): AnyTool[] {
  const worklist = defineTool({
    name: 'reporting_get_worklist',
    title: 'Reporting worklist',
    description:
      'One reporting queue. to_report (radiologists): studies scanned (RIS COMPLETED) without a signed report, ' +
      'stat before urgent before routine, then oldest first, with the draft if one is started. review ' +
      '(transcriptionists): dictated drafts to check and submit (reporting_submit_report), critical first, ' +
      'then oldest. signature (radiologists): your own preliminary reports waiting for your signature ' +
      '(reporting_sign_report), critical first, then oldest.',
    input: z.object({
      queue: z.enum(QUEUES).describe('to_report, review or signature'),
      limit: z.number().int().min(1).max(200).default(50).describe('At most this many (default 50)'),
    }),
    output: z.object({
      queue: z.enum(QUEUES),
      time_zone: z.string(),
      items: z.array(itemSchema),
      count: z.number().int(),
    }),
    permission: 'reporting:read',
    // Which role works which queue is policy data: reporting:worklist_<queue>.
    inputPermissions: (input) => [
      { permission: `reporting:worklist_${input.queue}`, action: `open the ${input.queue} worklist` },
    ],
    annotations: READ_ONLY,
    phi: true,
    examples: [
      { description: 'What is waiting to be reported', parameters: { queue: 'to_report' } },
      { description: 'My reports to sign', parameters: { queue: 'signature' } },
    ],
    async handler(input, ctx) {
      const scope = await ctx.patientScope();
      const now = deps.now().getTime();
      const minutes = (since: Date) => Math.max(0, Math.floor((now - since.getTime()) / 60_000));
      let items: z.input<typeof itemSchema>[];
      if (input.queue === 'to_report') {
        const studies = await deps.ris.completedStudies(scope, TO_REPORT_READ);
        const reports = await liveReportsFor(
          deps.db,
          studies.map((s) => s.accessionNumber),
        );
        // The RIS moves a study to REPORTED after the signature's event: until then, leave it out here.
        const waiting = studies
          .filter((s) => {
            const report = reports.get(s.accessionNumber);
            return !report || !SIGNED_STATUSES.has(report.status);
          })
          .slice(0, input.limit);
        items = await Promise.all(
          waiting.map(async (s) => {
            const report = reports.get(s.accessionNumber);
            return {
              accession_number: s.accessionNumber,
              patient_id: s.patientId,
              patient_name: s.patientName,
              modality: s.modality,
              study_description: s.studyDescription,
              priority: s.priority,
              report_id: report?.reportId ?? null,
              report_status: report?.status ?? null,
              version: report?.version ?? null,
              critical_finding: null,
              radiologist: null,
              waiting_since: await deps.format(s.completedAt),
              waiting_minutes: minutes(s.completedAt),
            };
          }),
        );
      } else {
        const queued = await reportsInStatus(
          deps.db,
          input.queue === 'review'
            ? { status: 'draft', limit: input.limit }
            : { status: 'preliminary', createdBy: ctx.principal.subject, limit: input.limit },
          scope,
        );
        items = await Promise.all(
          queued.map(async (r) => ({
            accession_number: r.accessionNumber,
            patient_id: r.patientId,
            patient_name: null,
            modality: null,
            study_description: null,
            priority: null,
            report_id: r.reportId,
            report_status: r.status,
            version: r.version,
            critical_finding: r.criticalFinding,
            radiologist: r.createdBy,
            waiting_since: await deps.format(r.updatedAt),
            waiting_minutes: minutes(r.updatedAt),
          })),
        );
      }
      ctx.touchPatients(...new Set(items.map((i) => i.patient_id)));
      return { queue: input.queue, time_zone: await deps.timeZone(), items, count: items.length };
    },
  });
  return [worklist];
}
