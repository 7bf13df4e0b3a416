/**
 * The slice of Orthanc's REST API the PACS tools use, typed. Everything here works on Orthanc 1.10 and 1.12:
 * `/tools/find` with `Expand`, `Limit` and `Since`, `/tools/bulk-content` (1.9.4+), asynchronous jobs for
 * anonymisation and C-STORE, and `/instances/{id}/rendered` for previews. `RequestedTags` (1.11+) is only
 * sent where {@link orthancFeatures} found a server that has it; `OrderBy` is not used.
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
  /** Only when the find asked for `RequestedTags` and the server knows them (Orthanc 1.11+). */
  RequestedTags?: Tags;
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
  /** Orthanc 1.11+: tags (computed ones included) answered in each row's `RequestedTags`. */
  RequestedTags?: readonly string[];
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

/**
 * Resources by Orthanc id in one call, each as `/tools/find` with `Expand` would describe it, without their
 * metadata: no lookup at all, so much cheaper for Orthanc than a find on their UIDs. Unknown ids are left
 * out of the answer.
 */
export function bulkContent<T>(
  client: OrthancClient,
  ids: readonly string[],
  options: CallOptions = {},
): Promise<T[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return client.postJson<T[]>(
    '/tools/bulk-content',
    { Resources: ids, Metadata: false },
    { ...options, idempotent: true },
  );
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

/** What this Orthanc can do beyond 1.10, learnt from `GET /system` once per client. */
export interface OrthancFeatures {
  /**
   * `/tools/find` answers `RequestedTags`, computed study tags (ModalitiesInStudy, NumberOfStudyRelated*)
   * included: Orthanc 1.11.0 and later, REST API version 17 and later.
   */
  requestedTags: boolean;
}

/** Orthanc 1.11.0 raised the REST API version to 17 and brought `RequestedTags`. */
const REQUESTED_TAGS_API_VERSION = 17;

/**
 * Reads the features from `/system`: the `Version` when it is a release number (`1.10.1`), else the
 * `ApiVersion` (a `mainline` build reports no release number); neither known means 1.10 behaviour.
 */
export function featuresOf(system: Pick<OrthancSystem, 'Version' | 'ApiVersion'>): OrthancFeatures {
  const release = /^(\d+)\.(\d+)\.(\d+)/.exec(system.Version ?? '');
  if (release) {
    const [major, minor] = [Number(release[1]), Number(release[2])];
    return { requestedTags: major > 1 || (major === 1 && minor >= 11) };
  }
  return { requestedTags: (system.ApiVersion ?? 0) >= REQUESTED_TAGS_API_VERSION };
}

const featuresByClient = new WeakMap<OrthancClient, Promise<OrthancFeatures>>();

/**
 * The features of the Orthanc behind `client`, asked once (`GET /system`) and remembered; a failed ask is
 * forgotten, so the next call asks again. Not tied to one caller's signal: every caller shares the answer.
 */
export function orthancFeatures(client: OrthancClient): Promise<OrthancFeatures> {
  let features = featuresByClient.get(client);
  if (!features) {
    features = client.getJson<OrthancSystem>('/system').then(featuresOf);
    featuresByClient.set(client, features);
    features.catch(() => featuresByClient.delete(client));
  }
  return features;
}

/**
 * Stops using a feature the server announced but did not deliver (an answer without `RequestedTags`, e.g.
 * a proxy in front of an older Orthanc): from now on this client computes the same fields the 1.10 way.
 */
export function withoutRequestedTags(client: OrthancClient): void {
  featuresByClient.set(client, Promise.resolve({ requestedTags: false }));
}
