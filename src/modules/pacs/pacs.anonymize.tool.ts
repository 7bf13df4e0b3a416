import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ToolError } from '../../core/errors.js';
import { type AnyTool, defineTool } from '../../core/tool.js';
import type { OrthancStudy } from './orthanc.api.js';
import type { OrthancClient } from './orthanc.client.js';
import { studyForCaller } from './pacs.access.js';
import { awaitJob } from './pacs.jobs.js';
import { ANONYMISED_COPY_MARK } from './pacs.mapping.js';
import { studyUidInput } from './pacs.study.tools.js';

export const ANONYMIZATION_PROFILES = ['basic', 'research', 'teaching'] as const;
type Profile = (typeof ANONYMIZATION_PROFILES)[number];

/** What stays readable beyond the DICOM PS3.15 Basic Profile (Orthanc's default anonymisation). */
const CLINICAL_CONTEXT = [
  'StudyDescription',
  'SeriesDescription',
  'BodyPartExamined',
  'PatientSex',
  'PatientAge',
];

/**
 * Profiles → Orthanc `/studies/{id}/anonymize` options. All three start from Orthanc's implementation of
 * the PS3.15 Basic Application Level Confidentiality Profile (identifiers removed, new UIDs, private tags
 * dropped), then:
 * - basic: nothing more; Orthanc invents PatientID/PatientName;
 * - research: keeps the clinical context and the dates ("retain longitudinal temporal information") and
 *   uses the caller's pseudonym as PatientID/PatientName, so studies of one subject stay linked;
 * - teaching: keeps the clinical context but no dates, and labels the case TEACHING^CASE.
 */
function anonymizeOptions(profile: Profile, pseudonym: string | undefined): Record<string, unknown> {
  const common = { KeepPrivateTags: false, Asynchronous: true };
  // Every copy says what it is in InstitutionName (removed by the profile anyway), so ordinary searches can
  // leave derived copies out (pacs_search_studies include_anonymized).
  const marked = { InstitutionName: ANONYMISED_COPY_MARK };
  switch (profile) {
    case 'basic':
      return { ...common, Replace: marked };
    case 'research': {
      const id = pseudonym ?? `RES-${randomBytes(5).toString('hex').toUpperCase()}`;
      return {
        ...common,
        Keep: [
          ...CLINICAL_CONTEXT,
          'StudyDate',
          'SeriesDate',
          'AcquisitionDate',
          'ContentDate',
          'PatientSize',
          'PatientWeight',
        ],
        Replace: { ...marked, PatientID: id, PatientName: id },
        // Orthanc insists on Force to replace PatientID.
        Force: true,
      };
    }
    case 'teaching': {
      const id = pseudonym ?? `TEACH-${randomBytes(5).toString('hex').toUpperCase()}`;
      return {
        ...common,
        Keep: CLINICAL_CONTEXT,
        Replace: { ...marked, PatientID: id, PatientName: 'TEACHING^CASE' },
        Force: true,
      };
    }
  }
}

export function anonymizeTool(client: OrthancClient): AnyTool {
  return defineTool({
    name: 'pacs_anonymize_study',
    title: 'Anonymise a study',
    description:
      "Makes a de-identified copy of a study in the PACS (the original stays) and returns the copy's new " +
      'StudyInstanceUID. Profiles: basic (DICOM PS3.15 Basic Profile), research (keeps descriptions, sex, ' +
      "age and dates; PatientID/PatientName = your pseudonym so a subject's studies stay linked), teaching " +
      '(keeps descriptions, sex and age, no dates; TEACHING^CASE). Burned-in text in pixels is not removed.',
    input: z.object({
      study_instance_uid: studyUidInput,
      profile: z.enum(ANONYMIZATION_PROFILES).default('basic'),
      pseudonym: z
        .string()
        .trim()
        .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "_" or "-" only, at most 64')
        .optional()
        .describe('New PatientID for research/teaching (e.g. a trial subject number)'),
    }),
    output: z.object({
      source_study_instance_uid: z.string(),
      study_instance_uid: z.string().describe('The anonymised copy'),
      patient_id: z.string().describe('PatientID of the copy (a pseudonym, not the real one)'),
      patient_name: z.string().optional(),
      profile: z.enum(ANONYMIZATION_PROFILES),
      instances: z.number().int(),
      failed_instances: z.number().int(),
    }),
    permission: 'pacs:anonymize',
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    phi: true,
    examples: [
      {
        description: 'For a research export',
        parameters: {
          study_instance_uid: '1.2.826.0.1.3680043.8.498.1',
          profile: 'research',
          pseudonym: 'TRIAL-007',
        },
      },
    ],
    async handler(input, ctx) {
      if (input.profile === 'basic' && input.pseudonym) {
        throw new ToolError(
          'INVALID_PARAMETERS',
          'pseudonym: only the research and teaching profiles use one',
          {
            fields: [{ field: 'pseudonym', message: 'only for research and teaching' }],
          },
        );
      }
      const source = await studyForCaller(client, input.study_instance_uid, ctx);
      const started = await client.postJson<{ ID: string }>(
        `/studies/${encodeURIComponent(source.ID)}/anonymize`,
        anonymizeOptions(input.profile, input.pseudonym),
        { signal: ctx.signal },
      );
      const done = await awaitJob(client, started.ID, ctx, 'Anonymisation');
      if (done.State !== 'Success') {
        throw new ToolError(
          'UPSTREAM_UNAVAILABLE',
          `The PACS could not anonymise the study: ${done.ErrorDescription} ${done.ErrorDetails ?? ''}`.trim(),
          { job_id: done.ID },
        );
      }
      const copyId = String(done.Content.ID ?? '');
      const copy = await client.getJson<OrthancStudy>(`/studies/${encodeURIComponent(copyId)}`, {
        signal: ctx.signal,
      });
      const patientId = copy.PatientMainDicomTags.PatientID ?? '';
      ctx.touchPatients(patientId);
      const patientName = copy.PatientMainDicomTags.PatientName;
      return {
        source_study_instance_uid: input.study_instance_uid,
        study_instance_uid: copy.MainDicomTags.StudyInstanceUID ?? '',
        patient_id: patientId,
        ...(patientName ? { patient_name: patientName } : {}),
        profile: input.profile,
        instances: Number(done.Content.InstancesCount ?? 0),
        failed_instances: Number(done.Content.FailedInstancesCount ?? 0),
      };
    },
  });
}
