/**
 * Output shapes of the PACS tools: DICOM tags mapped to snake_case fields named after their keywords,
 * dates as ISO-8601, empty tags left out. PHI fields keep the names the redaction stage looks for:
 * `patient_name`, `patient_id`, `patient_birth_date`, `patient_sex`.
 */
import { z } from 'zod';

const isoDate = z.iso.date();

export const patientSchema = z.object({
  patient_id: z.string(),
  /** DICOM person name form, `Family^Given^Middle^Prefix^Suffix`. */
  patient_name: z.string().optional(),
  patient_birth_date: isoDate.optional(),
  patient_sex: z.string().optional(),
});

export const patientHitSchema = patientSchema.extend({
  number_of_studies: z.number().int(),
});

export const studySchema = patientSchema.extend({
  study_instance_uid: z.string(),
  accession_number: z.string().optional(),
  study_date: isoDate.optional(),
  /** HH:MM:SS */
  study_time: z.string().optional(),
  study_description: z.string().optional(),
  referring_physician_name: z.string().optional(),
  institution_name: z.string().optional(),
  modalities: z.array(z.string()),
  number_of_series: z.number().int(),
  number_of_instances: z.number().int(),
});

export const instanceSchema = z.object({
  sop_instance_uid: z.string(),
  instance_number: z.number().int().optional(),
});

export const seriesSchema = z.object({
  series_instance_uid: z.string(),
  series_number: z.number().int().optional(),
  modality: z.string().optional(),
  series_description: z.string().optional(),
  body_part_examined: z.string().optional(),
  number_of_instances: z.number().int(),
  instances: z.array(instanceSchema).optional(),
  /** True when `instances` lists only the first ones. */
  instances_truncated: z.boolean().optional(),
});

export const nextOffset = z
  .number()
  .int()
  .nullable()
  .describe('Pass as offset to get the next page; null on the last page');

export type PatientOut = z.input<typeof patientSchema>;
export type PatientHitOut = z.input<typeof patientHitSchema>;
export type StudyOut = z.input<typeof studySchema>;
export type SeriesOut = z.input<typeof seriesSchema>;
export type InstanceOut = z.input<typeof instanceSchema>;
