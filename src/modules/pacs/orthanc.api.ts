/**
 * The slice of Orthanc's REST API the PACS tools use, typed. Everything here works on Orthanc 1.10 and 1.12:
 * `/tools/find` with `Expand`, `Limit` and `Since` (no `RequestedTags`/`OrderBy`, which 1.10 lacks),
 * asynchronous jobs for anonymisation and C-STORE, and `/instances/{id}/rendered` for previews.
 */
import type { CallOptions, OrthancClient } from './orthanc.client.js';

export type Tags = Record<string, string | undefined>;

export interface OrthancPatient {
  ID: string;
  MainDicomTags: Tags;
  Studies: string[];
}

export interface OrthancStudy {
  ID: string;
  MainDicomTags: Tags;
  PatientMainDicomTags: Tags;
  ParentPatient: string;
  Series: string[];
}

export interface OrthancSeries {
  ID: string;
  MainDicomTags: Tags;
  ParentStudy: string;
  Instances: string[];
}

export interface OrthancInstance {
  ID: string;
  MainDicomTags: Tags;
  ParentSeries: string;
}

export interface OrthancSystem {
  Version: string;
  Name: string;
  DicomAet: string;
  ApiVersion?: number;
}

export interface StoredInstance {
  ID: string;
  /** "Success" or "AlreadyStored". */
  Status: string;
  ParentPatient: string;
  ParentStudy: string;
  ParentSeries: string;
}

export interface OrthancJob {
  ID: string;
  State: 'Pending' | 'Running' | 'Success' | 'Failure' | 'Paused' | 'Retry';
  Progress: number;
  ErrorCode: number;
  ErrorDescription: string;
  ErrorDetails?: string;
  Content: Record<string, unknown>;
}

export interface OrthancModalityConfig {
  AET: string;
  Host: string;
  Port: number;
  Manufacturer?: string;
  AllowStore?: boolean;
}

export type FindLevel = 'Patient' | 'Study' | 'Series' | 'Instance';

export interface FindRequest {
  Level: FindLevel;
  Query: Record<string, string>;
  Limit?: number;
  Since?: number;
}

/** `/tools/find` is a read, so it is retried like a GET. */
export function find<T>(
  client: OrthancClient,
  request: FindRequest,
  options: CallOptions = {},
): Promise<T[]> {
  return client.postJson<T[]>(
    '/tools/find',
    { ...request, Expand: true, CaseSensitive: false },
    { ...options, idempotent: true },
  );
}

/** Maps a StudyInstanceUID to Orthanc's study; undefined when the PACS does not hold it. */
export async function studyByUid(
  client: OrthancClient,
  studyInstanceUid: string,
  options: CallOptions = {},
): Promise<OrthancStudy | undefined> {
  const [study] = await find<OrthancStudy>(
    client,
    { Level: 'Study', Query: { StudyInstanceUID: studyInstanceUid }, Limit: 1 },
    options,
  );
  return study;
}

export function seriesOfStudy(client: OrthancClient, studyId: string, options: CallOptions = {}) {
  return client.getJson<OrthancSeries[]>(`/studies/${encodeURIComponent(studyId)}/series`, options);
}

export function instancesOfStudy(client: OrthancClient, studyId: string, options: CallOptions = {}) {
  return client.getJson<OrthancInstance[]>(`/studies/${encodeURIComponent(studyId)}/instances`, options);
}

export function instancesOfSeries(client: OrthancClient, seriesId: string, options: CallOptions = {}) {
  return client.getJson<OrthancInstance[]>(`/series/${encodeURIComponent(seriesId)}/instances`, options);
}

/** All tags of a study's first instance that every instance shares, keyword → value (`?simplify`). */
export function sharedTags(client: OrthancClient, studyId: string, options: CallOptions = {}) {
  return client.getJson<Record<string, unknown>>(
    `/studies/${encodeURIComponent(studyId)}/shared-tags?simplify`,
    options,
  );
}

export function job(client: OrthancClient, jobId: string, options: CallOptions = {}) {
  return client.getJson<OrthancJob>(`/jobs/${encodeURIComponent(jobId)}`, options);
}

export async function cancelJob(client: OrthancClient, jobId: string): Promise<void> {
  await client.send({ method: 'POST', path: `/jobs/${encodeURIComponent(jobId)}/cancel`, body: '' });
}

export function modalities(client: OrthancClient, options: CallOptions = {}) {
  return client.getJson<Record<string, OrthancModalityConfig>>('/modalities?expand', options);
}
