import { z } from 'zod';
import { READ_ONLY } from '../../core/annotations.js';
import type { CallContext } from '../../core/context.js';
import { inScope } from '../../core/scope.js';
import { type AnyTool, defineTool } from '../../core/tool.js';
import { find, type OrthancPatient } from './orthanc.api.js';
import type { OrthancClient } from './orthanc.client.js';
import { findStudies, studyRows } from './pacs.access.js';
import { isAnonymisedCopy, patientHit } from './pacs.mapping.js';
import {
  dicomDateRangeSchema,
  dicomText,
  modalitySchema,
  nameQuery,
  pageInput,
  pageOf,
  patientConstraint,
} from './pacs.query.js';
import { nextOffset, patientHitSchema, studySchema } from './pacs.schemas.js';

const patientIdInput = dicomText().describe('PatientID; `*` and `?` wildcards allowed');
const patientNameInput = dicomText(200).describe(
  'Patient name in DICOM form Family^Given; `*`/`?` wildcards; without a wildcard it matches anywhere',
);

function uniquePatientIds(ids: Iterable<string | undefined>): string[] {
  return [...new Set([...ids].filter((id): id is string => !!id))];
}

/** Builds the PatientID part of the query from the caller's filter and scope; null means "nothing to see". */
async function scopedPatientQuery(
  ctx: CallContext,
  patientId: string | undefined,
): Promise<Record<string, string> | null> {
  const constraint = patientConstraint(await ctx.patientScope(), patientId);
  if (constraint.kind === 'none') return null;
  return constraint.kind === 'value' ? { PatientID: constraint.value } : {};
}

/**
 * Safety net behind the in-query scope filter: Orthanc matches PatientID case-insensitively when names
 * are (CaseSensitive: false), so `abc` in a scope would also match a patient `ABC`. Such rows are dropped
 * here. `next_offset` is computed from Orthanc's unfiltered rows, so paging stays exact (no row skipped
 * or repeated); only a page that held such a namesake comes back one short.
 */
async function visible<T>(
  ctx: CallContext,
  rows: T[],
  patientIdOf: (row: T) => string | undefined,
): Promise<T[]> {
  const scope = await ctx.patientScope();
  return rows.filter((row) => inScope(scope, patientIdOf(row) ?? ''));
}

export function searchTools(client: OrthancClient): AnyTool[] {
  const searchPatients = defineTool({
    name: 'pacs_search_patients',
    title: 'Search PACS patients',
    description:
      'Finds patients in the PACS (Orthanc) by patient_id and/or patient_name (DICOM wildcards * and ?). ' +
      'Returns demographics and how many studies each has, a page at a time; pass next_offset back as ' +
      "offset for more. Use pacs_get_patient_history for one patient's studies.",
    input: z.object({
      patient_id: patientIdInput.optional(),
      patient_name: patientNameInput.optional(),
      ...pageInput,
    }),
    output: z.object({ patients: z.array(patientHitSchema), next_offset: nextOffset }),
    permission: 'pacs:search',
    annotations: READ_ONLY,
    phi: true,
    examples: [
      { description: 'By family name', parameters: { patient_name: 'Dlamini*' } },
      { description: 'By patient id', parameters: { patient_id: 'UPC000123' } },
    ],
    async handler(input, ctx) {
      const query = await scopedPatientQuery(ctx, input.patient_id);
      if (!query) return { patients: [], next_offset: null };
      if (input.patient_name) query.PatientName = nameQuery(input.patient_name);
      const rows = await find<OrthancPatient>(
        client,
        { Level: 'Patient', Query: query, Limit: input.limit + 1, Since: input.offset },
        { signal: ctx.signal },
      );
      const page = pageOf(rows, input.offset, input.limit);
      const patients = await visible(ctx, page.items, (p) => p.MainDicomTags.PatientID);
      ctx.touchPatients(...uniquePatientIds(patients.map((p) => p.MainDicomTags.PatientID)));
      return { patients: patients.map(patientHit), next_offset: page.next_offset };
    },
  });

  const searchStudies = defineTool({
    name: 'pacs_search_studies',
    title: 'Search PACS studies',
    description:
      'Finds imaging studies in the PACS by patient, date or range, modality, accession number or ' +
      'description. Returns one line per study (UID, date, modalities, counts) a page at a time; pass ' +
      'next_offset back as offset for more. Then use pacs_retrieve_study or pacs_get_study_preview with ' +
      'the study_instance_uid.',
    input: z.object({
      patient_id: patientIdInput.optional(),
      patient_name: patientNameInput.optional(),
      study_date: dicomDateRangeSchema.optional(),
      modality: modalitySchema.optional(),
      accession_number: dicomText().optional().describe('AccessionNumber; wildcards allowed'),
      study_description: dicomText().optional().describe('Words in the study description; wildcards allowed'),
      include_anonymized: z
        .boolean()
        .default(false)
        .describe('Also list de-identified copies made with pacs_anonymize_study (left out by default)'),
      ...pageInput,
    }),
    output: z.object({ studies: z.array(studySchema), next_offset: nextOffset }),
    permission: 'pacs:search',
    annotations: READ_ONLY,
    phi: true,
    examples: [
      {
        description: 'CT studies in January 2025',
        parameters: { modality: 'CT', study_date: '20250101-20250131' },
      },
      { description: 'One accession number', parameters: { accession_number: 'ACC00000123' } },
      {
        description: 'A patient since 2024',
        parameters: { patient_id: 'UPC000123', study_date: '20240101-' },
      },
    ],
    async handler(input, ctx) {
      const query = await scopedPatientQuery(ctx, input.patient_id);
      if (!query) return { studies: [], next_offset: null };
      if (input.patient_name) query.PatientName = nameQuery(input.patient_name);
      if (input.study_date) query.StudyDate = input.study_date;
      // Orthanc resolves ModalitiesInStudy against the series, so the filter stays inside the query.
      if (input.modality) query.ModalitiesInStudy = input.modality;
      if (input.accession_number) query.AccessionNumber = input.accession_number;
      if (input.study_description) query.StudyDescription = nameQuery(input.study_description);
      const rows = await findStudies(
        client,
        { Query: query, Limit: input.limit + 1, Since: input.offset },
        ctx.signal,
      );
      const page = pageOf(rows, input.offset, input.limit);
      // Copies are left out after the query (Orthanc has no "not equal"): a page may hold fewer than
      // `limit` studies, and next_offset still pages on.
      const wanted = input.include_anonymized ? page.items : page.items.filter((s) => !isAnonymisedCopy(s));
      const studies = await visible(ctx, wanted, (s) => s.PatientMainDicomTags.PatientID);
      // Modalities and counts: already in the rows on Orthanc 1.11+, else one bulk read of their series.
      const out = await studyRows(client, studies, ctx.signal);
      ctx.touchPatients(...uniquePatientIds(studies.map((s) => s.PatientMainDicomTags.PatientID)));
      return { studies: out, next_offset: page.next_offset };
    },
  });

  return [searchPatients, searchStudies];
}
