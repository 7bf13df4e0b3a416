import { z } from 'zod';
import { READ_ONLY } from '../../core/annotations.js';
import { ToolError } from '../../core/errors.js';
import { assertInScope } from '../../core/scope.js';
import { type AnyTool, defineTool } from '../../core/tool.js';
import { instancesOfStudy, seriesOfStudy, sharedTags } from './orthanc.api.js';
import type { OrthancClient } from './orthanc.client.js';
import { findStudies, studyForCaller, studyRows } from './pacs.access.js';
import {
  byInstanceNumber,
  bySeriesNumber,
  countsFromSeries,
  instanceFields,
  patientFields,
  seriesFields,
  studyFields,
} from './pacs.mapping.js';
import { dicomText, modalitySchema } from './pacs.query.js';
import { patientSchema, seriesSchema, studySchema } from './pacs.schemas.js';

export const studyUidInput = dicomText(64)
  .regex(/^[0-9]+(\.[0-9]+)*$/, 'must be a DICOM UID (digits and dots), e.g. 1.2.840.113619.2.55.3')
  .describe('DICOM StudyInstanceUID');

const MAX_INSTANCES_PER_SERIES = 500;
const MAX_TIMELINE = 200;

/** Tags that are binary or huge; `include_tags` leaves them out. */
const SKIPPED_TAGS = new Set(['PixelData', 'FloatPixelData', 'DoubleFloatPixelData', 'OverlayData']);

function trimTags(tags: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(tags)) {
    if (SKIPPED_TAGS.has(key) || value === null || typeof value === 'object') continue;
    out[key] = typeof value === 'string' && value.length > 256 ? `${value.slice(0, 256)}…` : value;
  }
  return out;
}

const timelineEntrySchema = studySchema.omit({
  patient_id: true,
  patient_name: true,
  patient_birth_date: true,
  patient_sex: true,
});

