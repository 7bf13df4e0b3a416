/**
 * Shared reads used by several tools: a study by UID with the scope check, and study searches whose rows
 * carry their modalities and counts at the least cost to Orthanc.
 */
import type { CallContext } from '../../core/context.js';
import { ToolError } from '../../core/errors.js';
import { inScope, notVisible } from '../../core/scope.js';
import {
  bulkContent,
  type FindRequest,
  find,
  type OrthancSeries,
  type OrthancStudy,
  orthancFeatures,
  studyByUid,
  withoutRequestedTags,
} from './orthanc.api.js';
import type { OrthancClient } from './orthanc.client.js';
import {
  countsFromRequestedTags,
  countsFromSeries,
  STUDY_COUNT_TAGS,
  type StudyCounts,
  seriesByStudy,
  studyFields,
} from './pacs.mapping.js';
import type { StudyOut } from './pacs.schemas.js';

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
 * A study-level `/tools/find` (the caller's query, scope included, unchanged). Where Orthanc computes study
 * tags (1.11+) the same request asks for ModalitiesInStudy and the NumberOfStudyRelated* counts, so
 * {@link studyRows} needs no second request. A server that announced the feature but answers without it
 * is not asked again.
 */
export async function findStudies(
  client: OrthancClient,
  request: Omit<FindRequest, 'Level' | 'RequestedTags'>,
  signal: AbortSignal,
): Promise<OrthancStudy[]> {
  const { requestedTags } = await orthancFeatures(client);
  const studies = await find<OrthancStudy>(
    client,
    { Level: 'Study', ...request, ...(requestedTags ? { RequestedTags: STUDY_COUNT_TAGS } : {}) },
    { signal },
  );
  if (requestedTags && studies.some((study) => study.RequestedTags === undefined)) {
    withoutRequestedTags(client);
  }
  return studies;
}

/**
 * The rows of the given studies, modalities and counts included: from their `RequestedTags` when Orthanc
 * computed them, otherwise from their series, fetched by id in one `/tools/bulk-content` (no lookup, and only
 * the series of these very studies: nothing of any other patient is read).
 */
export async function studyRows(
  client: OrthancClient,
  studies: readonly OrthancStudy[],
  signal: AbortSignal,
): Promise<StudyOut[]> {
  const computed = new Map<string, StudyCounts>();
  for (const study of studies) {
    const counts = countsFromRequestedTags(study);
    if (counts) computed.set(study.ID, counts);
  }
  const rest = studies.filter((study) => !computed.has(study.ID));
  const series =
    rest.length === 0
      ? new Map<string, OrthancSeries[]>()
      : seriesByStudy(
          await bulkContent<OrthancSeries>(
            client,
            rest.flatMap((study) => study.Series),
            { signal },
          ),
        );
  return studies.map((study) =>
    studyFields(study, computed.get(study.ID) ?? countsFromSeries(series.get(study.ID) ?? [])),
  );
}
