import { z } from 'zod';
import { READ_ONLY, WRITE } from '../../core/annotations.js';
import type { CallContext } from '../../core/context.js';
import { invalidField, ToolError } from '../../core/errors.js';
import { type AnyTool, defineTool } from '../../core/tool.js';
import {
  assertVersion,
  checkIcd10,
  currentVersion,
  illegalStep,
  type ReportingDeps,
  reportAnswer,
  reportInScope,
  staleVersion,
} from './reporting.access.js';
import {
  advanceReport,
  getLiveReportFor,
  getReport,
  insertReport,
  insertVersion,
  liveReportIdFor,
  type Report,
  type ReportVersion,
} from './reporting.reports.store.js';
import {
  canTransition,
  contentHash,
  EDITABLE_STATUSES,
  missingForSignature,
  SECTIONS,
  type Sections,
} from './reporting.rules.js';
import {
  expectedVersion,
  icd10Input,
  reportId,
  reportOutput,
  sectionInputs,
  signOutput,
} from './reporting.schemas.js';
import type { ReportStatus, VersionChange } from './reporting.tables.js';
import { linkTemplate, templatesDb } from './reporting.templates.store.js';
import { signingWarnings, templateForNewReport } from './reporting.templates.tools.js';

/** The little of the RIS's `ris_get_order` answer this module needs: read through the pipeline, not RIS code. */
const orderAnswer = z.object({ order: z.object({ accession_number: z.string(), patient_id: z.string() }) });

const accessionNumber = z
  .string()
  .trim()
  .toUpperCase()
  .min(1)
  .max(32)
  .describe("The order's accession number");

type SectionPatch = Partial<Record<(typeof SECTIONS)[number], string | undefined>>;

function patched(sections: Sections, patch: SectionPatch): Sections {
  const out = { ...sections };
  for (const name of SECTIONS) if (patch[name] !== undefined) out[name] = patch[name] as string;
  return out;
}

export interface NextVersion {
  status: ReportStatus;
  change: VersionChange;
  sections: Sections;
  addendum: string | null;
  criticalFinding: boolean;
  icd10Codes: readonly string[];
  reason: string | null;
  predecessorVersion: number | null;
  sign: boolean;
}

/**
 * The next version of a report whose content stays as it is and whose status moves (submitted, signed,
 * cancelled, entered in error).
 */
export function statusStep(
  current: Pick<ReportVersion, 'sections' | 'criticalFinding' | 'icd10Codes'>,
  step: Pick<NextVersion, 'status' | 'change'> &
    Partial<Pick<NextVersion, 'reason' | 'predecessorVersion' | 'sign'>>,
): NextVersion {
  return {
    sections: current.sections,
    addendum: null,
    criticalFinding: current.criticalFinding,
    icd10Codes: current.icd10Codes,
    reason: null,
    predecessorVersion: null,
    sign: false,
    ...step,
  };
}

/**
 * Writes the next version in one transaction (a savepoint of the call's): compare-and-set on the head's
 * version, the version row (signed when asked: hash of the exact content, product-clock timestamp), and
 * the domain event of a signature. A stale version answers CONFLICT naming the current one.
 */
export async function commitVersion(
  deps: ReportingDeps,
  ctx: CallContext,
  report: Report,
  expected: number,
  next: NextVersion,
): Promise<number> {
  const written = await deps.db.transaction().execute(async (tx) => {
    const version = await advanceReport(tx, report.reportId, expected, next.status);
    if (version === undefined) return undefined;
    const signedAt = deps.now();
    const signature = next.sign
      ? {
          signedBy: ctx.principal.subject,
          signedAt,
          contentSha256: contentHash({
            report_id: report.reportId,
            accession_number: report.accessionNumber,
            patient_id: report.patientId,
            version,
            status: next.status,
            sections: next.sections,
            addendum: next.addendum,
            critical_finding: next.criticalFinding,
            icd10_codes: next.icd10Codes,
            reason: next.reason,
            predecessor_version: next.predecessorVersion,
            signed_by: ctx.principal.subject,
            signed_at: signedAt.toISOString(),
          }),
        }
      : null;
    await insertVersion(tx, {
      reportId: report.reportId,
      version,
      status: next.status,
      change: next.change,
      sections: next.sections,
      addendum: next.addendum,
      criticalFinding: next.criticalFinding,
      icd10Codes: next.icd10Codes,
      reason: next.reason,
      predecessorVersion: next.predecessorVersion,
      changedBy: ctx.principal.subject,
      changedByRole: ctx.principal.role,
      signature,
    });
    if (next.sign) {
      // Identifiers only: the report text never leaves through the outbox.
      await deps.events.publish(tx, {
        type: next.change === 'signed' ? 'reporting.report.signed' : 'reporting.report.amended',
        key: report.accessionNumber,
        payload: {
          report_id: report.reportId,
          accession_number: report.accessionNumber,
          version,
          status: next.status,
          signed_by: ctx.principal.subject,
        },
      });
    }
    return version;
  });
  if (written === undefined) {
    const now = await getReport(deps.db, report.reportId, { kind: 'all' });
    throw staleVersion(now ?? report, expected);
  }
  return written;
}