export function studyTools(client: OrthancClient): AnyTool[] {
  const retrieveStudy = defineTool({
    name: 'pacs_retrieve_study',
    title: 'Retrieve a study',
    description:
      'Gets one imaging study by its StudyInstanceUID: patient, date, description, and its series with ' +
      'modality and instance counts. Set include_instances for the SOP Instance UIDs (up to ' +
      `${MAX_INSTANCES_PER_SERIES} per series) and include_tags for the raw shared DICOM tags. ` +
      'Also serves the MCP resource study://{uid}.',
    input: z.object({
      study_instance_uid: studyUidInput,
      include_instances: z.boolean().default(false),
      include_tags: z.boolean().default(false).describe('Add the DICOM tags all instances share (verbose)'),
    }),
    output: z.object({
      study: studySchema,
      series: z.array(seriesSchema),
      tags: z.record(z.string(), z.unknown()).optional(),
    }),
    permission: 'pacs:read',
    annotations: READ_ONLY,
    phi: true,
    examples: [
      {
        description: 'A study with its series',
        parameters: { study_instance_uid: '1.2.826.0.1.3680043.8.498.1' },
      },
    ],
    async handler(input, ctx) {
      const study = await studyForCaller(client, input.study_instance_uid, ctx);
      const options = { signal: ctx.signal };
      const [series, instances, tags] = await Promise.all([
        seriesOfStudy(client, study.ID, options),
        input.include_instances ? instancesOfStudy(client, study.ID, options) : undefined,
        input.include_tags ? sharedTags(client, study.ID, options) : undefined,
      ]);
      const bySeries = new Map<string, typeof instances>();
      for (const instance of instances ?? []) {
        const list = bySeries.get(instance.ParentSeries) ?? [];
        list.push(instance);
        bySeries.set(instance.ParentSeries, list);
      }
      const seriesOut = [...series].sort(bySeriesNumber).map((s) => {
        const fields = seriesFields(s);
        if (!instances) return fields;
        const list = (bySeries.get(s.ID) ?? []).sort(byInstanceNumber);
        const shown = list.slice(0, MAX_INSTANCES_PER_SERIES).map(instanceFields);
        return list.length > shown.length
          ? { ...fields, instances: shown, instances_truncated: true }
          : { ...fields, instances: shown };
      });
      const result = { study: studyFields(study, countsFromSeries(series)), series: seriesOut };
      return tags ? { ...result, tags: trimTags(tags) } : result;
    },
  });

  const patientHistory = defineTool({
    name: 'pacs_get_patient_history',
    title: 'Patient imaging history',
    description:
      "A patient's imaging history from the PACS: a timeline of studies (newest first) and a summary per " +
      'modality (count, first and last date). Optionally only one modality. Use it for "prior imaging" ' +
      'questions; it also serves the PACS part of the MCP resource patient://{id}/summary.',
    input: z.object({
      patient_id: dicomText()
        .refine((v) => !/[*?]/.test(v), 'must be an exact PatientID (no wildcards)')
        .describe('Exact PatientID'),
      modality: modalitySchema.optional().describe('Only studies containing this modality'),
      limit: z.number().int().min(1).max(MAX_TIMELINE).default(50).describe('Most recent studies to list'),
    }),
    output: z.object({
      patient: patientSchema,
      total_studies: z.number().int(),
      by_modality: z.array(
        z.object({
          modality: z.string(),
          study_count: z.number().int(),
          first_study_date: z.iso.date().optional(),
          last_study_date: z.iso.date().optional(),
        }),
      ),
      timeline: z.array(timelineEntrySchema),
      timeline_truncated: z.boolean(),
    }),
    permission: 'pacs:read',
    annotations: READ_ONLY,
    phi: true,
    examples: [
      { description: 'All imaging', parameters: { patient_id: 'UPC000123' } },
      { description: 'Prior CTs', parameters: { patient_id: 'UPC000123', modality: 'CT' } },
    ],
    async handler(input, ctx) {
      // Scope first: nothing about a patient outside the caller's scope is even looked up.
      assertInScope(await ctx.patientScope(), input.patient_id);
      ctx.touchPatients(input.patient_id);
      const studies = await findStudies(client, { Query: { PatientID: input.patient_id } }, ctx.signal);
      // Exact match only (a case-insensitive backend could return a near namesake).
      const own = studies.filter((s) => s.PatientMainDicomTags.PatientID === input.patient_id);
      const first = own[0];
      if (!first) {
        throw new ToolError(
          'NOT_FOUND',
          `The PACS holds no studies for PatientID ${input.patient_id}. Check the id, or search with ` +
            'pacs_search_patients.',
          { patient_id: input.patient_id },
        );
      }
      // Modalities and counts: in the studies' own answer on Orthanc 1.11+, else one bulk read of their series.
      const all = (await studyRows(client, own, ctx.signal)).sort(
        (a, b) =>
          (b.study_date ?? '').localeCompare(a.study_date ?? '') ||
          (b.study_time ?? '').localeCompare(a.study_time ?? ''),
      );
      const byModality = new Map<string, { study_count: number; dates: string[] }>();
      for (const study of all) {
        for (const modality of study.modalities) {
          const entry = byModality.get(modality) ?? { study_count: 0, dates: [] };
          entry.study_count += 1;
          if (study.study_date) entry.dates.push(study.study_date);
          byModality.set(modality, entry);
        }
      }
      const selected = input.modality ? all.filter((s) => s.modalities.includes(input.modality ?? '')) : all;
      const timeline = selected
        .slice(0, input.limit)
        .map(({ patient_id, patient_name, patient_birth_date, patient_sex, ...entry }) => entry);
      return {
        patient: patientFields(first.PatientMainDicomTags),
        total_studies: all.length,
        by_modality: [...byModality.entries()]
          .filter(([modality]) => !input.modality || modality === input.modality)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([modality, entry]) => {
            const dates = entry.dates.sort();
            return {
              modality,
              study_count: entry.study_count,
              ...(dates.length > 0 ? { first_study_date: dates[0], last_study_date: dates.at(-1) } : {}),
            };
          }),
        timeline,
        timeline_truncated: selected.length > timeline.length,
      };
    },
  });

  return [retrieveStudy, patientHistory];
}
