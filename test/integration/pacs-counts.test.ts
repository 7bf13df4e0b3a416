/**
 * Study rows carry modalities and counts computed from the study's series. Issue 25 made them cheaper to
 * get from Orthanc: one `/tools/bulk-content` of the page's series on Orthanc 1.10, or the computed
 * `RequestedTags` of the study find itself on Orthanc 1.11+. This file checks, with studies whose series
 * have different modalities and instance counts, that the answers are the same whichever way they were
 * computed, and agree with Orthanc's own QIDO-RS; and how many requests each read costs Orthanc.
 *
 * Only Orthanc 1.10.1 is installed here, so a proxy plays the newer server: it announces 1.12 in `/system`
 * and answers `RequestedTags` the way Orthanc 1.11+ computes them (ServerContext ComputeStudyTags: the set of
 * the series' Modality values joined with `\`, and the counts as strings). A second proxy announces 1.12
 * but ignores `RequestedTags`, as a 1.10 behind a rewriting proxy would.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildInstance,
  generatePractice,
  type PracticePatient,
  type PracticePlan,
  type SyntheticStudy,
} from '../../src/dicom/synthetic.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import {
  loadSyntheticPractice,
  type OrthancHandle,
  startOrthanc,
  uploadInstances,
} from '../harness/orthanc.js';

type Mode = 'orthanc-1.10' | 'emulated-1.12' | 'announces-1.12';

interface SeenRequest {
  method: string;
  path: string;
  body: string;
}

interface OrthancProxy {
  url: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** The tags Orthanc 1.11+ computes for a study, from the study's series, as it serialises them. */
async function computedStudyTags(orthanc: OrthancHandle, studyId: string) {
  const series = await orthanc.json<{ MainDicomTags: { Modality?: string }; Instances: string[] }[]>(
    `/studies/${studyId}/series`,
  );
  const modalities = [...new Set(series.map((s) => s.MainDicomTags.Modality ?? ''))].sort();
  return {
    ModalitiesInStudy: modalities.join('\\'),
    NumberOfStudyRelatedSeries: String(series.length),
    NumberOfStudyRelatedInstances: String(series.reduce((n, s) => n + s.Instances.length, 0)),
  };
}

