/**
 * The PACS tools through the front door (REST invoke → pipeline → tool → a real Orthanc). One Orthanc with
 * a small synthetic practice and one peer Orthanc (the C-STORE destination) serve the whole file.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../src/config.js';
import type { CallContext, ProgressUpdate, Role } from '../../src/core/context.js';
import type { AnyTool } from '../../src/core/tool.js';
import {
  buildInstance,
  generatePractice,
  type PracticePatient,
  type PracticePlan,
  type SyntheticStudy,
} from '../../src/dicom/synthetic.js';
import { orthancFromConfig } from '../../src/modules/pacs/pacs.module.js';
import { pacsTools } from '../../src/modules/pacs/pacs.tools.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { loadSyntheticPractice, type OrthancHandle, startOrthanc } from '../harness/orthanc.js';

const PRACTICE = { seed: 6060, patients: 4, studiesPerPatient: 3, seriesPerStudy: 2, instancesPerSeries: 3 };

let peer: OrthancHandle;
let orthanc: OrthancHandle;
let plan: PracticePlan;
let t: TestApp;

interface Ok<T> {
  status: number;
  result: T;
}
interface Failed {
  status: number;
  error: { error_code: string; message: string; details?: Record<string, unknown> };
}

type As = Role | { token: string };

async function call(tool: string, parameters: object, as: As = 'admin') {
  const response = await t.invoke(tool, parameters as Record<string, unknown>, as);
  return response;
}

async function ok<T = Record<string, unknown>>(
  tool: string,
  parameters: object,
  as: As = 'admin',
): Promise<T> {
  const response = await call(tool, parameters, as);
  expect(response.statusCode, response.body).toBe(200);
  return (response.json() as Ok<T>).result;
}

async function failed(tool: string, parameters: object, as: As = 'admin'): Promise<Failed> {
  const response: LightMyRequestResponse = await call(tool, parameters, as);
  expect(response.statusCode, response.body).toBeGreaterThanOrEqual(400);
  return { status: response.statusCode, error: (response.json() as { error: Failed['error'] }).error };
}

const allStudies = () => plan.patients.flatMap((p) => p.studies.map((s) => ({ patient: p, study: s })));
const iso = (d: string) => `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`;

interface StudyRow {
  study_instance_uid: string;
  patient_id: string;
  study_date?: string;
  modalities: string[];
  number_of_series: number;
  number_of_instances: number;
  accession_number?: string;
}

beforeAll(async () => {
  peer = await startOrthanc();
  orthanc = await startOrthanc({
    modalities: { PEER: { aet: peer.aet, host: '127.0.0.1', port: peer.dicomPort } },
  });
  [plan, t] = await Promise.all([
    loadSyntheticPractice(orthanc, PRACTICE),
    startTestApp({
      ORTHANC_URL: orthanc.url,
      ORTHANC_USERNAME: orthanc.username,
      ORTHANC_PASSWORD: orthanc.password,
      ORTHANC_TIMEOUT_MS: '5000',
    }),
  ]);
});

afterAll(async () => {
  await Promise.all([t?.close(), orthanc?.stop(), peer?.stop()]);
});

describe('registry', () => {
  it('publishes the nine PACS tools with their permissions', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/mcp/v1/tools' });
    const tools = (
      response.json() as { tools: { name: string; permission: string; requires_confirmation: boolean }[] }
    ).tools;
    const pacs = Object.fromEntries(tools.filter((x) => x.name.startsWith('pacs_')).map((x) => [x.name, x]));
    expect(Object.keys(pacs).sort()).toEqual([
      'pacs_anonymize_study',
      'pacs_get_patient_history',
      'pacs_get_study_preview',
      'pacs_list_destinations',
      'pacs_retrieve_study',
      'pacs_search_patients',
      'pacs_search_studies',
      'pacs_send_study',
      'pacs_upload_study',
    ]);
    expect(pacs.pacs_send_study).toMatchObject({ permission: 'pacs:send', requires_confirmation: true });
    expect(pacs.pacs_anonymize_study?.permission).toBe('pacs:anonymize');
    expect(pacs.pacs_get_study_preview?.permission).toBe('pacs:view');
  });

  it('reports the PACS up with a closed breaker', async () => {
    const health = (await t.app.inject({ method: 'GET', url: '/health' })).json();
    expect(health.modules.pacs).toMatchObject({ status: 'up', details: { breaker: 'closed' } });
  });
});

describe('pacs_search_patients / pacs_search_studies', () => {
  it('finds a patient by a lower-case family name (case-insensitive, contains)', async () => {
    const patient = plan.patients[0]!;
    const family = patient.patientName.split('^')[0]!.toLowerCase();
    const result = await ok<{ patients: { patient_id: string; number_of_studies: number }[] }>(
      'pacs_search_patients',
      { patient_name: family },
    );
    expect(result.patients).toContainEqual(
      expect.objectContaining({ patient_id: patient.patientId, number_of_studies: 3 }),
    );
  });

  it('pages through every study exactly once with next_offset', async () => {
    const seen: string[] = [];
    let offset: number | null = 0;
    let pages = 0;
    while (offset !== null) {
      const page: { studies: StudyRow[]; next_offset: number | null } = await ok('pacs_search_studies', {
        limit: 5,
        offset,
      });
      expect(page.studies.length).toBeLessThanOrEqual(5);
      seen.push(...page.studies.map((s) => s.study_instance_uid));
      offset = page.next_offset;
      pages += 1;
    }
    expect(pages).toBe(3);
    expect(seen).toHaveLength(12);
    expect(new Set(seen)).toEqual(new Set(allStudies().map((s) => s.study.studyInstanceUid)));
  });

  it('maps tags to typed fields with ISO dates, modalities and counts', async () => {
    const { patient, study } = allStudies()[0]!;
    const { studies } = await ok<{ studies: Record<string, unknown>[] }>('pacs_search_studies', {
      accession_number: study.accessionNumber,
    });
    expect(studies).toEqual([
      {
        study_instance_uid: study.studyInstanceUid,
        patient_id: patient.patientId,
        patient_name: patient.patientName,
        patient_birth_date: iso(patient.birthDate),
        patient_sex: patient.sex,
        accession_number: study.accessionNumber,
        study_date: iso(study.studyDate),
        study_time: `${study.studyTime.slice(0, 2)}:${study.studyTime.slice(2, 4)}:${study.studyTime.slice(4, 6)}`,
        study_description: study.studyDescription,
        referring_physician_name: study.referringPhysicianName,
        institution_name: plan.institutionName,
        modalities: [study.modality],
        number_of_series: 2,
        number_of_instances: 6,
      },
    ]);
  });

  it('filters by modality, exact date and open or closed ranges inside the query', async () => {
    const search = async (parameters: object) =>
      (await ok<{ studies: StudyRow[] }>('pacs_search_studies', { ...parameters, limit: 100 })).studies
        .map((s) => s.study_instance_uid)
        .sort();
    const expect_ = (keep: (s: SyntheticStudy) => boolean) =>
      allStudies()
        .filter(({ study }) => keep(study))
        .map(({ study }) => study.studyInstanceUid)
        .sort();
    const modality = allStudies()[0]!.study.modality;
    expect(await search({ modality: modality.toLowerCase() })).toEqual(
      expect_((s) => s.modality === modality),
    );
    const dates = allStudies()
      .map(({ study }) => study.studyDate)
      .sort();
    const middle = dates[6]!;
    expect(await search({ study_date: middle })).toEqual(expect_((s) => s.studyDate === middle));
    expect(await search({ study_date: `${middle}-` })).toEqual(expect_((s) => s.studyDate >= middle));
    expect(await search({ study_date: `-${middle}` })).toEqual(expect_((s) => s.studyDate <= middle));
    expect(await search({ study_date: `${dates[2]}-${dates[8]}` })).toEqual(
      expect_((s) => s.studyDate >= dates[2]! && s.studyDate <= dates[8]!),
    );
  });

  it.each([
    ['study_date', { study_date: '20240230' }, /study_date: 20240230 is not a real calendar date/],
    ['study_date', { study_date: '20250101-20240101' }, /study_date: the range is reversed/],
    ['study_date', { study_date: '2024-01-01' }, /study_date: expected YYYYMMDD/],
    ['modality', { modality: 'XX' }, /modality: not a DICOM modality/],
    ['limit', { limit: 101 }, /limit/],
  ])('refuses a bad %s with INVALID_PARAMETERS naming the field', async (field, parameters, message) => {
    const { status, error } = await failed('pacs_search_studies', parameters);
    expect(status).toBe(400);
    expect(error.error_code).toBe('INVALID_PARAMETERS');
    expect(error.message).toMatch(message);
    expect(error.details?.fields).toContainEqual(expect.objectContaining({ field }));
  });
});

describe('pacs_retrieve_study and pacs_get_patient_history', () => {
  it('retrieves a study with its series and, on request, instances and tags', async () => {
    const { patient, study } = allStudies()[1]!;
    const result = await ok<{
      study: StudyRow;
      series: {
        series_instance_uid: string;
        number_of_instances: number;
        instances?: unknown[];
        modality: string;
      }[];
      tags?: Record<string, unknown>;
    }>('pacs_retrieve_study', {
      study_instance_uid: study.studyInstanceUid,
      include_instances: true,
      include_tags: true,
    });
    expect(result.study).toMatchObject({ patient_id: patient.patientId, number_of_instances: 6 });
    expect(result.series.map((s) => s.series_instance_uid)).toEqual(
      study.series.map((s) => s.seriesInstanceUid),
    );
    expect(result.series[0]).toMatchObject({ modality: study.modality, number_of_instances: 3 });
    expect(result.series[0]?.instances).toEqual(
      [1, 2, 3].map((n) => expect.objectContaining({ instance_number: n })),
    );
    expect(result.tags).toMatchObject({
      StudyInstanceUID: study.studyInstanceUid,
      Manufacturer: 'UPC Synthetic',
    });
    expect(result.tags).not.toHaveProperty('PixelData');

    const plain = await ok<Record<string, unknown>>('pacs_retrieve_study', {
      study_instance_uid: study.studyInstanceUid,
    });
    expect(plain).not.toHaveProperty('tags');
    expect((plain.series as object[])[0]).not.toHaveProperty('instances');
  });

  it('answers NOT_FOUND for a UID the PACS does not hold, and says what to do', async () => {
    const { status, error } = await failed('pacs_retrieve_study', {
      study_instance_uid: '1.2.3.4.5.6.7.8.9',
    });
    expect(status).toBe(404);
    expect(error.error_code).toBe('NOT_FOUND');
    expect(error.message).toMatch(
      /no study with StudyInstanceUID 1\.2\.3\.4\.5\.6\.7\.8\.9.*pacs_search_studies/,
    );
  });

  it('gives a newest-first timeline and a per-modality summary', async () => {
    const patient = plan.patients[2]!;
    const history = await ok<{
      patient: { patient_id: string; patient_name: string };
      total_studies: number;
      by_modality: { modality: string; study_count: number; last_study_date?: string }[];
      timeline: { study_instance_uid: string; study_date: string; modalities: string[] }[];
      timeline_truncated: boolean;
    }>('pacs_get_patient_history', { patient_id: patient.patientId });
    expect(history.patient).toMatchObject({
      patient_id: patient.patientId,
      patient_name: patient.patientName,
    });
    expect(history.total_studies).toBe(3);
    const newestFirst = [...patient.studies].sort(
      (a, b) => b.studyDate.localeCompare(a.studyDate) || b.studyTime.localeCompare(a.studyTime),
    );
    expect(history.timeline.map((s) => s.study_instance_uid)).toEqual(
      newestFirst.map((s) => s.studyInstanceUid),
    );
    expect(history.timeline.map((s) => s.study_date)).toEqual(newestFirst.map((s) => iso(s.studyDate)));
    expect(history.timeline[0]).not.toHaveProperty('patient_name');
    const counts = Object.fromEntries(history.by_modality.map((m) => [m.modality, m.study_count]));
    const expected: Record<string, number> = {};
    for (const s of patient.studies) expected[s.modality] = (expected[s.modality] ?? 0) + 1;
    expect(counts).toEqual(expected);

    const modality = patient.studies[0]!.modality;
    const filtered = await ok<typeof history>('pacs_get_patient_history', {
      patient_id: patient.patientId,
      modality,
      limit: 1,
    });
    expect(filtered.timeline).toHaveLength(1);
    expect(filtered.timeline[0]?.modalities).toContain(modality);
    expect(filtered.timeline_truncated).toBe(expected[modality]! > 1);
    expect(filtered.by_modality.map((m) => m.modality)).toEqual([modality]);
  });

  it('answers NOT_FOUND for a patient without studies', async () => {
    const { error } = await failed('pacs_get_patient_history', { patient_id: 'NOBODY-42' });
    expect(error.error_code).toBe('NOT_FOUND');
  });
});

/** Independent of the server's parser: PNG IHDR or the first JPEG SOF segment. */
function decodeImage(bytes: Buffer): { type: 'png' | 'jpeg'; width: number; height: number } {
  if (bytes.subarray(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex'))) {
    expect(bytes.subarray(12, 16).toString('latin1')).toBe('IHDR');
    return { type: 'png', width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  }
  expect(bytes.subarray(0, 2).toString('hex')).toBe('ffd8');
  expect(bytes.subarray(-2).toString('hex')).toBe('ffd9');
  for (let i = 2; i < bytes.length - 8; ) {
    const marker = bytes[i + 1]!;
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return { type: 'jpeg', height: bytes.readUInt16BE(i + 5), width: bytes.readUInt16BE(i + 7) };
    }
    i += 2 + bytes.readUInt16BE(i + 2);
  }
  throw new Error('no JPEG start-of-frame');
}

interface Preview {
  images: {
    mime_type: string;
    data_base64: string;
    width: number;
    height: number;
    series_instance_uid: string;
    sop_instance_uid: string;
    instance_number?: number;
  }[];
  total_instances: number;
}

describe('pacs_get_study_preview', () => {
  it('returns four JPEG images by default, one per series first, middle slice first', async () => {
    const { study } = allStudies()[3]!;
    const preview = await ok<Preview>('pacs_get_study_preview', {
      study_instance_uid: study.studyInstanceUid,
    });
    expect(preview.total_instances).toBe(6);
    expect(preview.images).toHaveLength(4);
    expect(preview.images.slice(0, 2).map((i) => i.series_instance_uid)).toEqual(
      study.series.map((s) => s.seriesInstanceUid),
    );
    expect(preview.images[0]?.instance_number).toBe(2);
    for (const image of preview.images) {
      expect(image.mime_type).toBe('image/jpeg');
      const decoded = decodeImage(Buffer.from(image.data_base64, 'base64'));
      expect(decoded).toEqual({ type: 'jpeg', width: plan.columns, height: plan.rows });
      expect({ width: image.width, height: image.height }).toEqual({
        width: plan.columns,
        height: plan.rows,
      });
    }
  });

  it('returns lossless PNGs, bounded by max_images, optionally for one series', async () => {
    const { study } = allStudies()[4]!;
    const all = await ok<Preview>('pacs_get_study_preview', {
      study_instance_uid: study.studyInstanceUid,
      format: 'png',
      max_images: 8,
    });
    expect(all.images).toHaveLength(6);
    for (const image of all.images) {
      expect(image.mime_type).toBe('image/png');
      expect(decodeImage(Buffer.from(image.data_base64, 'base64'))).toEqual({
        type: 'png',
        width: plan.columns,
        height: plan.rows,
      });
    }
    const series = study.series[1]!.seriesInstanceUid;
    const one = await ok<Preview>('pacs_get_study_preview', {
      study_instance_uid: study.studyInstanceUid,
      series_instance_uid: series,
      max_images: 2,
    });
    expect(one.images.map((i) => i.series_instance_uid)).toEqual([series, series]);
    const { error } = await failed('pacs_get_study_preview', {
      study_instance_uid: study.studyInstanceUid,
      max_images: 9,
    });
    expect(error.error_code).toBe('INVALID_PARAMETERS');
  });
});

/** A new patient, not in the loaded practice, with bigger images than the practice's 64×64. */
function extraStudy(seed: number, rows = 96, columns = 160) {
  const extra = generatePractice({
    seed,
    patients: 1,
    studiesPerPatient: 1,
    seriesPerStudy: 1,
    instancesPerSeries: 2,
    rows,
    columns,
  });
  const patient = extra.patients[0]! as PracticePatient;
  const study = patient.studies[0]!;
  const files = [1, 2].map((n) =>
    Buffer.from(buildInstance(patient, study, study.series[0]!, n, { rows, columns })),
  );
  return { patient, study, files };
}

describe('pacs_upload_study', () => {
  it('stores good files, reports a bad one per file, then finds and previews the upload', async () => {
    const { patient, study, files } = extraStudy(777);
    const upload = await ok<{
      stored: number;
      duplicates: number;
      failed: number;
      files: { index: number; status: string; error?: string; filename?: string }[];
      studies: { study_instance_uid: string; patient_id: string }[];
    }>(
      'pacs_upload_study',
      {
        files: [
          { filename: 'a.dcm', data_base64: files[0]!.toString('base64') },
          { filename: 'notes.txt', data_base64: Buffer.from('this is not DICOM at all').toString('base64') },
          { filename: 'junk', data_base64: '***' },
          { filename: 'b.dcm', data_base64: files[1]!.toString('base64') },
          { filename: 'again.dcm', data_base64: files[0]!.toString('base64') },
        ],
      },
      'radiographer',
    );
    expect(upload).toMatchObject({ stored: 2, duplicates: 1, failed: 2 });
    expect(upload.files.map((f) => f.status)).toEqual(['stored', 'failed', 'failed', 'stored', 'duplicate']);
    expect(upload.files[1]).toMatchObject({ filename: 'notes.txt', error: expect.stringMatching(/DICM/) });
    expect(upload.files[2]?.error).toMatch(/base64/);
    expect(upload.studies).toEqual([
      { study_instance_uid: study.studyInstanceUid, patient_id: patient.patientId },
    ]);

    const { studies } = await ok<{ studies: StudyRow[] }>('pacs_search_studies', {
      patient_id: patient.patientId,
    });
    expect(studies).toEqual([
      expect.objectContaining({ study_instance_uid: study.studyInstanceUid, number_of_instances: 2 }),
    ]);
    const retrieved = await ok<{ series: { number_of_instances: number }[] }>('pacs_retrieve_study', {
      study_instance_uid: study.studyInstanceUid,
    });
    expect(retrieved.series).toEqual([expect.objectContaining({ number_of_instances: 2 })]);

    // 160×96 scaled to fit 80 px: the longer side becomes 80, the aspect ratio stays.
    const preview = await ok<Preview>('pacs_get_study_preview', {
      study_instance_uid: study.studyInstanceUid,
      format: 'png',
      max_dimension: 80,
      max_images: 1,
    });
    const decoded = decodeImage(Buffer.from(preview.images[0]!.data_base64, 'base64'));
    expect(decoded.width).toBe(80);
    expect(decoded.height).toBeGreaterThanOrEqual(47);
    expect(decoded.height).toBeLessThanOrEqual(49);
  });

  it('is forbidden to roles without pacs:upload', async () => {
    const { status, error } = await failed(
      'pacs_upload_study',
      { files: [{ data_base64: 'AAAA' }] },
      'radiologist',
    );
    expect(status).toBe(403);
    expect(error.error_code).toBe('FORBIDDEN');
  });
});

describe('pacs_anonymize_study', () => {
  it('makes a research copy: new UID, pseudonym, descriptions kept, pixels intact', async () => {
    const { patient, study } = allStudies()[5]!;
    const result = await ok<{
      study_instance_uid: string;
      source_study_instance_uid: string;
      patient_id: string;
      instances: number;
    }>(
      'pacs_anonymize_study',
      { study_instance_uid: study.studyInstanceUid, profile: 'research', pseudonym: 'TRIAL-007' },
      'radiologist',
    );
    expect(result).toMatchObject({
      source_study_instance_uid: study.studyInstanceUid,
      patient_id: 'TRIAL-007',
      instances: 6,
    });
    expect(result.study_instance_uid).not.toBe(study.studyInstanceUid);
    expect(result.study_instance_uid).toMatch(/^[0-9.]+$/);

    const [copyId] = await orthanc.json<string[]>('/tools/find', {
      body: JSON.stringify({ Level: 'Study', Query: { StudyInstanceUID: result.study_instance_uid } }),
    });
    const instances = await orthanc.json<{ ID: string }[]>(`/studies/${copyId}/instances`);
    expect(instances).toHaveLength(6);
    const tags = await orthanc.json<Record<string, string>>(`/instances/${instances[0]?.ID}/simplified-tags`);
    expect(tags.PatientName).toBe('TRIAL-007');
    expect(tags.PatientID).toBe('TRIAL-007');
    expect(tags.PatientName).not.toBe(patient.patientName);
    expect(tags.StudyInstanceUID).toBe(result.study_instance_uid);
    expect(tags.PatientBirthDate ?? '').toBe('');
    expect(tags.StudyDescription).toBe(study.studyDescription);
    expect(tags.StudyDate).toBe(study.studyDate);
    // Same pixels as the source image with the same InstanceNumber and series.
    const copyFrame = await orthanc.request(`/instances/${instances[0]?.ID}/frames/0/raw`);
    expect(copyFrame.status).toBe(200);
    expect(copyFrame.body.length).toBe(plan.rows * plan.columns * 2);
    const sources = await orthanc.json<string[]>('/tools/find', {
      body: JSON.stringify({
        Level: 'Instance',
        Query: {
          StudyInstanceUID: study.studyInstanceUid,
          SeriesNumber: tags.SeriesNumber,
          InstanceNumber: tags.InstanceNumber,
        },
      }),
    });
    expect(sources).toHaveLength(1);
    const sourceFrame = await orthanc.request(`/instances/${sources[0]}/frames/0/raw`);
    expect(copyFrame.body.equals(sourceFrame.body)).toBe(true);
    // The original is untouched.
    const original = await ok<{ study: StudyRow }>('pacs_retrieve_study', {
      study_instance_uid: study.studyInstanceUid,
    });
    expect(original.study.patient_id).toBe(patient.patientId);

    // Ordinary searches leave the derived copy out; include_anonymized lists it.
    const ordinary = await ok<{ studies: StudyRow[] }>('pacs_search_studies', { patient_id: 'TRIAL-007' });
    expect(ordinary.studies).toEqual([]);
    const withCopies = await ok<{ studies: StudyRow[] }>('pacs_search_studies', {
      patient_id: 'TRIAL-007',
      include_anonymized: true,
    });
    expect(withCopies.studies.map((s) => s.study_instance_uid)).toEqual([result.study_instance_uid]);
    const byDescription = await ok<{ studies: StudyRow[] }>('pacs_search_studies', {
      study_description: study.studyDescription,
      limit: 100,
    });
    const uids = byDescription.studies.map((s) => s.study_instance_uid);
    expect(uids).toContain(study.studyInstanceUid);
    expect(uids).not.toContain(result.study_instance_uid);
  });

  it('basic profile: Orthanc invents the identity; a pseudonym is refused', async () => {
    const { patient, study } = allStudies()[6]!;
    const result = await ok<{ patient_id: string; study_instance_uid: string }>('pacs_anonymize_study', {
      study_instance_uid: study.studyInstanceUid,
    });
    expect(result.patient_id).not.toBe(patient.patientId);
    expect(result.study_instance_uid).not.toBe(study.studyInstanceUid);
    const { error } = await failed('pacs_anonymize_study', {
      study_instance_uid: study.studyInstanceUid,
      profile: 'basic',
      pseudonym: 'X1',
    });
    expect(error.error_code).toBe('INVALID_PARAMETERS');
    expect(
      (await failed('pacs_anonymize_study', { study_instance_uid: study.studyInstanceUid }, 'radiographer'))
        .status,
    ).toBe(403);
  });
});

describe('pacs_list_destinations / pacs_send_study', () => {
  async function confirmed(parameters: object, role: Role = 'radiologist') {
    const first = await call('pacs_send_study', parameters, role);
    expect(first.statusCode, first.body).toBe(409);
    const token = (first.json() as Failed).error.details?.confirmation_token as string;
    expect(token).toBeTruthy();
    return t.app.inject({
      method: 'POST',
      url: '/mcp/v1/invoke',
      headers: { authorization: `Bearer ${await t.tokenFor(role)}` },
      payload: { tool: 'pacs_send_study', parameters, context: { confirmation_token: token } },
    });
  }

  it('lists the configured peer', async () => {
    const { destinations } = await ok<{ destinations: unknown[] }>(
      'pacs_list_destinations',
      {},
      'radiologist',
    );
    expect(destinations).toEqual([
      {
        name: 'PEER',
        aet: peer.aet,
        host: '127.0.0.1',
        port: peer.dicomPort,
        manufacturer: 'Generic',
        allows_store: true,
      },
    ]);
  });

  it('sends a study after confirmation; the peer then holds it', async () => {
    const { study } = allStudies()[7]!;
    const response = await confirmed({ study_instance_uid: study.studyInstanceUid, destination: 'PEER' });
    expect(response.statusCode, response.body).toBe(200);
    expect((response.json() as Ok<unknown>).result).toMatchObject({
      destination: 'PEER',
      destination_aet: peer.aet,
      status: 'completed',
      instances_sent: 6,
      instances_failed: 0,
    });
    const received = await peer.json<{ Series: string[] }[]>('/tools/find', {
      body: JSON.stringify({
        Level: 'Study',
        Query: { StudyInstanceUID: study.studyInstanceUid },
        Expand: true,
      }),
    });
    expect(received).toHaveLength(1);
    expect(received[0]?.Series).toHaveLength(2);
  });

  it('names the known destinations when asked for an unknown one, before asking anyone to confirm', async () => {
    const { study } = allStudies()[7]!;
    const response = await call(
      'pacs_send_study',
      { study_instance_uid: study.studyInstanceUid, destination: 'NOWHERE' },
      'radiologist',
    );
    expect(response.statusCode).toBe(404);
    expect((response.json() as Failed).error.message).toMatch(
      /No DICOM destination named "NOWHERE". Known: PEER/,
    );
  });
});

describe('patient scope (referring doctor)', () => {
  let doctor: { token: string };
  let p1: PracticePatient;
  let p2: PracticePatient;
  beforeAll(async () => {
    [p1, p2] = [plan.patients[0]!, plan.patients[1]!];
    doctor = {
      token: await t.tokenFor('referring_doctor', { subject: 'dr-naidoo', patients: [p1.patientId] }),
    };
  });

  it('sees only their patients in searches, with exact paging', async () => {
    const { patients } = await ok<{ patients: { patient_id: string }[] }>('pacs_search_patients', {}, doctor);
    expect(patients.map((p) => p.patient_id)).toEqual([p1.patientId]);
    const wildcard = await ok<{ patients: { patient_id: string }[] }>(
      'pacs_search_patients',
      { patient_id: 'UPC*' },
      doctor,
    );
    expect(wildcard.patients.map((p) => p.patient_id)).toEqual([p1.patientId]);

    const first = await ok<{ studies: StudyRow[]; next_offset: number | null }>(
      'pacs_search_studies',
      { limit: 2 },
      doctor,
    );
    expect(first.studies).toHaveLength(2);
    expect(first.next_offset).toBe(2);
    const second = await ok<{ studies: StudyRow[]; next_offset: number | null }>(
      'pacs_search_studies',
      { limit: 2, offset: 2 },
      doctor,
    );
    expect(second.studies).toHaveLength(1);
    expect(second.next_offset).toBeNull();
    const uids = [...first.studies, ...second.studies].map((s) => s.study_instance_uid).sort();
    expect(uids).toEqual(p1.studies.map((s) => s.studyInstanceUid).sort());
    expect(new Set([...first.studies, ...second.studies].map((s) => s.patient_id))).toEqual(
      new Set([p1.patientId]),
    );
  });

  it('gets OUT_OF_SCOPE for another patient, by study, history, preview or explicit search', async () => {
    const other = p2.studies[0]!.studyInstanceUid;
    for (const [tool, parameters] of [
      ['pacs_retrieve_study', { study_instance_uid: other }],
      ['pacs_get_study_preview', { study_instance_uid: other }],
      ['pacs_get_patient_history', { patient_id: p2.patientId }],
      ['pacs_search_studies', { patient_id: p2.patientId }],
    ] as const) {
      const { status, error } = await failed(tool, parameters, doctor);
      expect({ tool, status, code: error.error_code }).toEqual({ tool, status: 403, code: 'OUT_OF_SCOPE' });
    }
    const own = await ok<{ study: StudyRow }>(
      'pacs_retrieve_study',
      { study_instance_uid: p1.studies[0]!.studyInstanceUid },
      doctor,
    );
    expect(own.study.patient_id).toBe(p1.patientId);
  });

  it('sees nothing at all with an empty scope', async () => {
    const nobody = { token: await t.tokenFor('referring_doctor', { subject: 'dr-new', patients: [] }) };
    expect(await ok('pacs_search_studies', {}, nobody)).toEqual({ studies: [], next_offset: null });
  });
});

describe('long work: progress and cancellation (handlers called directly)', () => {
  let tools: Map<string, AnyTool>;
  let close: () => Promise<void>;
  beforeAll(() => {
    const client = orthancFromConfig(
      testConfig({
        ORTHANC_URL: orthanc.url,
        ORTHANC_USERNAME: orthanc.username,
        ORTHANC_PASSWORD: orthanc.password,
      }),
    );
    tools = new Map(pacsTools(client).map((tool) => [tool.name, tool]));
    close = () => client.close();
  });
  afterAll(() => close());

  function context(signal: AbortSignal, progress: ProgressUpdate[], touched: string[]): CallContext {
    return {
      requestId: 'test',
      principal: { subject: 'tester', role: 'admin' },
      door: 'rest',
      log: t.app.log,
      signal,
      reportProgress: (update) => progress.push(update),
      patientScope: async () => ({ kind: 'all' }),
      touchPatients: (...ids) => touched.push(...ids),
      mayView: () => true,
      invoke: () => Promise.reject(new Error('PACS tools call no other tool')),
    };
  }

  async function run(
    name: string,
    parameters: Record<string, unknown>,
    signal = new AbortController().signal,
  ) {
    const tool = tools.get(name)!;
    const progress: ProgressUpdate[] = [];
    const touched: string[] = [];
    const result = await tool.handler(tool.input.parse(parameters), context(signal, progress, touched));
    return { result: result as Record<string, unknown>, progress, touched };
  }

  it('upload reports progress per file and the touched patient', async () => {
    const { patient, files } = extraStudy(888);
    const { result, progress, touched } = await run('pacs_upload_study', {
      files: files.map((f) => ({ data_base64: f.toString('base64') })),
    });
    expect(result).toMatchObject({ stored: 2, failed: 0 });
    expect(progress.map((p) => [p.progress, p.total])).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect(touched).toEqual([patient.patientId]);
  });

  it('upload stops between files once cancelled', async () => {
    const { files } = extraStudy(889);
    const controller = new AbortController();
    controller.abort();
    await expect(
      run(
        'pacs_upload_study',
        { files: files.map((f) => ({ data_base64: f.toString('base64') })) },
        controller.signal,
      ),
    ).rejects.toMatchObject({ code: 'CONFLICT', details: { processed: 0 } });
    const { studies } = await ok<{ studies: unknown[] }>('pacs_search_studies', {
      patient_id: extraStudy(889).patient.patientId,
    });
    expect(studies).toEqual([]);
  });

  it('anonymisation reports job progress up to 100 %', async () => {
    const { study } = allStudies()[8]!;
    const { result, progress } = await run('pacs_anonymize_study', {
      study_instance_uid: study.studyInstanceUid,
      profile: 'teaching',
    });
    expect(result.patient_name).toBe('TEACHING^CASE');
    expect(String(result.patient_id)).toMatch(/^TEACH-/);
    expect(progress.at(-1)).toMatchObject({ progress: 100, total: 100 });
  });
});
