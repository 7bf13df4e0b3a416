/** Orthanc JSON (DICOM keyword → string) to the tools' compact, typed fields. */
import type { OrthancInstance, OrthancPatient, OrthancSeries, OrthancStudy, Tags } from './orthanc.api.js';
import type { InstanceOut, PatientHitOut, PatientOut, SeriesOut, StudyOut } from './pacs.schemas.js';

/** `20240618` → `2024-06-18`; anything else (empty, partial, garbage) → undefined. */
export function isoDate(value: string | undefined): string | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})$/.exec(value?.trim() ?? '');
  if (!match) return undefined;
  const iso = `${match[1]}-${match[2]}-${match[3]}`;
  return Number.isNaN(Date.parse(`${iso}T00:00:00Z`)) ? undefined : iso;
}

/** `154925` or `154925.123` → `15:49:25`; `1549` → `15:49`. */
export function isoTime(value: string | undefined): string | undefined {
  const match = /^(\d{2})(\d{2})(\d{2})?/.exec(value?.trim() ?? '');
  if (!match) return undefined;
  return match[3] ? `${match[1]}:${match[2]}:${match[3]}` : `${match[1]}:${match[2]}`;
}

function text(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function integer(value: string | undefined): number | undefined {
  const n = Number.parseInt(value ?? '', 10);
  return Number.isFinite(n) ? n : undefined;
}

/** Drops undefined fields so the JSON stays small. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export function patientFields(tags: Tags): PatientOut {
  return compact({
    patient_id: tags.PatientID ?? '',
    patient_name: text(tags.PatientName),
    patient_birth_date: isoDate(tags.PatientBirthDate),
    patient_sex: text(tags.PatientSex),
  });
}

export function patientHit(patient: OrthancPatient): PatientHitOut {
  return { ...patientFields(patient.MainDicomTags), number_of_studies: patient.Studies.length };
}

/** InstitutionName of every de-identified copy pacs_anonymize_study makes. */
export const ANONYMISED_COPY_MARK = 'UPC DE-IDENTIFIED COPY';

/** A derived, de-identified copy (not a study a person would look for by default). */
export function isAnonymisedCopy(study: OrthancStudy): boolean {
  return study.MainDicomTags.InstitutionName === ANONYMISED_COPY_MARK;
}

/** What a study row says about the study's content: distinct modalities (sorted) and counts. */
export interface StudyCounts {
  modalities: string[];
  series: number;
  instances: number;
}

/** The computed study tags that give {@link StudyCounts} in one `/tools/find` (Orthanc 1.11+). */
export const STUDY_COUNT_TAGS = [
  'ModalitiesInStudy',
  'NumberOfStudyRelatedSeries',
  'NumberOfStudyRelatedInstances',
] as const;

function distinctSorted(values: Iterable<string | undefined>): string[] {
  return [...new Set([...values].map(text).filter((v): v is string => v !== undefined))].sort();
}

/** Counts from a study's series (Orthanc 1.10: `/tools/bulk-content` or `/studies/{id}/series`). */
export function countsFromSeries(series: readonly OrthancSeries[]): StudyCounts {
  return {
    modalities: distinctSorted(series.map((s) => s.MainDicomTags.Modality)),
    series: series.length,
    instances: series.reduce((sum, s) => sum + s.Instances.length, 0),
  };
}

/**
 * Counts from the study's own `RequestedTags` (Orthanc 1.11+ computes them from the same series: a set of
 * their Modality values joined by backslashes, and the numbers as strings); undefined when any is missing.
 */
export function countsFromRequestedTags(study: OrthancStudy): StudyCounts | undefined {
  const tags = study.RequestedTags;
  const series = integer(tags?.NumberOfStudyRelatedSeries);
  const instances = integer(tags?.NumberOfStudyRelatedInstances);
  const modalities = tags?.ModalitiesInStudy;
  if (series === undefined || instances === undefined || modalities === undefined) return undefined;
  return { modalities: distinctSorted(modalities.split('\\')), series, instances };
}

export function studyFields(study: OrthancStudy, counts: StudyCounts): StudyOut {
  const tags = study.MainDicomTags;
  return compact({
    ...patientFields(study.PatientMainDicomTags),
    study_instance_uid: tags.StudyInstanceUID ?? '',
    accession_number: text(tags.AccessionNumber),
    study_date: isoDate(tags.StudyDate),
    study_time: isoTime(tags.StudyTime),
    study_description: text(tags.StudyDescription),
    referring_physician_name: text(tags.ReferringPhysicianName),
    institution_name: text(tags.InstitutionName),
    modalities: counts.modalities,
    number_of_series: counts.series,
    number_of_instances: counts.instances,
  });
}

export function seriesFields(series: OrthancSeries): SeriesOut {
  const tags = series.MainDicomTags;
  return compact({
    series_instance_uid: tags.SeriesInstanceUID ?? '',
    series_number: integer(tags.SeriesNumber),
    modality: text(tags.Modality),
    series_description: text(tags.SeriesDescription),
    body_part_examined: text(tags.BodyPartExamined),
    number_of_instances: series.Instances.length,
  });
}

export function instanceFields(instance: OrthancInstance): InstanceOut {
  return compact({
    sop_instance_uid: instance.MainDicomTags.SOPInstanceUID ?? '',
    instance_number: integer(instance.MainDicomTags.InstanceNumber),
  });
}

/** Orders instances as a viewer would: by InstanceNumber, then UID. */
export function byInstanceNumber(a: OrthancInstance, b: OrthancInstance): number {
  const na = integer(a.MainDicomTags.InstanceNumber) ?? Number.MAX_SAFE_INTEGER;
  const nb = integer(b.MainDicomTags.InstanceNumber) ?? Number.MAX_SAFE_INTEGER;
  return (
    na - nb || (a.MainDicomTags.SOPInstanceUID ?? '').localeCompare(b.MainDicomTags.SOPInstanceUID ?? '')
  );
}

export function bySeriesNumber(a: OrthancSeries, b: OrthancSeries): number {
  const na = integer(a.MainDicomTags.SeriesNumber) ?? Number.MAX_SAFE_INTEGER;
  const nb = integer(b.MainDicomTags.SeriesNumber) ?? Number.MAX_SAFE_INTEGER;
  return na - nb;
}

/** Groups series by their parent study (Orthanc id). */
export function seriesByStudy(series: readonly OrthancSeries[]): Map<string, OrthancSeries[]> {
  const grouped = new Map<string, OrthancSeries[]>();
  for (const s of series) {
    const list = grouped.get(s.ParentStudy);
    if (list) list.push(s);
    else grouped.set(s.ParentStudy, [s]);
  }
  return grouped;
}
