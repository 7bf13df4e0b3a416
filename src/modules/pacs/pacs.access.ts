/** Shared reads used by several tools: a study by UID with the scope check, and series for many studies. */
import type { CallContext } from '../../core/context.js';
import { ToolError } from '../../core/errors.js';
import { inScope, notVisible } from '../../core/scope.js';
import { find, type OrthancSeries, type OrthancStudy, studyByUid } from './orthanc.api.js';
import type { OrthancClient } from './orthanc.client.js';

/**
 * Maps a StudyInstanceUID to Orthanc's study and checks the caller may see its patient (OUT_OF_SCOPE
 * otherwise; the pipeline records the refused patient id from the error for the audit log).
 */
export async function studyForCaller(
  client: OrthancClient,
  studyInstanceUid: string,
  ctx: CallContext,
): Promise<OrthancStudy> {
  const study = await studyByUid(client, studyInstanceUid, { signal: ctx.signal });
  const scope = await ctx.patientScope();
  const what = `Study ${studyInstanceUid}`;
  if (!study && scope.kind !== 'all') throw notVisible(what, { study_instance_uid: studyInstanceUid });
  if (!study) {
    throw new ToolError(
      'NOT_FOUND',
      `The PACS holds no study with StudyInstanceUID ${studyInstanceUid}. Check the UID, or find the study ` +
        'with pacs_search_studies (by patient_id, accession_number or study_date).',
      { study_instance_uid: studyInstanceUid },
    );
  }
  const patientId = study.PatientMainDicomTags.PatientID ?? '';
  ctx.touchPatients(patientId);
  if (!inScope(scope, patientId)) throw notVisible(what, { study_instance_uid: studyInstanceUid });
  return study;
}

/**
 * The series of many studies in one `/tools/find` (a DICOM list match on StudyInstanceUID), instead of
 * one `/studies/{id}/series` call per study: a page of 100 studies costs two calls to Orthanc, not 101.
 */
export async function seriesOfStudies(
  client: OrthancClient,
  studies: readonly OrthancStudy[],
  signal: AbortSignal,
): Promise<OrthancSeries[]> {
  const uids = studies.map((s) => s.MainDicomTags.StudyInstanceUID).filter((uid): uid is string => !!uid);
  if (uids.length === 0) return [];
  return find<OrthancSeries>(
    client,
    { Level: 'Series', Query: { StudyInstanceUID: uids.join('\\') } },
    { signal },
  );
}
