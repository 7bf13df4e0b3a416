/** The zod shapes of the reporting tools' inputs and outputs (docs/REPORTING.md). */
import { z } from 'zod';
import { criticalResultSchema } from './reporting.critical.schemas.js';
import { REPORT_STATUSES, VERSION_CHANGES } from './reporting.tables.js';

const sectionText = (what: string) => z.string().max(20_000).describe(what);

/** The six sections as optional inputs: what is given replaces that section, the rest stays. */
export const sectionInputs = {
  clinical_history: sectionText(
    'Why the study was done: the history and question from the referrer',
  ).optional(),
  technique: sectionText('How the study was done (protocol, contrast, limitations)').optional(),
  comparison: sectionText('Prior studies compared with, or "None"').optional(),
  findings: sectionText('What the images show, factually').optional(),
  impression: sectionText('The conclusion: the answer to the clinical question').optional(),
  recommendations: sectionText('Suggested next steps (follow-up imaging, referral)').optional(),
};

export const icd10Input = z
  .array(z.string().trim().min(3).max(8))
  .max(12)
  .describe('ICD-10 codes (WHO, as used in SA), primary first, e.g. ["J18.9"]; checked by the codes module');

export const reportId = z
  .number()
  .int()
  .positive()
  .describe('The report id (from reporting_generate_report or reporting_get_report)');
export const expectedVersion = z
  .number()
  .int()
  .positive()
  .describe('The version you last read; a stale one is refused with CONFLICT naming the current version');

const zoned = z.string().describe('ISO 8601 in the practice time zone');

export const signatureSchema = z.object({
  signed_by: z.string(),
  signed_at: zoned,
  content_sha256: z.string().describe('SHA-256 of the exact signed content (docs/REPORTING.md)'),
  verified: z.boolean().describe('True when the stored content still matches the hash'),
});

export const historyEntrySchema = z.object({
  version: z.number().int(),
  status: z.enum(REPORT_STATUSES),
  change: z.enum(VERSION_CHANGES),
  changed_by: z.string(),
  changed_by_role: z.string(),
  changed_at: zoned,
  reason: z.string().nullable(),
  signed: z.boolean(),
});

export const addendumSchema = z.object({
  version: z.number().int(),
  addendum: z.string(),
  reason: z.string().nullable(),
  signed_by: z.string().nullable(),
  signed_at: zoned.nullable(),
});

export const reportSchema = z.object({
  report_id: z.number().int(),
  accession_number: z.string(),
  patient_id: z.string(),
  status: z.enum(REPORT_STATUSES).describe('FHIR R4 DiagnosticReport.status of the report now'),
  version: z.number().int().describe('The current version: pass it back to change the report'),
  shown_version: z
    .number()
    .int()
    .describe('The version whose content is shown (the current one unless asked)'),
  shown_status: z.enum(REPORT_STATUSES),
  clinical_history: z.string(),
  technique: z.string(),
  comparison: z.string(),
  findings: z.string(),
  impression: z.string(),
  recommendations: z.string(),
  critical_finding: z.boolean(),
  icd10_codes: z.array(z.string()),
  predecessor_version: z.number().int().nullable(),
  signature: signatureSchema.nullable(),
  addenda: z.array(addendumSchema).describe('Signed addenda up to the shown version, oldest first'),
  created_by: z.string(),
  created_at: zoned,
  updated_at: zoned,
  critical_result: criticalResultSchema
    .nullable()
    .describe('Null when no critical finding is flagged and none was communicated'),
  notice: z
    .string()
    .nullable()
    .describe('Set when the report was cancelled or entered in error: who, when and why'),
});

export const reportOutput = z.object({
  report: reportSchema,
  history: z.array(historyEntrySchema).describe('Every version: who changed what, when'),
});

export const signOutput = reportOutput.extend({
  warnings: z
    .array(
      z.object({
        field_id: z.string(),
        label: z.string(),
        section: z.string(),
        completion_action: z.enum(['ALERT', 'PROHIBIT']),
        message: z.string(),
      }),
    )
    .describe(
      "Template fields marked ALERT that were still empty when signed (the template's completion check)",
    ),
});