async function fresh(deps: ReportingDeps, ctx: CallContext, id: number): Promise<Report> {
  return reportInScope(deps, ctx, id);
}

/** Checks a sign or submit is possible now: the version read, a legal step, the required sections. */
async function readyFor(
  deps: ReportingDeps,
  ctx: CallContext,
  input: { report_id: number; version: number },
  to: ReportStatus,
  action: string,
): Promise<{ report: Report; current: ReportVersion }> {
  const report = await reportInScope(deps, ctx, input.report_id);
  if (!canTransition(report.status, to)) throw illegalStep(report, action);
  assertVersion(report, input.version);
  const current = await currentVersion(deps, report);
  const missing = missingForSignature(current.sections);
  if (missing.length > 0)
    throw new ToolError(
      'CONFLICT',
      `Report ${report.reportId} cannot be ${action} while ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} empty. ` +
        'Fill them in with reporting_update_report first.',
      { report_id: report.reportId, missing_sections: missing },
    );
  return { report, current };
}

export function reportingTools(deps: ReportingDeps): AnyTool[] {
  const generate = defineTool({
    name: 'reporting_generate_report',
    title: 'Start a report (draft)',
    description:
      'Creates the draft report for one study (order) by accession number, with whatever sections are known ' +
      'so far (often the clinical history from the order and the dictated findings). One live report per ' +
      'study: if there is one already, this answers CONFLICT naming it; change it with reporting_update_report. ' +
      'The draft is version 1; it is never final until a radiologist signs it (reporting_sign_report).',
    input: z.object({
      accession_number: accessionNumber,
      ...sectionInputs,
      critical_finding: z
        .boolean()
        .default(false)
        .describe('True when the study shows a critical (urgent) finding'),
      icd10_codes: icd10Input.optional(),
      template_id: z
        .string()
        .trim()
        .min(1)
        .max(100)
        .optional()
        .describe(
          'Start from this template (reporting_get_templates): its text and "Label:" field lines fill the ' +
            'sections not given; its PROHIBIT fields must be filled before signing',
        ),
      macro: z
        .string()
        .trim()
        .min(1)
        .max(100)
        .optional()
        .describe('A macro of the template (e.g. normal_chest): its text fills the sections it names'),
    }),
    output: reportOutput,
    permission: 'reporting:create',
    annotations: WRITE,
    phi: true,
    examples: [
      {
        description: 'A chest X-ray draft from dictation',
        parameters: {
          accession_number: 'ACC00000123',
          clinical_history: 'Cough and fever for 5 days.',
          technique: 'PA chest radiograph.',
          comparison: 'None.',
          findings: 'Consolidation in the right lower lobe. No effusion.',
          impression: 'Right lower lobe pneumonia.',
          icd10_codes: ['J18.9'],
        },
      },
    ],
    async handler(input, ctx) {
      // The order, as this same caller: authorised, scoped and audited like any call.
      const { order } = orderAnswer.parse(
        await ctx.invoke('ris_get_order', { accession_number: input.accession_number }),
      );
      ctx.touchPatients(order.patient_id);
      await checkIcd10(deps, input.icd10_codes);
      const fromTemplate = await templateForNewReport(deps, input.template_id, input.macro);
      const empty: Sections = fromTemplate?.sections ?? {
        clinical_history: '',
        technique: '',
        comparison: '',
        findings: '',
        impression: '',
        recommendations: '',
      };
      const created = await deps.db.transaction().execute(async (tx) => {
        const id = await insertReport(tx, {
          accessionNumber: order.accession_number,
          patientId: order.patient_id,
          createdBy: ctx.principal.subject,
        });
        if (id === undefined) return undefined;
        await insertVersion(tx, {
          reportId: id,
          version: 1,
          status: 'draft',
          change: 'created',
          sections: patched(empty, input),
          addendum: null,
          criticalFinding: input.critical_finding,
          icd10Codes: input.icd10_codes ?? [],
          reason: null,
          predecessorVersion: null,
          changedBy: ctx.principal.subject,
          changedByRole: ctx.principal.role,
          signature: null,
        });
        if (fromTemplate)
          await linkTemplate(templatesDb(tx), {
            reportId: id,
            templateId: fromTemplate.template.template_id,
            macro: fromTemplate.macro?.name ?? null,
            appliedBy: ctx.principal.subject,
          });
        return id;
      });
      if (created === undefined) {
        const existing = await liveReportIdFor(deps.db, order.accession_number);
        throw new ToolError(
          'CONFLICT',
          `Study ${order.accession_number} already has report ${existing}; read it with reporting_get_report and ` +
            'change it with reporting_update_report.',
          { accession_number: order.accession_number, report_id: existing },
        );
      }
      return reportAnswer(deps, ctx, await fresh(deps, ctx, created));
    },
  });

  const get = defineTool({
    name: 'reporting_get_report',
    title: 'Get a report',
    description:
      "One report by report id or by accession number (the study's live report): its status (FHIR " +
      'DiagnosticReport.status), sections, critical-finding flag, ICD-10 codes, signature (with a check that ' +
      'the signed content is unchanged), addenda and the full version history. Pass `version` to read an ' +
      "earlier version (an amended report's original stays readable). Referring doctors see signed reports " +
      'of their own patients only.',
    input: z
      .object({
        report_id: reportId.optional(),
        accession_number: accessionNumber.optional(),
        version: z
          .number()
          .int()
          .positive()
          .optional()
          .describe('An earlier version to show; default the current'),
      })
      .refine((i) => (i.report_id === undefined) !== (i.accession_number === undefined), {
        message: 'give report_id or accession_number (one of them)',
      }),
    output: reportOutput,
    permission: 'reporting:read',
    annotations: READ_ONLY,
    phi: true,
    examples: [
      { description: 'By accession number', parameters: { accession_number: 'ACC00000123' } },
      { description: 'The original of an amended report', parameters: { report_id: 42, version: 3 } },
    ],
    async handler(input, ctx) {
      let report: Report;
      if (input.report_id !== undefined) report = await reportInScope(deps, ctx, input.report_id);
      else {
        const scope = await ctx.patientScope();
        const found = await getLiveReportFor(deps.db, input.accession_number as string, scope);
        if (!found) {
          if (scope.kind !== 'all')
            throw new ToolError(
              'OUT_OF_SCOPE',
              `There is no signed report you may see for ${input.accession_number}: it is not reported yet, or the ` +
                'patient is outside your scope (not referred by or assigned to you).',
              { accession_number: input.accession_number },
            );
          throw new ToolError(
            'NOT_FOUND',
            `Study ${input.accession_number} has no report yet. Start one with reporting_generate_report.`,
            { accession_number: input.accession_number },
          );
        }
        ctx.touchPatients(found.patientId);
        report = found;
      }
      return reportAnswer(deps, ctx, report, input.version);
    },
  });

  const update = defineTool({
    name: 'reporting_update_report',
    title: 'Update a draft report',
    description:
      'Changes a report that is not signed yet (draft or preliminary): the sections given replace those ' +
      'sections, the rest stay. Pass the `version` you read: if someone changed the report since, this answers ' +
      'CONFLICT naming the current version (read it again, re-apply). Every change is kept as a new version. ' +
      'A signed report cannot be updated: use reporting_amend_report.',
    input: z.object({
      report_id: reportId,
      version: expectedVersion,
      ...sectionInputs,
      critical_finding: z.boolean().optional().describe('Set or clear the critical-finding flag'),
      icd10_codes: icd10Input.optional().describe('Replaces the codes; [] clears them'),
    }),
    output: reportOutput,
    permission: 'reporting:update',
    annotations: WRITE,
    phi: true,
    examples: [
      {
        description: 'A transcriptionist corrects the findings',
        parameters: {
          report_id: 42,
          version: 1,
          findings: 'Consolidation in the right lower lobe. No pleural effusion.',
        },
      },
    ],
    async handler(input, ctx) {
      const changes = [...SECTIONS, 'critical_finding', 'icd10_codes'] as const;
      if (changes.every((name) => input[name] === undefined))
        throw invalidField(
          'report_id',
          'nothing to change: give at least one section, critical_finding or icd10_codes',
        );
      const report = await reportInScope(deps, ctx, input.report_id);
      if (!EDITABLE_STATUSES.has(report.status)) throw illegalStep(report, 'updated');
      assertVersion(report, input.version);
      await checkIcd10(deps, input.icd10_codes);
      const current = await currentVersion(deps, report);
      await commitVersion(deps, ctx, report, input.version, {
        status: report.status,
        change: 'updated',
        sections: patched(current.sections, input),
        addendum: null,
        criticalFinding: input.critical_finding ?? current.criticalFinding,
        icd10Codes: input.icd10_codes ?? current.icd10Codes,
        reason: null,
        predecessorVersion: null,
        sign: false,
      });
      return reportAnswer(deps, ctx, await fresh(deps, ctx, report.reportId));
    },
  });

  const submit = defineTool({
    name: 'reporting_submit_report',
    title: 'Submit a report for signing',
    description:
      "Moves a draft to preliminary (transcribed, waiting for the radiologist's signature). Findings and " +
      'impression must be filled in. Pass the version you read. It can still be corrected with ' +
      'reporting_update_report until it is signed.',
    input: z.object({ report_id: reportId, version: expectedVersion }),
    output: reportOutput,
    permission: 'reporting:submit',
    annotations: WRITE,
    phi: true,
    confirmation: true,
    async describeAction(input, ctx) {
      const { report } = await readyFor(deps, ctx, input, 'preliminary', 'submitted');
      return (
        `Submit report ${report.reportId} (version ${report.version}) for study ${report.accessionNumber}, ` +
        `patient ${report.patientId}, for the radiologist's signature (status preliminary).`
      );
    },
    examples: [{ description: 'Send to the radiologist', parameters: { report_id: 42, version: 2 } }],
    async handler(input, ctx) {
      const { report, current } = await readyFor(deps, ctx, input, 'preliminary', 'submitted');
      await commitVersion(
        deps,
        ctx,
        report,
        input.version,
        statusStep(current, { status: 'preliminary', change: 'submitted' }),
      );
      return reportAnswer(deps, ctx, await fresh(deps, ctx, report.reportId));
    },
  });

  const sign = defineTool({
    name: 'reporting_sign_report',
    title: 'Sign a report (final)',
    description:
      'The radiologist signs the report: it becomes final, signed by you (the signed-in radiologist; the ' +
      'signer is never a parameter), with a SHA-256 of the exact signed content and the server time. Pass the ' +
      'version you reviewed: if it changed since, this answers CONFLICT. Findings and impression must be filled ' +
      'in. A signed version can never change; later changes are addenda or corrections (reporting_amend_report). ' +
      'Signing tells the RIS the study is REPORTED.',
    input: z.object({ report_id: reportId, version: expectedVersion }),
    output: signOutput,
    permission: 'reporting:sign',
    annotations: WRITE,
    phi: true,
    confirmation: true,
    async describeAction(input, ctx) {
      const { report, current } = await readyFor(deps, ctx, input, 'final', 'signed');
      const warnings = await signingWarnings(deps, report.reportId, current.sections);
      return (
        `Sign report ${report.reportId} version ${report.version} for study ${report.accessionNumber}, patient ` +
        `${report.patientId}, as ${ctx.principal.subject}` +
        `${current.criticalFinding ? ' (critical finding flagged)' : ''}. The signed text can never be changed ` +
        'afterwards; later changes are addenda or corrections.' +
        (warnings.length > 0 ? ` Still empty (ALERT): ${warnings.map((w) => w.label).join(', ')}.` : '')
      );
    },
    examples: [{ description: 'Sign the reviewed version', parameters: { report_id: 42, version: 3 } }],
    async handler(input, ctx) {
      const { report, current } = await readyFor(deps, ctx, input, 'final', 'signed');
      const warnings = await signingWarnings(deps, report.reportId, current.sections);
      await commitVersion(
        deps,
        ctx,
        report,
        input.version,
        statusStep(current, {
          status: 'final',
          change: 'signed',
          predecessorVersion: current.version,
          sign: true,
        }),
      );
      return { ...(await reportAnswer(deps, ctx, await fresh(deps, ctx, report.reportId))), warnings };
    },
  });

  const amendInput = z.object({
    report_id: reportId,
    version: expectedVersion,
    kind: z
      .enum(['addendum', 'correction'])
      .describe('addendum: text added below the signed report; correction: sections changed'),
    reason: z
      .string()
      .trim()
      .min(3)
      .max(500)
      .describe('Why the signed report is amended (kept with the version)'),
    addendum: z.string().trim().min(1).max(20_000).optional().describe('The addendum text (kind addendum)'),
    ...sectionInputs,
    critical_finding: z.boolean().optional(),
    icd10_codes: icd10Input.optional(),
  });
  type AmendInput = z.output<typeof amendInput>;

  async function amendable(input: AmendInput, ctx: CallContext) {
    const to: ReportStatus = input.kind === 'addendum' ? 'appended' : 'corrected';
    const report = await reportInScope(deps, ctx, input.report_id);
    if (!canTransition(report.status, to)) throw illegalStep(report, `amended (${input.kind})`);
    assertVersion(report, input.version);
    const changes = [...SECTIONS, 'critical_finding', 'icd10_codes'] as const;
    if (input.kind === 'addendum') {
      if (input.addendum === undefined) throw invalidField('addendum', 'an addendum needs its text');
      const stray = changes.filter((name) => input[name] !== undefined);
      if (stray.length > 0)
        throw invalidField(
          stray[0] as string,
          'an addendum adds text only; to change sections, use kind "correction"',
        );
    } else {
      if (input.addendum !== undefined)
        throw invalidField('addendum', 'a correction changes sections; use kind "addendum"');
      if (changes.every((name) => input[name] === undefined))
        throw invalidField(
          'kind',
          'a correction needs at least one changed section, critical_finding or icd10_codes',
        );
    }
    return { report, to, current: await currentVersion(deps, report) };
  }

  const amend = defineTool({
    name: 'reporting_amend_report',
    title: 'Amend a signed report',
    description:
      'Adds an addendum to a signed report, or corrects it, with a reason. Either way a new version is ' +
      'signed by you (status appended or corrected) pointing at the version it amends; the earlier signed ' +
      'versions stay readable and unchanged (reporting_get_report with `version`). Pass the version you read.',
    input: amendInput,
    output: reportOutput,
    permission: 'reporting:amend',
    annotations: WRITE,
    phi: true,
    confirmation: true,
    async describeAction(input, ctx) {
      const { report } = await amendable(input, ctx);
      return (
        `${input.kind === 'addendum' ? 'Add a signed addendum to' : 'Sign a correction of'} report ${report.reportId} ` +
        `(version ${report.version}, ${report.status}) for study ${report.accessionNumber}, patient ${report.patientId}, ` +
        `as ${ctx.principal.subject}; reason: ${input.reason}. Version ${report.version} stays as it is.`
      );
    },
    examples: [
      {
        description: 'An addendum after comparison with outside films',
        parameters: {
          report_id: 42,
          version: 4,
          kind: 'addendum',
          reason: 'Outside prior study received',
          addendum: 'Compared with the outside CT of 2026-01-10: the nodule is unchanged.',
        },
      },
      {
        description: 'A correction of the side',
        parameters: {
          report_id: 42,
          version: 4,
          kind: 'correction',
          reason: 'Wrong side dictated',
          impression: 'Left lower lobe pneumonia.',
        },
      },
    ],
    async handler(input, ctx) {
      const { report, to, current } = await amendable(input, ctx);
      await checkIcd10(deps, input.icd10_codes);
      await commitVersion(deps, ctx, report, input.version, {
        status: to,
        change: input.kind,
        sections: input.kind === 'correction' ? patched(current.sections, input) : current.sections,
        addendum: input.kind === 'addendum' ? (input.addendum ?? null) : null,
        criticalFinding: input.critical_finding ?? current.criticalFinding,
        icd10Codes: input.icd10_codes ?? current.icd10Codes,
        reason: input.reason,
        predecessorVersion: current.version,
        sign: true,
      });
      return reportAnswer(deps, ctx, await fresh(deps, ctx, report.reportId));
    },
  });

  return [generate, get, update, submit, sign, amend];
}