/** An HTTP proxy in front of the real Orthanc that records every request and plays `mode`. */
async function startOrthancProxy(orthanc: OrthancHandle, mode: Mode): Promise<OrthancProxy> {
  const requests: SeenRequest[] = [];
  const server: Server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      const method = (request.method ?? 'GET') as 'GET' | 'POST' | 'PUT' | 'DELETE';
      const path = request.url ?? '/';
      requests.push({ method, path, body });
      const json = (value: unknown) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(value));
      };
      if (mode !== 'orthanc-1.10' && path === '/system') {
        const system = await orthanc.json<Record<string, unknown>>('/system');
        return json({ ...system, Version: '1.12.10', ApiVersion: 28 });
      }
      if (mode === 'emulated-1.12' && path === '/tools/find') {
        const { RequestedTags: requested, ...find } = JSON.parse(body) as Record<string, unknown>;
        const rows = await orthanc.json<{ ID: string }[]>('/tools/find', { body: JSON.stringify(find) });
        if (!Array.isArray(requested) || find.Level !== 'Study' || find.Expand !== true) return json(rows);
        const answered = [];
        for (const row of rows) {
          const tags = (await computedStudyTags(orthanc, row.ID)) as Record<string, string>;
          const wanted = Object.fromEntries(requested.map((tag: string) => [tag, tags[tag]]));
          answered.push({ ...row, RequestedTags: wanted });
        }
        return json(answered);
      }
      const upstream = await orthanc.request(path, {
        method,
        ...(body ? { body, contentType: request.headers['content-type'] ?? 'application/json' } : {}),
      });
      response.writeHead(upstream.status, {
        'content-type': String(upstream.headers['content-type'] ?? 'application/octet-stream'),
      });
      response.end(upstream.body);
    })().catch((error: unknown) => {
      response.writeHead(502);
      response.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let orthanc: OrthancHandle;
let plan: PracticePlan;
/** A patient whose one study has a CT series of 3 images, an MR series of 1 and a CR series of 2. */
let mixed: { patient: PracticePatient; study: SyntheticStudy; orthancId: string };
const setups = new Map<Mode, { proxy: OrthancProxy; t: TestApp }>();

beforeAll(async () => {
  orthanc = await startOrthanc();
  plan = await loadSyntheticPractice(orthanc, {
    seed: 2525,
    patients: 3,
    studiesPerPatient: 2,
    seriesPerStudy: 2,
    instancesPerSeries: 2,
  });
  const extra = generatePractice({
    seed: 2526,
    patients: 1,
    studiesPerPatient: 1,
    seriesPerStudy: 3,
    instancesPerSeries: 3,
  });
  const patient = extra.patients[0]!;
  const study = patient.studies[0]!;
  const layout = [
    { modality: 'CT', images: 3 },
    { modality: 'MR', images: 1 },
    { modality: 'CR', images: 2 },
  ] as const;
  const files = layout.flatMap(({ modality, images }, i) =>
    Array.from({ length: images }, (_, n) =>
      buildInstance(patient, { ...study, modality }, study.series[i]!, n + 1),
    ),
  );
  const uploaded = await uploadInstances(orthanc, files);
  expect(uploaded).toMatchObject({ stored: 6, failed: 0 });
  const [orthancId] = await orthanc.json<string[]>('/tools/find', {
    body: JSON.stringify({ Level: 'Study', Query: { StudyInstanceUID: study.studyInstanceUid } }),
  });
  mixed = { patient, study, orthancId: orthancId ?? '' };
  for (const mode of ['orthanc-1.10', 'emulated-1.12', 'announces-1.12'] as const) {
    const proxy = await startOrthancProxy(orthanc, mode);
    const t = await startTestApp({
      ORTHANC_URL: proxy.url,
      ORTHANC_USERNAME: orthanc.username,
      ORTHANC_PASSWORD: orthanc.password,
      ORTHANC_TIMEOUT_MS: '10000',
      // Every call must reach Orthanc here.
      PACS_CACHE_TTL_MS: '0',
    });
    setups.set(mode, { proxy, t });
  }
});

afterAll(async () => {
  for (const { proxy, t } of setups.values()) {
    await t.close();
    await proxy.close();
  }
  await orthanc?.stop();
});

function setup(mode: Mode) {
  const found = setups.get(mode);
  if (!found) throw new Error(`no setup ${mode}`);
  return found;
}

async function call(mode: Mode, tool: string, parameters: Record<string, unknown>, as?: { token: string }) {
  const response = await setup(mode).t.invoke(tool, parameters, as ?? 'admin');
  expect(response.statusCode, response.body).toBe(200);
  return response.json().result as Record<string, unknown>;
}

/** The Orthanc requests one tool call makes (after the one-time `/system` look-up). */
async function requestsOf(mode: Mode, tool: string, parameters: Record<string, unknown>) {
  await call(mode, tool, parameters);
  const { proxy } = setup(mode);
  const from = proxy.requests.length;
  await call(mode, tool, parameters);
  return proxy.requests.slice(from).map((r) => `${r.method} ${r.path.split('?')[0]}`);
}

interface StudyRow {
  study_instance_uid: string;
  modalities: string[];
  number_of_series: number;
  number_of_instances: number;
}

const MODES = ['orthanc-1.10', 'emulated-1.12', 'announces-1.12'] as const;

describe('study rows: modalities and counts', () => {
  it('lists every modality of a mixed study and counts its series and images, on every server', async () => {
    for (const mode of MODES) {
      const { studies } = (await call(mode, 'pacs_search_studies', {
        patient_id: mixed.patient.patientId,
      })) as { studies: StudyRow[] };
      expect({ mode, studies }).toEqual({
        mode,
        studies: [
          expect.objectContaining({
            study_instance_uid: mixed.study.studyInstanceUid,
            modalities: ['CR', 'CT', 'MR'],
            number_of_series: 3,
            number_of_instances: 6,
          }),
        ],
      });
    }
  });

  it('agree with Orthanc’s own QIDO-RS for every study', async () => {
    const qido = await orthanc.json<Record<string, { Value?: (string | number)[] }>[]>(
      '/dicom-web/studies?includefield=ModalitiesInStudy&includefield=NumberOfStudyRelatedSeries' +
        '&includefield=NumberOfStudyRelatedInstances',
    );
    const expected = qido
      .map((s) => ({
        study_instance_uid: String(s['0020000D']?.Value?.[0]),
        modalities: (s['00080061']?.Value ?? []).map(String).sort(),
        number_of_series: Number(s['00201206']?.Value?.[0]),
        number_of_instances: Number(s['00201208']?.Value?.[0]),
      }))
      .sort((a, b) => a.study_instance_uid.localeCompare(b.study_instance_uid));
    expect(expected).toHaveLength(plan.counts.studies + 1);
    for (const mode of MODES) {
      const { studies } = (await call(mode, 'pacs_search_studies', { limit: 100 })) as {
        studies: StudyRow[];
      };
      const got = studies
        .map(({ study_instance_uid, modalities, number_of_series, number_of_instances }) => ({
          study_instance_uid,
          modalities,
          number_of_series,
          number_of_instances,
        }))
        .sort((a, b) => a.study_instance_uid.localeCompare(b.study_instance_uid));
      expect({ mode, studies: got }).toEqual({ mode, studies: expected });
    }
  });

  it('gives identical answers whichever way Orthanc computed them', async () => {
    const patient = plan.patients[1]!;
    const calls: [string, Record<string, unknown>][] = [
      ['pacs_search_studies', { limit: 100 }],
      ['pacs_search_studies', { limit: 3, offset: 3 }],
      ['pacs_search_studies', { modality: 'MR' }],
      ['pacs_search_studies', { patient_id: patient.patientId }],
      ['pacs_search_patients', { patient_id: mixed.patient.patientId }],
      ['pacs_get_patient_history', { patient_id: mixed.patient.patientId }],
      ['pacs_get_patient_history', { patient_id: patient.patientId, modality: patient.studies[0]!.modality }],
      ['pacs_retrieve_study', { study_instance_uid: mixed.study.studyInstanceUid }],
    ];
    for (const [tool, parameters] of calls) {
      const [reference, ...others] = await Promise.all(MODES.map((mode) => call(mode, tool, parameters)));
      for (const other of others)
        expect({ tool, parameters, answer: other }).toEqual({
          tool,
          parameters,
          answer: reference,
        });
    }
    const history = (await call('orthanc-1.10', 'pacs_get_patient_history', {
      patient_id: mixed.patient.patientId,
    })) as { by_modality: { modality: string; study_count: number }[] };
    expect(history.by_modality.map((m) => [m.modality, m.study_count])).toEqual([
      ['CR', 1],
      ['CT', 1],
      ['MR', 1],
    ]);
    const retrieved = (await call('orthanc-1.10', 'pacs_retrieve_study', {
      study_instance_uid: mixed.study.studyInstanceUid,
    })) as { study: StudyRow; series: { modality: string; number_of_instances: number }[] };
    expect(retrieved.study).toMatchObject({ modalities: ['CR', 'CT', 'MR'], number_of_instances: 6 });
    expect(retrieved.series.map((s) => [s.modality, s.number_of_instances])).toEqual([
      ['CT', 3],
      ['MR', 1],
      ['CR', 2],
    ]);
  });
});

describe('what each read asks Orthanc', () => {
  const uid = () => mixed.study.studyInstanceUid;
  const patientId = () => mixed.patient.patientId;

  it('Orthanc 1.10: the study find, then one bulk read of the page’s series', async () => {
    expect(await requestsOf('orthanc-1.10', 'pacs_search_studies', { limit: 25 })).toEqual([
      'POST /tools/find',
      'POST /tools/bulk-content',
    ]);
    expect(await requestsOf('orthanc-1.10', 'pacs_get_patient_history', { patient_id: patientId() })).toEqual(
      ['POST /tools/find', 'POST /tools/bulk-content'],
    );
    expect(await requestsOf('orthanc-1.10', 'pacs_search_patients', { patient_id: patientId() })).toEqual([
      'POST /tools/find',
    ]);
    expect(await requestsOf('orthanc-1.10', 'pacs_retrieve_study', { study_instance_uid: uid() })).toEqual([
      'POST /tools/find',
      `GET /studies/${mixed.orthancId}/series`,
    ]);
  });

  it('Orthanc 1.11+: the study find alone, its rows computed by Orthanc', async () => {
    expect(await requestsOf('emulated-1.12', 'pacs_search_studies', { limit: 25 })).toEqual([
      'POST /tools/find',
    ]);
    expect(
      await requestsOf('emulated-1.12', 'pacs_get_patient_history', { patient_id: patientId() }),
    ).toEqual(['POST /tools/find']);
    const find = setup('emulated-1.12').proxy.requests.findLast((r) => r.path === '/tools/find');
    expect(JSON.parse(find?.body ?? '{}')).toMatchObject({
      Level: 'Study',
      Expand: true,
      RequestedTags: ['ModalitiesInStudy', 'NumberOfStudyRelatedSeries', 'NumberOfStudyRelatedInstances'],
    });
  });

  it('asks /system once, and stops asking for RequestedTags a server announced but did not answer', async () => {
    for (const mode of MODES) {
      const system = setup(mode).proxy.requests.filter((r) => r.path === '/system');
      // The module's start-up check, then the one look-up of the features.
      expect({ mode, asked: system.length }).toEqual({ mode, asked: 2 });
    }
    const finds = setup('announces-1.12').proxy.requests.filter(
      (r) => r.path === '/tools/find' && JSON.parse(r.body).Level === 'Study',
    );
    expect(finds.filter((r) => r.body.includes('RequestedTags'))).toHaveLength(1);
    expect(await requestsOf('announces-1.12', 'pacs_search_studies', { patient_id: patientId() })).toEqual([
      'POST /tools/find',
      'POST /tools/bulk-content',
    ]);
  });

  it('reads the series of the caller’s own patients only', async () => {
    const { t, proxy } = setup('orthanc-1.10');
    const own = plan.patients[2]!;
    const doctor = { token: await t.tokenFor('referring_doctor', { patients: [own.patientId] }) };
    const from = proxy.requests.length;
    const { studies } = (await call('orthanc-1.10', 'pacs_search_studies', {}, doctor)) as {
      studies: (StudyRow & { patient_id: string })[];
    };
    expect(studies.map((s) => s.patient_id)).toEqual(own.studies.map(() => own.patientId));
    const [find, bulk] = proxy.requests.slice(from);
    expect(JSON.parse(find?.body ?? '{}').Query).toEqual({ PatientID: own.patientId });
    const ownSeries = await orthanc.json<string[]>('/tools/find', {
      body: JSON.stringify({ Level: 'Series', Query: { PatientID: own.patientId } }),
    });
    expect([...JSON.parse(bulk?.body ?? '{}').Resources].sort()).toEqual([...ownSeries].sort());
  });
});
